using System.CommandLine;
using Kit.Benchmarks;
using Kit.Quantization;

namespace Kit.Cli.Commands;

/// <summary><c>kit bench</c>: reproducible timings; <c>kit bench gptq</c> times GPTQ on one layer.</summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var bench = new Command("bench", "Measure speed and memory");
        bench.Subcommands.Add(Gptq());
        return bench;
    }

    static Command Gptq()
    {
        var rows = new Option<int>("--rows") { Description = "Output features", DefaultValueFactory = _ => 4096 };
        var columns = new Option<int>("--columns") { Description = "Input features", DefaultValueFactory = _ => 4096 };
        var samples = new Option<int>("--samples") { Description = "Calibration sequences", DefaultValueFactory = _ => 128 };
        var seqLen = new Option<int>("--seq-len") { Description = "Tokens per sequence", DefaultValueFactory = _ => 2048 };
        var scheme = new Option<string>("--scheme") { Description = "Weight scheme", DefaultValueFactory = _ => "W4A16" };
        var actOrder = new Option<string>("--act-order") { Description = "none, static or group", DefaultValueFactory = _ => "none" };
        var device = CliSupport.DeviceOption();
        var json = CliSupport.JsonOption();
        var command = new Command("gptq", "Time GPTQ on one Linear layer with random correlated calibration inputs")
        { rows, columns, samples, seqLen, scheme, actOrder, device, json };
        command.SetAction(r => CliSupport.Run(() =>
        {
            var order = r.GetValue(actOrder)!.ToLowerInvariant() switch
            {
                "none" => ActOrder.None, "static" => ActOrder.Static, "group" => ActOrder.Group,
                var other => throw new ArgumentException($"unknown act-order '{other}' (none, static or group)"),
            };
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
}
