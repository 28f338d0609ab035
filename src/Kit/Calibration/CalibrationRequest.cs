using Kit.Data;

namespace Kit.Calibration;

/// <summary>Where calibration data comes from and how much of it to use.</summary>
/// <param name="Source">A text, JSON Lines or Parquet file, a folder of them, a hub dataset id, or "generated" (the model samples its own).</param>
/// <param name="Options">Samples, sequence length and seed (llm-compressor's defaults, fitted to the model).</param>
public sealed record CalibrationRequest(string Source, CalibrationOptions Options);
