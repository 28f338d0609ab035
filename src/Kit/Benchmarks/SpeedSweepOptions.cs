namespace Kit.Benchmarks;

/// <summary>What <see cref="SpeedSweep"/> measures: every model at every batch size and prompt length.</summary>
public sealed record SpeedSweepOptions
{
    /// <summary>Model folders, compressed-tensors folders, .gguf files, hub ids or "default", measured in order.</summary>
    public IReadOnlyList<string> Models { get; init; } = ["default"];
    /// <summary>Sequences decoded together.</summary>
    public IReadOnlyList<int> Batches { get; init; } = [1, 4, 16];
    /// <summary>Prompt lengths in (random) token ids.</summary>
    public IReadOnlyList<int> PromptTokens { get; init; } = [128];
    /// <summary>Tokens generated per sequence and run: one from the prefill, the rest decode steps.</summary>
    public int NewTokens { get; init; } = 16;
    /// <summary>Timed runs per point after the model's warm-up.</summary>
    public int Repeats { get; init; } = 1;
    /// <summary>Seed of the prompt ids.</summary>
    public int Seed { get; init; }
    /// <summary>"cpu", "cuda" or "auto".</summary>
    public string Device { get; init; } = "cpu";
    /// <summary>Dense weights' type: "auto", "float32", "bfloat16", ...</summary>
    public string DType { get; init; } = "auto";
    /// <summary>The machine's ceilings; measured when null (a few seconds).</summary>
    public MachineCeilings? Machine { get; init; }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first option out of range.</summary>
    public void Validate()
    {
        if (Models.Count == 0) throw new ArgumentException("models: give at least one model");
        if (Models.Any(string.IsNullOrWhiteSpace)) throw new ArgumentException("models: an empty name in the list");
        CheckSizes("batch", Batches);
        CheckSizes("prompt-tokens", PromptTokens);
        if (NewTokens < 2) throw new ArgumentException($"new-tokens must be at least 2 (one from the prefill, one decode step), got {NewTokens}");
        if (Repeats < 1) throw new ArgumentException($"repeats must be at least 1, got {Repeats}");
    }

    /// <summary>Throws when the longest prompt plus the new tokens do not fit <paramref name="model"/>'s context.</summary>
    public void CheckContext(string model, int contextLength)
    {
        int longest = PromptTokens.Max();
        if (longest + NewTokens > contextLength)
            throw new ArgumentException($"prompt-tokens {longest} plus new-tokens {NewTokens} exceeds the context of {model} ({contextLength} positions)");
    }

    static void CheckSizes(string option, IReadOnlyList<int> sizes)
    {
        if (sizes.Count == 0) throw new ArgumentException($"{option}: give at least one value");
        if (sizes.FirstOrDefault(s => s < 1, 1) is var bad && bad < 1) throw new ArgumentException($"{option}: every value must be at least 1, got {bad}");
    }
}
