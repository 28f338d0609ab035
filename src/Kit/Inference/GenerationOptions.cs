namespace Kit.Inference;

/// <summary>How to decode: greedy when <see cref="Temperature"/> is 0, otherwise sampled.</summary>
public sealed record GenerationOptions
{
    /// <summary>The most tokens to generate after the prompt.</summary>
    public int MaxNewTokens { get; init; } = 64;
    /// <summary>Softmax temperature; 0 means greedy (argmax).</summary>
    public double Temperature { get; init; }
    /// <summary>Keep only the k most likely tokens before sampling; 0 turns it off.</summary>
    public int TopK { get; init; }
    /// <summary>Keep the smallest set of most likely tokens whose probability reaches p; 1 turns it off.</summary>
    public double TopP { get; init; } = 1.0;
    /// <summary>Seed of the sampler, for reproducible sampled output.</summary>
    public long Seed { get; init; } = 0;
    /// <summary>Stop when an end-of-sequence token is produced.</summary>
    public bool StopOnEos { get; init; } = true;
    /// <summary>Token ids that end generation; null means the tokenizer's end-of-sequence ids.</summary>
    public IReadOnlyList<int>? StopTokenIds { get; init; }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first option that is out of range.</summary>
    public void Validate()
    {
        if (MaxNewTokens < 0) throw new ArgumentException($"max-new-tokens must be ≥ 0, got {MaxNewTokens}");
        if (Temperature < 0 || double.IsNaN(Temperature)) throw new ArgumentException($"temperature must be ≥ 0, got {Temperature}");
        if (TopK < 0) throw new ArgumentException($"top-k must be ≥ 0, got {TopK}");
        if (!(TopP > 0 && TopP <= 1)) throw new ArgumentException($"top-p must be in (0, 1], got {TopP}");
    }
}

/// <summary>One generated token as it is streamed.</summary>
/// <param name="Sequence">Which prompt of the batch it belongs to.</param>
/// <param name="Id">The token id.</param>
/// <param name="Text">The text it completes (may be empty while a multi-byte character is incomplete).</param>
public sealed record GeneratedToken(int Sequence, int Id, string Text);

/// <summary>The outcome of generating from one prompt.</summary>
/// <param name="Text">The generated continuation (prompt excluded, special tokens skipped).</param>
/// <param name="TokenIds">The generated token ids, including a final end-of-sequence token if one was produced.</param>
/// <param name="PromptTokenCount">Number of prompt tokens (after special tokens were added).</param>
/// <param name="TimeToFirstTokenMs">Wall time from the call to the first generated token (prefill + one sample).</param>
/// <param name="TokensPerSecond">Decode speed after the first token: (n − 1) / (total − time to first token).</param>
/// <param name="StopReason">"eos", "length" or "stop-token".</param>
public sealed record GenerationResult(string Text, IReadOnlyList<int> TokenIds, int PromptTokenCount,
    double TimeToFirstTokenMs, double TokensPerSecond, string StopReason);
