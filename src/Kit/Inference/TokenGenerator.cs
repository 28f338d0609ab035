using Kit.Models;

namespace Kit.Inference;

/// <summary>The ids generated for one prompt and when they came.</summary>
/// <param name="TokenIds">Generated ids, including a final stop token if one was produced.</param>
/// <param name="TimeToFirstTokenMs">Milliseconds from the call to the first generated token.</param>
/// <param name="TotalMs">Milliseconds from the call to the last generated token.</param>
/// <param name="StopReason">"eos" when a stop token ended it, "length" when the budget did.</param>
public sealed record GeneratedIds(IReadOnlyList<int> TokenIds, double TimeToFirstTokenMs, double TotalMs, string StopReason)
{
    /// <summary>Decode speed after the first token.</summary>
    public double TokensPerSecond => TokenIds.Count > 1 && TotalMs > TimeToFirstTokenMs
        ? (TokenIds.Count - 1) / ((TotalMs - TimeToFirstTokenMs) / 1000) : 0;
}

/// <summary>
/// Autoregressive decoding over token ids: one prefill per prompt length, then one token per step for every
/// sequence that has not stopped, each sequence with its own KV cache (<see cref="BatchDecoder"/>).
/// </summary>
public static class TokenGenerator
{
    /// <summary>
    /// Generates continuations of <paramref name="prompts"/>. <paramref name="onToken"/> is called with
    /// (sequence index, token id) as each token is produced, for streaming.
    /// </summary>
    public static IReadOnlyList<GeneratedIds> Generate(CausalLM model, IReadOnlyList<IReadOnlyList<int>> prompts,
        GenerationOptions options, IReadOnlySet<int> stopIds, Action<int, int>? onToken = null)
    {
        options.Validate();
        if (prompts.Count == 0) return Array.Empty<GeneratedIds>();
        using var decoder = new BatchDecoder(model, options, stopIds);
        foreach (var prompt in prompts) decoder.Add(prompt);
        while (!decoder.Finished)
            foreach (var (sequence, id) in decoder.Step())
                onToken?.Invoke(sequence.Index, id);
        return decoder.Sequences.Select(s => s.ToResult()).ToArray();
    }
}
