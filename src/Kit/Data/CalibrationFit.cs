namespace Kit.Data;

/// <summary>Calibration options scaled down to a model and a corpus, and why each value changed.</summary>
/// <param name="Options">The options to sample with.</param>
/// <param name="Changes">One sentence per value that changed, e.g. "sequence length 2048 → 512: ..."; empty when none did.</param>
public sealed record CalibrationFit(CalibrationOptions Options, IReadOnlyList<string> Changes);
