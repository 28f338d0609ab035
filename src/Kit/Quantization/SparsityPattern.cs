using System.Globalization;

namespace Kit.Quantization;

/// <summary>
/// Which weights a pruning method zeroes: a fraction of them anywhere (unstructured), or N of every M
/// consecutive weights along the input dimension (N:M, e.g. 2:4). N counts the pruned weights, as the
/// SparseGPT reference's <c>prunen:prunem</c> and llm-compressor's <c>mask_structure</c>; for 2:4 both
/// readings agree.
/// </summary>
public sealed record SparsityPattern
{
    SparsityPattern(double sparsity, int n, int m)
    {
        Sparsity = sparsity;
        N = n;
        M = m;
    }

    /// <summary>Fraction of the weights that are zeroed (N / M for an N:M pattern).</summary>
    public double Sparsity { get; }

    /// <summary>Weights zeroed in every group of <see cref="M"/>; 0 when unstructured.</summary>
    public int N { get; }

    /// <summary>Group length along the input dimension; 0 when unstructured.</summary>
    public int M { get; }

    /// <summary>Whether this is an N:M pattern.</summary>
    public bool IsNOfM => M > 0;

    /// <summary>Zero a fraction <paramref name="sparsity"/> in [0, 1] of the weights, wherever the method chooses.</summary>
    public static SparsityPattern Unstructured(double sparsity)
    {
        if (!(sparsity >= 0 && sparsity <= 1))
            throw new ArgumentException($"SparsityPattern.Sparsity must be in [0, 1], got {sparsity.ToString(CultureInfo.InvariantCulture)}", nameof(sparsity));
        return new SparsityPattern(sparsity, 0, 0);
    }

    /// <summary>Zero <paramref name="n"/> of every <paramref name="m"/> consecutive input weights (0 &lt; n &lt; m).</summary>
    public static SparsityPattern NOfM(int n, int m)
    {
        if (m < 2)
            throw new ArgumentException($"SparsityPattern.M must be at least 2, got {m}", nameof(m));
        if (n <= 0 || n >= m)
            throw new ArgumentException($"SparsityPattern.N must satisfy 0 < N < M in {n}:{m} (N zeros in every M weights)", nameof(n));
        return new SparsityPattern((double)n / m, n, m);
    }

    /// <summary>Reads <c>"2:4"</c> as an N:M pattern and a number such as <c>"0.5"</c> as an unstructured sparsity.</summary>
    public static SparsityPattern Parse(string text)
    {
        var parts = text.Split(':');
        if (parts.Length == 2
            && int.TryParse(parts[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out int n)
            && int.TryParse(parts[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out int m))
            return NOfM(n, m);
        if (parts.Length == 1 && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double sparsity))
            return Unstructured(sparsity);
        throw new ArgumentException($"sparsity pattern must be a fraction such as 0.5 or N:M such as 2:4, got '{text}'", nameof(text));
    }

    /// <summary>Throws <see cref="ArgumentException"/> when an N:M pattern does not tile <paramref name="inFeatures"/> columns.</summary>
    public void CheckColumns(long inFeatures)
    {
        if (IsNOfM && inFeatures % M != 0)
            throw new ArgumentException($"in_features {inFeatures} of the weight is not a multiple of SparsityPattern.M = {M} ({this})", "W");
    }

    /// <summary><c>N:M</c>, or the sparsity as a fraction.</summary>
    public override string ToString() => IsNOfM ? $"{N}:{M}" : Sparsity.ToString(CultureInfo.InvariantCulture);
}
