namespace Kit.Models.Training;

/// <summary>Settings of <see cref="ModelTrainer"/>: AdamW with linear warm-up and cosine decay on random windows.</summary>
public sealed record TrainingOptions
{
    /// <summary>Optimizer steps.</summary>
    public int Steps { get; init; } = 1000;
    /// <summary>Windows per step.</summary>
    public int BatchSize { get; init; } = 16;
    /// <summary>Tokens per window.</summary>
    public int SeqLen { get; init; } = 128;
    /// <summary>Peak learning rate.</summary>
    public double LearningRate { get; init; } = 3e-3;
    /// <summary>Learning rate at the end of the cosine decay.</summary>
    public double MinLearningRate { get; init; } = 3e-4;
    /// <summary>Steps of linear warm-up.</summary>
    public int WarmupSteps { get; init; } = 50;
    /// <summary>AdamW weight decay (applied to matrices, not to norms).</summary>
    public double WeightDecay { get; init; } = 0.1;
    /// <summary>Seed for initialisation and window sampling.</summary>
    public long Seed { get; init; } = 1337;
    /// <summary>Evaluate on the held-out tokens every this many steps.</summary>
    public int EvalEvery { get; init; } = 100;
}

/// <summary>Progress of a training run.</summary>
/// <param name="Step">Steps done.</param>
/// <param name="TotalSteps">Steps planned.</param>
/// <param name="TrainLoss">Mean cross-entropy of the last step.</param>
/// <param name="ValidationLoss">Cross-entropy on held-out windows, when evaluated at this step.</param>
/// <param name="LearningRate">The learning rate used at this step.</param>
public sealed record TrainingProgress(int Step, int TotalSteps, double TrainLoss, double? ValidationLoss, double LearningRate);
