namespace Kit.Reports;

/// <summary>One variant on the accuracy–size–speed frontier.</summary>
/// <param name="Variant">Its name (W4A16 GPTQ, float32, ...).</param>
/// <param name="Accuracy">Its score on the chosen metric.</param>
/// <param name="WeightBytes">Bytes its weights take.</param>
/// <param name="TokensPerSecond">Its speed on the chosen measure (decode tokens/s at batch 1, say).</param>
public sealed record FrontierPoint(string Variant, double Accuracy, long WeightBytes, double TokensPerSecond);
