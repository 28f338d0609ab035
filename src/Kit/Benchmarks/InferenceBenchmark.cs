using System.Diagnostics;
using Kit.Formats.CompressedTensors;
using Kit.Formats.Gguf;
using Kit.Inference;
using Kit.Inference.Kernels;
using Kit.Models;
using Kit.Runtime;

namespace Kit.Benchmarks;

/// <summary>
/// Times generation of a model as a user would run it: load, one warm-up run, then repeated runs of a prefill of
/// random prompt ids followed by decode steps with the KV cache (greedy, never stopping at EOS so that every run
/// decodes the same number of tokens). Decode speed is set against the floor that memory bandwidth puts on it:
/// at batch 1 every step streams the weights once.
/// </summary>
public static class InferenceBenchmark
{
    /// <summary>New tokens of the warm-up run: enough to go through prefill and the decode path once.</summary>
    const int WarmUpTokens = 3;

    /// <summary>Loads <see cref="InferenceBenchmarkOptions.Model"/> and measures it; <paramref name="log"/> gets progress lines.</summary>
    public static InferenceBenchmarkResult Run(InferenceBenchmarkOptions o, Action<string>? log = null)
    {
        o.Validate();
        double bandwidth = o.BandwidthGBps ?? KernelBenchmark.MemoryBandwidthGBps();
        // Earlier models and the bandwidth probe's array must not set this one's peak: aggressive collection hands
        // the freed managed heap back to the system before the peak is reset.
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        ProcessMemory.ResetPeak();
        long baselineAnonymous = ProcessMemory.AnonymousBytes();
        var clock = Stopwatch.StartNew();
        using var gpu = KitDevice.Parse(o.Device).type == TorchSharp.DeviceType.CUDA ? new PeakSampler(GpuMemory.ProcessBytes, TimeSpan.FromMilliseconds(100)) : null;
        using var lm = LanguageModel.Load(o.Model, new ModelLoadOptions { Device = o.Device, DType = o.DType, BFloat16Prefill = o.BFloat16Prefill });
        double loadSeconds = clock.Elapsed.TotalSeconds;
        long peakAnonymous = ProcessMemory.AnonymousBytes();
        log?.Invoke($"{o.Model}: loaded in {loadSeconds:F1} s, {lm.Model.WeightBytes / 1048576.0:F0} MiB of weights");

        var prompts = RandomPrompts(lm.Config.VocabSize, o.Batch, o.PromptTokens, o.Seed);
        var stopIds = new HashSet<int>();
        Generate(lm.Model, prompts, WarmUpTokens, stopIds);
        var runs = new List<(double, double)>();
        for (int r = 0; r < o.Repeats; r++)
        {
            var generated = Generate(lm.Model, prompts, o.NewTokens, stopIds);
            if (generated.Any(g => g.TokenIds.Count != o.NewTokens))
                throw new InvalidOperationException($"{o.Model}: a run stopped before {o.NewTokens} tokens");
            runs.Add((generated.Max(g => g.TimeToFirstTokenMs), generated.Max(g => g.TotalMs)));
            peakAnonymous = Math.Max(peakAnonymous, ProcessMemory.AnonymousBytes());
            var (first, total) = runs[^1];
            log?.Invoke($"{o.Model}: run {r + 1}/{o.Repeats}: first token {first:F0} ms, decode {(o.NewTokens - 1) / ((total - first) / 1000):F2} tok/s");
        }
        var timings = DecodeTimings.FromRuns(runs, o.Batch, o.NewTokens);
        gpu?.Dispose();
        long streamed = StreamedBytesPerToken(lm.Model);
        double floor = FloorTokensPerSecond(streamed, bandwidth);
        return new InferenceBenchmarkResult(o.Model, FormatOf(o.Model, lm.Folder), lm.Model.DType.ToString(), lm.Model.Device.ToString(),
            TorchSharp.torch.get_num_threads(), lm.Model.Linears().Count(l => l.Module is QuantizedLinear),
            o.Batch, o.PromptTokens, o.NewTokens, o.Repeats, loadSeconds, timings,
            lm.Model.WeightBytes, streamed, DiskBytes(o.Model, lm.Folder), ProcessMemory.PeakResidentBytes(), peakAnonymous, baselineAnonymous,
            bandwidth, floor, timings.DecodeTokensPerSecond.Median / floor, MachineLoad.OneMinuteAverage(), gpu?.Peak);
    }

    /// <summary><paramref name="batch"/> prompts of <paramref name="tokens"/> ids drawn uniformly from [0, vocab), reproducible from <paramref name="seed"/>.</summary>
    public static IReadOnlyList<IReadOnlyList<int>> RandomPrompts(int vocab, int batch, int tokens, int seed)
    {
        if (vocab < 1) throw new ArgumentOutOfRangeException(nameof(vocab), vocab, "vocabulary must hold at least one token");
        var random = new Random(seed);
        return Enumerable.Range(0, batch).Select(_ => (IReadOnlyList<int>)Enumerable.Range(0, tokens).Select(_ => random.Next(vocab)).ToArray()).ToArray();
    }

    /// <summary>Batch-1 decode ceiling: a step cannot finish before <paramref name="streamedBytes"/> have crossed the memory bus.</summary>
    public static double FloorTokensPerSecond(long streamedBytes, double bandwidthGBps) => bandwidthGBps * 1e9 / streamedBytes;

    /// <summary>
    /// Weight bytes read per decode step: everything but an untied input embedding table, which a step reads one
    /// row of (a tied table is the output head too and is read whole).
    /// </summary>
    public static long StreamedBytesPerToken(CausalLM model)
    {
        if (model.Config.TieWordEmbeddings) return model.WeightBytes;
        var table = model.Model.EmbedTokens.weight!;
        return model.WeightBytes - table.NumberOfElements * table.ElementSize;
    }

    /// <summary>Bytes on disk: a file's length, or the sum of a folder's *.safetensors files.</summary>
    public static long DiskBytes(string model, string folder)
    {
        if (File.Exists(model)) return new FileInfo(model).Length;
        return Directory.EnumerateFiles(folder, "*.safetensors").Sum(f => new FileInfo(f).Length);
    }

    internal static string FormatOf(string model, string folder) =>
        File.Exists(model) && GgufImporter.IsGgufFile(model) ? "gguf"
        : CompressedTensorsReader.IsCompressedTensors(folder) ? "compressed-tensors" : "safetensors";

    static IReadOnlyList<GeneratedIds> Generate(CausalLM model, IReadOnlyList<IReadOnlyList<int>> prompts, int newTokens, IReadOnlySet<int> stopIds) =>
        TokenGenerator.Generate(model, prompts, new GenerationOptions { MaxNewTokens = newTokens, StopOnEos = false }, stopIds);
}
