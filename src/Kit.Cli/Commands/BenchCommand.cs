using Kit.Runtime;
using System.CommandLine;
using Kit.Benchmarks;
using Kit.Evaluation.Results;
using Kit.Cli.Benchmarks;
using Kit.Inference.Kernels;
using Kit.Quantization;
using Kit.Reports;

namespace Kit.Cli.Commands;

/// <summary>
/// <c>kit bench --model M</c>: generation speed and memory of a model; <c>kit bench compare</c> several models and
/// llama.cpp in one process; <c>kit bench llama-cpp</c> llama.cpp alone; <c>kit bench gptq</c> GPTQ on one layer;
/// <c>kit bench kernels</c> the packed matmul kernels on layer shapes; <c>kit bench sweep</c> models × batch sizes × prompt
/// lengths into the results table; <c>kit bench serve</c> (<see cref="BenchServeCommand"/>) concurrent clients on an OpenAI-compatible server.
/// </summary>
internal static class BenchCommand
{
    /// <summary>The options every generation benchmark shares.</summary>
    sealed class RunOptions
    {
        public readonly Option<int> Batch = new("--batch") { Description = "Sequences decoded together", DefaultValueFactory = _ => 1 };
        public readonly Option<int> PromptTokens = new("--prompt-tokens") { Description = "Random prompt ids per sequence", DefaultValueFactory = _ => 64 };
        public readonly Option<int> NewTokens = new("--new-tokens") { Description = "Generated tokens per sequence and run", DefaultValueFactory = _ => 32 };
        public readonly Option<int> Repeats = new("--repeats") { Description = "Timed runs after one warm-up", DefaultValueFactory = _ => 3 };
        public readonly Option<int> Seed = new("--seed") { Description = "Seed of the prompt ids", DefaultValueFactory = _ => 0 };
        public readonly Option<string> Device = new("--device") { Description = "cpu, cuda, cuda:N or auto", DefaultValueFactory = _ => "cpu" };
        public readonly Option<string> DType = CliSupport.DTypeOption();
        public readonly Option<string> Prefill = CliSupport.PrefillOption();
        public readonly Option<int> LlamaThreads = new("--llama-threads") { Description = "llama.cpp's threads", DefaultValueFactory = _ => 2 };
        public readonly Option<bool> Json = CliSupport.JsonOption();

        public void AddTo(Command command)
        {
            foreach (var option in new Option[] { Batch, PromptTokens, NewTokens, Repeats, Seed, Device, DType, Prefill, LlamaThreads, Json })
                command.Options.Add(option);
        }

        public InferenceBenchmarkOptions For(ParseResult r, string model, double? bandwidth) => new()
        {
            Model = model, Batch = r.GetValue(Batch), PromptTokens = r.GetValue(PromptTokens), NewTokens = r.GetValue(NewTokens),
            Repeats = r.GetValue(Repeats), Seed = r.GetValue(Seed), Device = r.GetValue(Device)!, DType = r.GetValue(DType)!, BandwidthGBps = bandwidth,
            BFloat16Prefill = CliSupport.ParsePrefill(r.GetValue(Prefill)!),
        };

        public LlamaCppBenchmarkResult LlamaCpp(ParseResult r, string gguf, Action<string>? log) =>
            LlamaCppBenchmark.Run(gguf, r.GetValue(PromptTokens), r.GetValue(NewTokens), r.GetValue(Repeats), r.GetValue(LlamaThreads), r.GetValue(Seed), log);
    }

    public static Command Create()
    {
        var model = new Option<string>("--model", "-m") { Description = "A model folder, compressed-tensors folder, .gguf file, hub id or 'default'" };
        var llamaCpp = new Option<string?>("--llama-cpp") { Description = "Also measure llama.cpp on this GGUF file, same prompt and tokens (batch 1)" };
        var run = new RunOptions();
        var bench = new Command("bench", "Measure generation speed and memory of a model (or see the subcommands)") { model, llamaCpp };
        run.AddTo(bench);
        bench.SetAction(r => CliSupport.Run(() =>
        {
            var name = r.GetValue(model);
            if (string.IsNullOrWhiteSpace(name)) throw new ArgumentException("--model is required (a folder, .gguf file, hub id or 'default'), or use a subcommand: compare, llama-cpp, gptq, kernels");
            var options = run.For(r, name, null);
            options.Validate();
            var gguf = r.GetValue(llamaCpp);
            CliSupport.RejectIgnored(r, run.LlamaThreads, gguf is null, "sets llama.cpp's threads; give --llama-cpp too");
            if (gguf != null && options.Batch != 1) throw new ArgumentException("--llama-cpp measures batch 1 only; drop --batch or --llama-cpp");
            bool asJson = r.GetValue(run.Json);
            var (result, llama) = TerminalProgress.StandardError().Run(scope =>
            {
                var steps = scope.Line("benchmarking");
                steps.Report(0, name);
                var kit = InferenceBenchmark.Run(options, scope.Log);
                steps.Report(gguf is null ? 1 : 0.5, gguf is null ? name : "llama.cpp");
                var cpp = gguf is null ? null : run.LlamaCpp(r, gguf, scope.Log);
                steps.Report(1, "done");
                return (kit, cpp);
            });
            if (asJson) CliSupport.PrintJson(new { kit = result, llama_cpp = llama });
            else
            {
                Print(result);
                if (llama != null) Print(llama, result.Timings.DecodeTokensPerSecond.Median);
            }
            return 0;
        }));
        bench.Subcommands.Add(Compare());
        bench.Subcommands.Add(Sweep());
        bench.Subcommands.Add(BenchServeCommand.Create());
        bench.Subcommands.Add(LlamaCpp());
        bench.Subcommands.Add(Gptq());
        bench.Subcommands.Add(Kernels());
        return bench;
    }

    static Command Compare()
    {
        var models = new Option<string>("--models") { Description = "Comma-separated models, measured in order; ratios are against the first", Required = true };
        var gguf = new Option<string?>("--gguf") { Description = "Also measure llama.cpp on this GGUF file (batch 1)" };
        var run = new RunOptions();
        var command = new Command("compare", "Measure several models, and llama.cpp on a GGUF file, one after another in this process") { models, gguf };
        run.AddTo(command);
        command.SetAction(r => CliSupport.Run(() =>
        {
            var names = r.GetValue(models)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (names.Length == 0) throw new ArgumentException("--models: give at least one model");
            var file = r.GetValue(gguf);
            CliSupport.RejectIgnored(r, run.LlamaThreads, file is null, "sets llama.cpp's threads; give --gguf too");
            run.For(r, names[0], null).Validate();
            if (file != null && r.GetValue(run.Batch) != 1) throw new ArgumentException("--gguf (llama.cpp) measures batch 1 only; drop --batch or --gguf");
            var (bandwidth, results, llama) = TerminalProgress.StandardError().Run(scope =>
            {
                int total = names.Length + (file is null ? 0 : 1);
                var steps = scope.Line("benchmarking");
                steps.Report(0, "memory bandwidth");
                double gbps = KernelBenchmark.MemoryBandwidthGBps();
                scope.Log($"memory bandwidth {gbps:F1} GB/s");
                var kit = names.Select((n, i) =>
                {
                    steps.Report(i / (double)total, n);
                    return InferenceBenchmark.Run(run.For(r, n, gbps), scope.Log);
                }).ToList();
                steps.Report(names.Length / (double)total, "llama.cpp");
                var cpp = file is null ? null : run.LlamaCpp(r, file, scope.Log);
                steps.Report(1, "done");
                return (gbps, kit, cpp);
            });
            if (r.GetValue(run.Json)) CliSupport.PrintJson(new { bandwidth_gbps = bandwidth, kit = results, llama_cpp = llama });
            else PrintTable(results, llama);
            return 0;
        }));
        return command;
    }

    static Command Sweep()
    {
        var models = new Option<string>("--models") { Description = "Comma-separated models, measured in order", Required = true };
        var batch = new Option<string>("--batch") { Description = "Comma-separated batch sizes", DefaultValueFactory = _ => "1,4,16" };
        var promptTokens = new Option<string>("--prompt-tokens") { Description = "Comma-separated prompt lengths (random ids)", DefaultValueFactory = _ => "128" };
        var newTokens = new Option<int>("--new-tokens") { Description = "Generated tokens per sequence and run", DefaultValueFactory = _ => 16 };
        var repeats = new Option<int>("--repeats") { Description = "Timed runs per point after one warm-up per model", DefaultValueFactory = _ => 1 };
        var seed = new Option<int>("--seed") { Description = "Seed of the prompt ids", DefaultValueFactory = _ => 0 };
        var device = new Option<string>("--device") { Description = "cpu, cuda, cuda:N or auto", DefaultValueFactory = _ => "cpu" };
        var dtype = CliSupport.DTypeOption();
        var runs = new Option<string>("--runs") { Description = "Folder of the results table (results.csv, results.parquet) the rows are appended to", DefaultValueFactory = _ => "runs" };
        var json = CliSupport.JsonOption();
        var command = new Command("sweep", "Measure every model at every batch size and prompt length (time to first token, tokens/s, memory, roofline) into the results table")
        { models, batch, promptTokens, newTokens, repeats, seed, device, dtype, runs, json };
        command.SetAction(r => CliSupport.Run(() =>
        {
            var options = new SpeedSweepOptions
            {
                Models = r.GetValue(models)!.Split(',', StringSplitOptions.TrimEntries), Batches = Sizes("--batch", r.GetValue(batch)!),
                PromptTokens = Sizes("--prompt-tokens", r.GetValue(promptTokens)!), NewTokens = r.GetValue(newTokens), Repeats = r.GetValue(repeats),
                Seed = r.GetValue(seed), Device = r.GetValue(device)!, DType = r.GetValue(dtype)!,
            };
            options.Validate();
            var time = DateTime.UtcNow;
            string runId = $"{time:yyyyMMdd-HHmmss}-{Guid.NewGuid().ToString("N")[..6]}";
            var result = SpeedSweep.Run(options, Console.Error.WriteLine);
            string folder = r.GetValue(runs)!;
            ResultsTable.Append(folder, SpeedRecords.From(result, runId, time));
            string table = Path.Combine(folder, ResultsTable.CsvFile);
            var crossovers = Crossovers(result);
            string report = SpeedReport.Write(result, crossovers, folder, runId);
            if (r.GetValue(json)) CliSupport.PrintJson(new { run_id = runId, results_table = table, report, sweep = result, crossovers });
            else
            {
                PrintSweep(result, crossovers, runId, table);
                Console.WriteLine($"report: {report}");
            }
            return 0;
        }));
        return command;
    }

    static int[] Sizes(string option, string text) => text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
        .Select(s => int.TryParse(s, out int n) ? n : throw new ArgumentException($"{option}: '{s}' is not a whole number")).ToArray();

    // Every later model against the first, at each prompt length: where its batch decode throughput overtakes.
    static IReadOnlyList<Crossover> Crossovers(SpeedSweepResult x)
    {
        var points = x.Points.Select(ThroughputPoint.BatchDecode).ToArray();
        var models = x.Points.Select(p => p.Model).Distinct().ToArray();
        return x.Points.Select(p => p.PromptTokens).Distinct()
            .SelectMany(prompt => models.Skip(1).Select(m => Crossover.Find(points, m, models[0], prompt))).ToArray();
    }

    static void PrintSweep(SpeedSweepResult x, IReadOnlyList<Crossover> crossovers, string runId, string table)
    {
        var m = x.Machine;
        Console.WriteLine($"machine: bandwidth {m.BandwidthGBps:F1} GB/s, float32 GEMM {m.Float32GFlops:F0} GFLOP/s, Kit int8 GEMM {m.Int8GOps:F0} GOP/s " +
            $"({m.InstructionSet}, {m.Threads} threads); new tokens {x.Points[0].NewTokens}, {x.Points[0].Repeats} runs per point, medians");
        Console.WriteLine("| model | batch | prompt | first token ms | prefill tok/s | decode tok/s per seq | decode tok/s batch | end to end tok/s | peak RSS | weights | prefill of roof | decode GB/s | decode of roof | load |");
        Console.WriteLine("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
        foreach (var p in x.Points)
        {
            var t = p.Timings;
            Console.WriteLine($"| {p.Model} | {p.Batch} | {p.PromptTokens} | {t.TimeToFirstTokenMs.Median:F0} | {p.PrefillTokensPerSecond.Median:F1} | " +
                $"{t.DecodeTokensPerSecond.Median:F2} | {t.BatchDecodeTokensPerSecond.Median:F2} | {t.EndToEndTokensPerSecond.Median:F2} | {MiB(p.PeakResidentBytes)} | " +
                $"{MiB(p.WeightBytes)} | {p.Prefill.FractionOfRoofline:P0} ({p.Prefill.Bound}) | {p.Decode.AchievedGBps:F1} | {p.Decode.FractionOfRoofline:P0} ({p.Decode.Bound}) | {p.LoadAverage:F1} |");
        }
        foreach (var c in crossovers)
        {
            string ratios = string.Join(", ", c.Ratios.Select(r => $"{r.Ratio:F2}× at {r.Batch}"));
            string verdict = c.Batch is null ? "does not overtake it at any measured batch"
                : c.EstimatedBatch is double at ? $"overtakes it from batch {c.Batch} (ratio 1 at ≈ {at:F1})" : $"is ahead from batch {c.Batch}, the smallest measured";
            Console.WriteLine($"{c.Challenger} against {c.Incumbent}, prompt {c.PromptTokens}: batch decode {ratios}; {verdict}");
        }
        Console.WriteLine($"run {runId}: {x.Points.Count} points appended to {table}");
    }

    static Command LlamaCpp()
    {
        var gguf = new Option<string>("--gguf") { Description = "The GGUF file", Required = true };
        var run = new RunOptions();
        var command = new Command("llama-cpp", "Measure llama.cpp (LLamaSharp CPU backend) on a GGUF file at batch 1") { gguf };
        run.AddTo(command);
        command.SetAction(r => CliSupport.Run(() =>
        {
            foreach (Option o in new Option[] { run.Batch, run.Device, run.DType })
                CliSupport.RejectIgnored(r, o, true, "does not apply to llama.cpp alone (batch 1 on its CPU backend)");
            var result = run.LlamaCpp(r, r.GetValue(gguf)!, Console.Error.WriteLine);
            if (r.GetValue(run.Json)) CliSupport.PrintJson(result);
            else Print(result, null);
            return 0;
        }));
        return command;
    }

    static string MiB(long bytes) => $"{bytes / 1048576.0:N0} MiB";

    static void Print(InferenceBenchmarkResult x)
    {
        var t = x.Timings;
        Console.WriteLine($"{x.Model} ({x.Format}, {x.DType}, {x.PackedLinears} packed Linears, {x.Device}, {x.Threads} threads, load average {x.LoadAverage:F2})");
        Console.WriteLine($"  weights {MiB(x.WeightBytes)} in memory ({MiB(x.StreamedBytesPerToken)} read per decode step), {MiB(x.DiskBytes)} on disk; " +
            $"peak RSS {MiB(x.PeakResidentBytes)}, peak anonymous {MiB(x.PeakAnonymousBytes)} (before loading {MiB(x.BaselineAnonymousBytes)}); loaded in {x.LoadSeconds:F1} s");
        if (x.PeakGpuBytes is long gpu) Console.WriteLine($"  peak GPU memory {MiB(gpu)} (nvidia-smi, this process)");
        Console.WriteLine($"  batch {x.Batch}, prompt {x.PromptTokens}, {x.NewTokens} new tokens, {x.Repeats} runs, median (min–max):");
        Console.WriteLine($"  time to first token {t.TimeToFirstTokenMs.ToString("F0")} ms");
        Console.WriteLine($"  decode {t.DecodeTokensPerSecond.ToString("F2")} tok/s per sequence, {t.BatchDecodeTokensPerSecond.ToString("F2")} tok/s at batch {x.Batch}");
        Console.WriteLine($"  end to end {t.EndToEndTokensPerSecond.ToString("F2")} tok/s");
        Console.WriteLine($"  floor: {x.BandwidthGBps:F1} GB/s ÷ {MiB(x.StreamedBytesPerToken)} = {x.FloorTokensPerSecond:F2} tok/s at batch 1; decode reaches {x.DecodeFractionOfFloor:P0} of it");
    }

    static void Print(LlamaCppBenchmarkResult x, double? kitDecode)
    {
        var t = x.Timings;
        Console.WriteLine($"llama.cpp {x.Gguf} ({MiB(x.DiskBytes)}, {x.Threads} threads, load average {x.LoadAverage:F2})");
        Console.WriteLine($"  prompt {x.PromptTokens}, {x.NewTokens} new tokens, {x.Repeats} runs: time to first token {t.TimeToFirstTokenMs.ToString("F0")} ms, " +
            $"decode {t.DecodeTokensPerSecond.ToString("F2")} tok/s");
        if (kitDecode is double kit) Console.WriteLine($"  Kit ÷ llama.cpp decode: {kit / t.DecodeTokensPerSecond.Median:F2}×");
    }

    static void PrintTable(IReadOnlyList<InferenceBenchmarkResult> results, LlamaCppBenchmarkResult? llama)
    {
        var first = results[0];
        Console.WriteLine($"batch {first.Batch}, prompt {first.PromptTokens}, {first.NewTokens} new tokens, {first.Repeats} runs; bandwidth {first.BandwidthGBps:F1} GB/s; medians (min–max)");
        Console.WriteLine("| model | format | weights | on disk | peak RSS | peak anon (before load) | first token ms | decode tok/s | ÷ first | ÷ llama.cpp | of floor |");
        Console.WriteLine("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
        double baseline = first.Timings.DecodeTokensPerSecond.Median;
        double? reference = llama?.Timings.DecodeTokensPerSecond.Median;
        foreach (var x in results)
        {
            double decode = x.Timings.DecodeTokensPerSecond.Median;
            Console.WriteLine($"| {x.Model} | {x.Format} | {MiB(x.WeightBytes)} | {MiB(x.DiskBytes)} | {MiB(x.PeakResidentBytes)} | {MiB(x.PeakAnonymousBytes)} ({MiB(x.BaselineAnonymousBytes)}) | " +
                $"{x.Timings.TimeToFirstTokenMs.ToString("F0")} | {x.Timings.DecodeTokensPerSecond.ToString("F2")} | {decode / baseline:F2}× | " +
                $"{(reference is double l ? $"{decode / l:F2}×" : "–")} | {x.DecodeFractionOfFloor:P0} |");
        }
        if (llama != null)
            Console.WriteLine($"| llama.cpp {llama.Gguf} | gguf | – | {MiB(llama.DiskBytes)} | – | – | {llama.Timings.TimeToFirstTokenMs.ToString("F0")} | " +
                $"{llama.Timings.DecodeTokensPerSecond.ToString("F2")} | {llama.Timings.DecodeTokensPerSecond.Median / baseline:F2}× | 1.00× | – |");
        Console.WriteLine($"load average at the end: {MachineLoad.OneMinuteAverage():F2}");
    }

    static Command Gptq()
    {
        var rows = new Option<int>("--rows") { Description = "Output features", DefaultValueFactory = _ => 4096 };
        var columns = new Option<int>("--columns") { Description = "Input features", DefaultValueFactory = _ => 4096 };
        var samples = new Option<int>("--samples") { Description = "Calibration sequences", DefaultValueFactory = _ => 128 };
        var seqLen = new Option<int>("--seq-len") { Description = "Tokens per sequence", DefaultValueFactory = _ => 2048 };
        var scheme = new Option<string>("--scheme") { Description = "Weight scheme", DefaultValueFactory = _ => "W4A16" };
        var actOrder = new Option<string>("--act-order") { Description = "none (the default here, timing the plain column loop), static (alias weight) or group (alias dynamic)", DefaultValueFactory = _ => "none" };
        var device = CliSupport.DeviceOption();
        var json = CliSupport.JsonOption();
        var command = new Command("gptq", "Time GPTQ on one Linear layer with random correlated calibration inputs")
        { rows, columns, samples, seqLen, scheme, actOrder, device, json };
        command.SetAction(r => CliSupport.Run(() =>
        {
            var order = ActOrders.Parse(r.GetValue(actOrder));
            var options = new GptqBenchmarkOptions
            {
                Rows = r.GetValue(rows), Columns = r.GetValue(columns), Samples = r.GetValue(samples), SeqLen = r.GetValue(seqLen),
                Args = QuantizationPresets.Parse(r.GetValue(scheme)!), Gptq = new GptqOptions { ActOrder = order }, Device = r.GetValue(device)!,
            };
            bool asJson = r.GetValue(json);
            var result = GptqBenchmark.Run(options, asJson ? null : Console.Error.WriteLine);
            if (asJson) CliSupport.PrintJson(result);
            else
                Console.WriteLine($"GPTQ {options.Rows}×{options.Columns} on {result.Device} ({result.Threads} threads): H {result.HessianSeconds:F1} s " +
                    $"({result.Tokens / result.HessianSeconds:F0} tokens/s), GPTQ {result.GptqSeconds:F2} s, RTN {result.RtnSeconds:F2} s; " +
                    $"relative error GPTQ {result.GptqRelativeError:E2} vs RTN {result.RtnRelativeError:E2}; peak memory {result.PeakWorkingSetBytes / 1048576.0:F0} MiB");
            return 0;
        }));
        return command;
    }

    static Command Kernels()
    {
        var shapes = new Option<string>("--shapes") { Description = "Comma-separated OUTxIN weight shapes", DefaultValueFactory = _ => "5632x2048,2048x5632" };
        var batch = new Option<int>("--batch") { Description = "Rows of x", DefaultValueFactory = _ => 1 };
        var iterations = new Option<int>("--iterations") { Description = "Timed calls per kernel (the median is reported)", DefaultValueFactory = _ => 100 };
        var repeats = new Option<int>("--repeats") { Description = "Times the whole set runs, one after another", DefaultValueFactory = _ => 3 };
        var json = CliSupport.JsonOption();
        var command = new Command("kernels", "Time the packed int4/int8 matmul kernels (float32 and int8 activations) against libtorch's float32 on layer shapes")
        { shapes, batch, iterations, repeats, json };
        command.SetAction(r => CliSupport.Run(() =>
        {
            var parsed = r.GetValue(shapes)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(ParseShape).ToList();
            if (parsed.Count == 0) throw new ArgumentException("--shapes: give at least one OUTxIN shape");
            double bandwidth = KernelBenchmark.MemoryBandwidthGBps();
            var results = new List<KernelBenchmarkResult>();
            for (int repeat = 0; repeat < r.GetValue(repeats); repeat++)
                foreach (var (rows, columns) in parsed)
                {
                    var result = KernelBenchmark.Run(rows, columns, r.GetValue(batch), r.GetValue(iterations), bandwidth);
                    results.Add(result);
                    if (!r.GetValue(json)) Print(result);
                }
            if (r.GetValue(json)) CliSupport.PrintJson(results);
            return 0;
        }));
        return command;
    }

    static (int Rows, int Columns) ParseShape(string shape)
    {
        var parts = shape.Split('x');
        return parts.Length == 2 && int.TryParse(parts[0], out int rows) && int.TryParse(parts[1], out int columns)
            ? (rows, columns)
            : throw new ArgumentException($"--shapes: '{shape}' is not OUTxIN (for example 5632x2048)");
    }

    static void Print(KernelBenchmarkResult x)
    {
        double baseline = x.Timings.Single(t => t.Name == KernelBenchmark.Baseline).Seconds;
        Console.WriteLine($"{x.Rows}×{x.Columns}, batch {x.Batch}, {x.InstructionSet}, bandwidth {x.MemoryBandwidthGBps:F1} GB/s, load average {MachineLoad.OneMinuteAverage():F2}");
        Console.WriteLine("| kernel | ms | GB/s of weight | of bandwidth | GFLOP/s | speed ÷ int4 float32 |");
        Console.WriteLine("| --- | --- | --- | --- | --- | --- |");
        foreach (var t in x.Timings)
            Console.WriteLine($"| {t.Name} | {t.Seconds * 1e3:F3} | {t.GBps:F1} | {t.GBps / x.MemoryBandwidthGBps:P0} | {t.GFlops:F1} | {baseline / t.Seconds:F2}× |");
    }
}
