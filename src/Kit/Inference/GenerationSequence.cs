using Kit.Models;

namespace Kit.Inference;

/// <summary>
/// One sequence of a <see cref="BatchDecoder"/>: its prompt, its own KV cache and the tokens generated so far.
/// The cache is freed as soon as the sequence stops.
/// </summary>
public sealed class GenerationSequence
{
    readonly List<int> generated = new();

    internal GenerationSequence(int index, IReadOnlyList<int> prompt, KvCache cache, GenerationOptions options, Sampler? sampler) =>
        (Index, Prompt, Cache, Options, Sampler) = (index, prompt, cache, options, sampler);

    /// <summary>The order in which the sequence was added to its decoder, from 0.</summary>
    public int Index { get; }
    /// <summary>The options it decodes with: its own, or its decoder's.</summary>
    public GenerationOptions Options { get; }
    /// <summary>The prompt ids.</summary>
    public IReadOnlyList<int> Prompt { get; }
    /// <summary>Generated ids, including a final stop token if one was produced.</summary>
    public IReadOnlyList<int> Generated => generated;
    /// <summary>"eos" when a stop token ended it, "length" when the budget did; null while it runs.</summary>
    public string? StopReason { get; private set; }
    /// <summary>Milliseconds from the decoder's creation to this sequence's first generated token.</summary>
    public double FirstTokenMs { get; private set; }
    /// <summary>Milliseconds from the decoder's creation to this sequence's latest generated token.</summary>
    public double LastTokenMs { get; private set; }

    /// <summary>The sequence's keys and values: prompt and generated tokens so far (empty before its prefill).</summary>
    internal KvCache Cache { get; }

    /// <summary>The sequence's own sampler (sampled decoding with its own options), or null when it shares one of its decoder's.</summary>
    internal Sampler? Sampler { get; }

    internal bool Prefilled => Cache.Length > 0;

    internal void StopEmpty()
    {
        StopReason = "length";
        Cache.Dispose();
    }

    internal void Add(int id, double nowMs, bool stops, int maxNewTokens)
    {
        generated.Add(id);
        if (generated.Count == 1) FirstTokenMs = nowMs;
        LastTokenMs = nowMs;
        if (stops) StopReason = "eos";
        else if (generated.Count == maxNewTokens) StopReason = "length";
        if (StopReason != null) Cache.Dispose();
    }

    /// <summary>The result as <see cref="TokenGenerator"/> reports it.</summary>
    public GeneratedIds ToResult() => new(generated.ToArray(), FirstTokenMs, LastTokenMs, StopReason ?? "length");

    /// <summary>Frees the cache and the sequence's own sampler (the decoder does, when it is disposed or removes it).</summary>
    internal void Release()
    {
        Cache.Dispose();
        Sampler?.Dispose();
    }
}
