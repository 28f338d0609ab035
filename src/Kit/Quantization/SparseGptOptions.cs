namespace Kit.Quantization;

/// <summary>
/// Settings of <see cref="SparseGpt"/>, with the reference <c>fasterprune</c>'s defaults
/// (<c>blocksize=128, percdamp=.01</c>) and llm-compressor's names.
/// </summary>
public sealed record SparseGptOptions
{
    /// <summary>What to prune: a sparsity ratio (mask chosen per block) or N:M.</summary>
    public SparsityPattern Pattern { get; init; } = SparsityPattern.Unstructured(0.5);

    /// <summary>Columns pruned together before the lazy update of the rest (the reference's <c>blocksize</c>).</summary>
    public int BlockSize { get; init; } = 128;

    /// <summary>
    /// λ = fraction · mean(diag H) is added to the diagonal of H (the reference's <c>percdamp</c>); 0 is
    /// allowed. When Cholesky fails the fraction is raised tenfold (to 0.01 from 0) and tried again.
    /// </summary>
    public double DampeningFraction { get; init; } = 0.01;

    /// <summary>Throws <see cref="ArgumentException"/> naming the option that is out of range for a weight with <paramref name="inFeatures"/> columns.</summary>
    public SparseGptOptions Validated(long inFeatures)
    {
        if (Pattern is null)
            throw new ArgumentException("SparseGptOptions.Pattern is required", nameof(Pattern));
        if (BlockSize <= 0)
            throw new ArgumentException($"SparseGptOptions.BlockSize must be positive, got {BlockSize}", nameof(BlockSize));
        if (!(DampeningFraction >= 0) || double.IsInfinity(DampeningFraction))
            throw new ArgumentException($"SparseGptOptions.DampeningFraction must be a finite number ≥ 0, got {DampeningFraction}", nameof(DampeningFraction));
        // The reference picks N:M groups at block-local columns i % M == 0, so blocks must hold whole groups.
        if (Pattern.IsNOfM && BlockSize % Pattern.M != 0)
            throw new ArgumentException($"SparseGptOptions.BlockSize {BlockSize} is not a multiple of SparsityPattern.M = {Pattern.M}", nameof(BlockSize));
        Pattern.CheckColumns(inFeatures);
        return this;
    }
}
