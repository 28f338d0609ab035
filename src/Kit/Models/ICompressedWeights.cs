namespace Kit.Models;

/// <summary>
/// A module that keeps its weights in a compressed form outside its registered parameters (packed codes, FP8 bytes,
/// 2:4 values) and counts the bytes they take itself.
/// </summary>
public interface ICompressedWeights
{
    /// <summary>Bytes the module's weights (and bias) hold.</summary>
    long WeightBytes { get; }
}
