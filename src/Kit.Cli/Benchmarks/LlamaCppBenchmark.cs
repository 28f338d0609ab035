using Kit.Runtime;
using System.Diagnostics;
using Kit.Benchmarks;
using LLama;
using LLama.Common;
using LLama.Native;

namespace Kit.Cli.Benchmarks;

/// <summary>llama.cpp's speed on one GGUF file, measured the way <see cref="InferenceBenchmark"/> measures Kit.</summary>
/// <param name="Gguf">The file.</param>
/// <param name="Threads">llama.cpp's threads for prefill and decode.</param>
/// <param name="PromptTokens">Prompt length.</param>
/// <param name="NewTokens">Generated tokens per run.</param>
/// <param name="Repeats">Timed runs.</param>
/// <param name="DiskBytes">Size of the file.</param>
/// <param name="Timings">Time to first token and decode speed (batch 1).</param>
/// <param name="LoadAverage">One-minute load average at the end.</param>
public sealed record LlamaCppBenchmarkResult(string Gguf, int Threads, int PromptTokens, int NewTokens, int Repeats, long DiskBytes,
    DecodeTimings Timings, double LoadAverage);

/// <summary>
/// Runs llama.cpp (LLamaSharp's CPU backend) in this process on the same prompt ids Kit gets: one warm-up run, then
/// repeated runs of a prefill and greedy decode steps at batch 1, each from an empty KV cache. It lives in the CLI
/// rather than the library so that Kit itself does not carry a second native runtime only used for comparison.
/// </summary>
public static class LlamaCppBenchmark
{
    /// <summary>
    /// Measures <paramref name="gguf"/> on <paramref name="promptTokens"/> random ids from <paramref name="seed"/>: the
    /// prompt <see cref="InferenceBenchmark"/> gives Kit's first sequence for the same vocabulary and seed.
    /// </summary>
    public static LlamaCppBenchmarkResult Run(string gguf, int promptTokens, int newTokens, int repeats, int threads, int seed, Action<string>? log = null)
    {
        if (!File.Exists(gguf)) throw new FileNotFoundException($"llama.cpp benchmark: GGUF file not found: {gguf}", gguf);
        if (promptTokens < 1) throw new ArgumentException($"llama.cpp benchmark: prompt-tokens must be at least 1, got {promptTokens}");
        if (newTokens < 2) throw new ArgumentException($"llama.cpp benchmark: new-tokens must be at least 2, got {newTokens}");
        if (repeats < 1) throw new ArgumentException($"llama.cpp benchmark: repeats must be at least 1, got {repeats}");
        if (threads < 1) throw new ArgumentException($"llama.cpp benchmark: threads must be at least 1, got {threads}");

        var parameters = new ModelParams(gguf)
        {
            ContextSize = (uint)(promptTokens + newTokens + 8), BatchSize = (uint)promptTokens,
            GpuLayerCount = 0, Threads = threads, BatchThreads = threads,
        };
        using var weights = LLamaWeights.LoadFromFile(parameters);
        using var context = weights.CreateContext(parameters);
        var prompt = InferenceBenchmark.RandomPrompts(weights.Vocab.Count, 1, promptTokens, seed)[0];
        var tokens = prompt.Select(id => (LLamaToken)id).ToArray();

        Generate(context, tokens, 3);
        var runs = new List<(double, double)>();
        for (int r = 0; r < repeats; r++)
        {
            runs.Add(Generate(context, tokens, newTokens));
            var (first, total) = runs[^1];
            log?.Invoke($"llama.cpp {Path.GetFileName(gguf)}: run {r + 1}/{repeats}: first token {first:F0} ms, decode {(newTokens - 1) / ((total - first) / 1000):F2} tok/s");
        }
        return new LlamaCppBenchmarkResult(gguf, threads, promptTokens, newTokens, repeats, new FileInfo(gguf).Length,
            DecodeTimings.FromRuns(runs, 1, newTokens), MachineLoad.OneMinuteAverage());
    }

    /// <summary>One run from an empty cache; returns when the first and the last token came, in ms.</summary>
    static (double FirstMs, double TotalMs) Generate(LLamaContext context, LLamaToken[] prompt, int newTokens)
    {
        context.NativeHandle.MemoryClear(true);
        var batch = new LLamaBatch();
        var clock = Stopwatch.StartNew();
        batch.AddRange(prompt, 0, LLamaSeqId.Zero, true);
        double first = 0;
        int position = prompt.Length;
        for (int produced = 0; ; )
        {
            if (context.Decode(batch) != DecodeResult.Ok) throw new InvalidOperationException($"llama.cpp failed to decode at position {position}");
            var logits = context.NativeHandle.GetLogitsIth(batch.TokenCount - 1);
            int next = 0;
            for (int v = 1; v < logits.Length; v++) if (logits[v] > logits[next]) next = v;
            produced++;
            if (produced == 1) first = clock.Elapsed.TotalMilliseconds;
            if (produced == newTokens) return (first, clock.Elapsed.TotalMilliseconds);
            batch.Clear();
            batch.Add(next, position++, LLamaSeqId.Zero, true);
        }
    }
}
