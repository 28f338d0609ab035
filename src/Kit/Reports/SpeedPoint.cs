namespace Kit.Reports;

/// <summary>
/// One measured speed point, the input of the speed charts and tables: a model (or variant) at one batch size
/// and prompt length. A speed sweep's rows map onto it one to one.
/// </summary>
/// <param name="Model">The model or variant, as the charts label it (float32, W4A16, ...).</param>
/// <param name="Batch">Sequences decoded together.</param>
/// <param name="PromptTokens">Prompt length per sequence.</param>
/// <param name="TimeToFirstTokenMs">Time to first token (the prefill of the whole batch), milliseconds.</param>
/// <param name="PrefillTokensPerSecond">Prompt tokens processed per second during prefill, whole batch.</param>
/// <param name="DecodeTokensPerSecondPerSequence">Generated tokens per second that one sequence sees.</param>
/// <param name="DecodeTokensPerSecond">Generated tokens per second of the whole batch.</param>
/// <param name="EndToEndTokensPerSecond">Generated tokens of the batch divided by the whole time, prefill included.</param>
/// <param name="PeakMemoryBytes">Peak memory of the run, or null when not measured.</param>
/// <param name="WeightBytes">Bytes the weights hold in memory.</param>
/// <param name="ArithmeticIntensity">Floating-point (or integer) operations per byte moved during decode, for the roofline; null when unknown.</param>
/// <param name="AchievedFlopsPerSecond">Operations per second decode achieved, for the roofline; null when unknown.</param>
/// <param name="BandwidthFraction">The fraction of the machine's memory bandwidth decode used, or null.</param>
/// <param name="ComputeFraction">The fraction of the machine's compute ceiling decode used, or null.</param>
public sealed record SpeedPoint(string Model, int Batch, int PromptTokens, double TimeToFirstTokenMs, double PrefillTokensPerSecond,
    double DecodeTokensPerSecondPerSequence, double DecodeTokensPerSecond, double EndToEndTokensPerSecond, long? PeakMemoryBytes,
    long WeightBytes, double? ArithmeticIntensity = null, double? AchievedFlopsPerSecond = null, double? BandwidthFraction = null,
    double? ComputeFraction = null);

/// <summary>The ceilings of a roofline: what the machine can stream and compute at most.</summary>
/// <param name="Label">Where the figures come from ("measured, this machine", "H100 SXM, published, computed").</param>
/// <param name="BandwidthBytesPerSecond">Memory bandwidth, bytes per second.</param>
/// <param name="PeakFlopsPerSecond">Compute ceiling, operations per second.</param>
public sealed record MachineCeilings(string Label, double BandwidthBytesPerSecond, double PeakFlopsPerSecond)
{
    /// <summary>Operations per byte where the bandwidth roof meets the compute roof.</summary>
    public double RidgeIntensity => PeakFlopsPerSecond / BandwidthBytesPerSecond;

    /// <summary>The attainable operations per second at <paramref name="intensity"/> operations per byte: min(compute, bandwidth × intensity).</summary>
    public double Attainable(double intensity) => Math.Min(PeakFlopsPerSecond, BandwidthBytesPerSecond * intensity);
}

/// <summary>One variant on the accuracy–size–speed frontier.</summary>
/// <param name="Variant">Its name (W4A16 GPTQ, float32, ...).</param>
/// <param name="Accuracy">Its score on the chosen metric.</param>
/// <param name="WeightBytes">Bytes its weights take.</param>
/// <param name="TokensPerSecond">Its speed on the chosen measure (decode tokens/s at batch 1, say).</param>
public sealed record FrontierPoint(string Variant, double Accuracy, long WeightBytes, double TokensPerSecond);
