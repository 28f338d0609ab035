namespace Kit.Benchmarks;

/// <summary>What <see cref="InferenceBenchmark"/> measures: a model and the shape of its generation runs.</summary>
public sealed record InferenceBenchmarkOptions
{
    /// <summary>A model folder, compressed-tensors folder, .gguf file, hub id or "default".</summary>
    public string Model { get; init; } = "default";
    /// <summary>Sequences decoded together.</summary>
    public int Batch { get; init; } = 1;
    /// <summary>Length of each (random) prompt in token ids.</summary>
    public int PromptTokens { get; init; } = 64;
    /// <summary>Tokens generated per sequence in each run: one from the prefill, the rest decode steps.</summary>
    public int NewTokens { get; init; } = 32;
    /// <summary>Timed runs after the warm-up.</summary>
    public int Repeats { get; init; } = 3;
    /// <summary>Seed of the prompt ids.</summary>
    public int Seed { get; init; }
    /// <summary>"cpu", "cuda" or "auto".</summary>
    public string Device { get; init; } = "cpu";
    /// <summary>Dense weights' type: "auto", "float32", "bfloat16", ...</summary>
    public string DType { get; init; } = "auto";
    /// <summary>Whether weight-only layers prefill in bfloat16 (<see cref="Kit.Models.ModelLoadOptions.BFloat16Prefill"/>); null: where the CPU has AMX.</summary>
    public bool? BFloat16Prefill { get; init; }
    /// <summary>Memory bandwidth in GB/s for the decode floor; measured when null (a second or two).</summary>
    public double? BandwidthGBps { get; init; }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first option out of range.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Model)) throw new ArgumentException("model: give a folder, .gguf file, hub id or 'default'");
        if (Batch < 1) throw new ArgumentException($"batch must be at least 1, got {Batch}");
        if (PromptTokens < 1) throw new ArgumentException($"prompt-tokens must be at least 1, got {PromptTokens}");
        if (NewTokens < 2) throw new ArgumentException($"new-tokens must be at least 2 (one from the prefill, one decode step), got {NewTokens}");
        if (Repeats < 1) throw new ArgumentException($"repeats must be at least 1, got {Repeats}");
        if (BandwidthGBps is <= 0 or double.NaN) throw new ArgumentException($"bandwidth must be positive, got {BandwidthGBps}");
    }
}
