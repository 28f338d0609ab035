using Kit.Runtime;
using Kit.Formats.Gguf;
using Kit.Inference;
using Kit.Models;
using static TorchSharp.torch;

namespace Kit.Benchmarks;

/// <summary>
/// Measures every model at every batch size and prompt length: time to first token, prefill and decode speed,
/// memory, and where each phase sits against the machine's measured bandwidth and compute ceilings (roofline).
/// Each point generates from random prompt ids with <see cref="TokenGenerator"/> (greedy, never stopping at EOS,
/// every sequence with its own KV cache); the prompts of a point are equally long, so the prefill is one pass.
/// </summary>
public static class SpeedSweep
{
    /// <summary>New tokens of each model's warm-up run: enough to go through prefill and the decode path once.</summary>
    const int WarmUpTokens = 3;

    /// <summary>Runs the sweep; <paramref name="log"/> gets progress lines.</summary>
    public static SpeedSweepResult Run(SpeedSweepOptions o, Action<string>? log = null)
    {
        o.Validate();
        // Refuse a prompt that does not fit before measuring anything, where the context is known without loading.
        foreach (var model in o.Models.Where(m => !(File.Exists(m) && GgufImporter.IsGgufFile(m))))
            o.CheckContext(model, ModelConfig.Load(Path.Combine(LanguageModel.ResolveFolder(model, new ModelLoadOptions()), "config.json")).MaxPositionEmbeddings);
        var machine = o.Machine ?? MachineCeilings.Measure();
        log?.Invoke($"machine: {machine.BandwidthGBps:F1} GB/s, float32 GEMM {machine.Float32GFlops:F0} GFLOP/s, int8 GEMM {machine.Int8GOps:F0} GOP/s, {machine.Threads} threads");
        var points = new List<SpeedPoint>();
        foreach (var model in o.Models)
        {
            using var lm = LanguageModel.Load(model, new ModelLoadOptions { Device = o.Device, DType = o.DType });
            o.CheckContext(model, lm.Config.MaxPositionEmbeddings);
            Generate(lm.Model, InferenceBenchmark.RandomPrompts(lm.Config.VocabSize, 1, o.PromptTokens[0], o.Seed), WarmUpTokens);
            foreach (int batch in o.Batches)
                foreach (int prompt in o.PromptTokens)
                {
                    var point = Measure(lm, model, batch, prompt, o, machine);
                    points.Add(point);
                    log?.Invoke($"{model}: batch {batch}, prompt {prompt}: first token {point.Timings.TimeToFirstTokenMs.Median:F0} ms, " +
                        $"decode {point.Timings.DecodeTokensPerSecond.Median:F2} tok/s per sequence, {point.Timings.BatchDecodeTokensPerSecond.Median:F2} for the batch");
                }
        }
        return new SpeedSweepResult(machine, points);
    }

    static SpeedPoint Measure(LanguageModel lm, string model, int batch, int promptTokens, SpeedSweepOptions o, MachineCeilings machine)
    {
        var prompts = InferenceBenchmark.RandomPrompts(lm.Config.VocabSize, batch, promptTokens, o.Seed);
        // The previous point's caches must not set this one's peak.
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        ProcessMemory.ResetPeak();
        long peakAnonymous = 0;
        var runs = new List<(double FirstMs, double TotalMs)>();
        for (int r = 0; r < o.Repeats; r++)
        {
            var generated = Generate(lm.Model, prompts, o.NewTokens);
            if (generated.Any(g => g.TokenIds.Count != o.NewTokens))
                throw new InvalidOperationException($"{model}: a run stopped before {o.NewTokens} tokens");
            runs.Add((generated.Max(g => g.TimeToFirstTokenMs), generated.Max(g => g.TotalMs)));
            peakAnonymous = Math.Max(peakAnonymous, ProcessMemory.AnonymousBytes());
        }
        var timings = DecodeTimings.FromRuns(runs, batch, o.NewTokens);
        var prefillSpeed = Spread.Of(runs.Select(r => (double)batch * promptTokens / (r.FirstMs / 1000)));
        var (prefill, decode) = Roofline(lm.Model, batch, promptTokens, o.NewTokens, timings, machine);
        return new SpeedPoint(model, InferenceBenchmark.FormatOf(model, lm.Folder), batch, promptTokens, o.NewTokens, o.Repeats, timings, prefillSpeed,
            ProcessMemory.PeakResidentBytes(), peakAnonymous, lm.Model.WeightBytes, lm.Config.ParameterCount, prefill, decode, MachineLoad.OneMinuteAverage());
    }

    /// <summary>
    /// The prefill and one decode step of a point on the roofline. FLOPs count the Linears (2 per multiply-add);
    /// attention's own products are left out, as they are small beside the Linears at these lengths. Int8
    /// activations (W8A8) run under Kit's int8 ceiling, everything else under float32 GEMM's.
    /// </summary>
    public static (RooflinePoint Prefill, RooflinePoint Decode) Roofline(CausalLM model, int batch, int promptTokens, int newTokens,
        DecodeTimings timings, MachineCeilings machine)
    {
        var c = model.Config;
        long q = (long)c.NumAttentionHeads * c.HeadDim, kv = (long)c.NumKeyValueHeads * c.HeadDim;
        long decoderLinear = (long)c.NumHiddenLayers * (2 * c.HiddenSize * q + 2 * c.HiddenSize * kv + 3L * c.HiddenSize * c.IntermediateSize);
        long head = (long)c.VocabSize * c.HiddenSize;
        long weights = InferenceBenchmark.StreamedBytesPerToken(model);
        long kvPerPosition = KvBytesPerPosition(model);
        bool int8 = model.DecoderLinears().Any(l => l.Module is QuantizedLinear { QuantizesActivations: true });
        double ceiling = int8 ? machine.Int8GOps : machine.Float32GFlops;

        // The prefill runs the head on each sequence's last position only.
        double prefillFlops = 2.0 * decoderLinear * batch * promptTokens + 2.0 * head * batch;
        double prefillBytes = weights + (double)kvPerPosition * batch * promptTokens;
        var prefill = new RooflinePoint(prefillFlops, prefillBytes, timings.TimeToFirstTokenMs.Median / 1000, ceiling, machine.BandwidthGBps);

        // Decode steps 2..n see contexts of prompt+1 .. prompt+n−1 positions: the mean is prompt + n/2.
        double decodeFlops = 2.0 * (decoderLinear + head) * batch;
        double decodeBytes = weights + (double)kvPerPosition * batch * (promptTokens + newTokens / 2.0);
        var decode = new RooflinePoint(decodeFlops, decodeBytes, 1 / timings.DecodeTokensPerSecond.Median, ceiling, machine.BandwidthGBps);
        return (prefill, decode);
    }

    /// <summary>Bytes of keys and values one position of one sequence adds to the cache, over all layers.</summary>
    public static long KvBytesPerPosition(CausalLM model)
    {
        using var probe = empty(1, model.DType);
        var c = model.Config;
        return 2L * c.NumHiddenLayers * c.NumKeyValueHeads * c.HeadDim * probe.ElementSize;
    }

    static IReadOnlyList<GeneratedIds> Generate(CausalLM model, IReadOnlyList<IReadOnlyList<int>> prompts, int newTokens) =>
        TokenGenerator.Generate(model, prompts, new GenerationOptions { MaxNewTokens = newTokens, StopOnEos = false }, new HashSet<int>());
}
