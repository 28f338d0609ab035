namespace Kit.Quantization.Transforms;

/// <summary>
/// An orthogonal rotation of the residual stream (QuaRot's and SpinQuant's R1) and of each attention head's values
/// (R2), folded into the weights before they are quantized: the model computes the same function, in a basis where no
/// channel carries an outlier, and is saved as a standard Llama checkpoint. The rotations that must run online (R3 on
/// queries and keys after RoPE, R4 on down_proj's inputs) need kernel support that vLLM and llama.cpp do not have for
/// a plain checkpoint, and are left out; so is SpinQuant's training of the rotations (Cayley SGD).
/// </summary>
public sealed record RotationOptions
{
    /// <summary>Which orthogonal matrices (llm-compressor's <c>transform_type</c>).</summary>
    public RotationKind Kind { get; init; } = RotationKind.RandomHadamard;

    /// <summary>Seed of the random signs or matrices.</summary>
    public long Seed { get; init; }

    /// <summary>Whether each head's values and o_proj's inputs are rotated too (R2).</summary>
    public bool RotateHeads { get; init; } = true;
}

/// <summary>The orthogonal matrices a rotation uses (see <see cref="OrthogonalMatrices.Rotation"/>).</summary>
public enum RotationKind
{
    /// <summary>Sylvester's Hadamard matrix (sizes that are not a power of two get a random orthogonal matrix).</summary>
    Hadamard,
    /// <summary>The Hadamard matrix with its columns' signs flipped at random (QuaRot).</summary>
    RandomHadamard,
    /// <summary>A random orthogonal matrix for every size.</summary>
    RandomMatrix,
}

/// <summary>Names of <see cref="RotationKind"/> as llm-compressor spells them.</summary>
public static class RotationKinds
{
    /// <summary>hadamard, random-hadamard or random-matrix.</summary>
    public static RotationKind Parse(string name) => name.ToLowerInvariant() switch
    {
        "hadamard" => RotationKind.Hadamard,
        "random-hadamard" => RotationKind.RandomHadamard,
        "random-matrix" => RotationKind.RandomMatrix,
        _ => throw new ArgumentException($"unknown rotation '{name}' (use hadamard, random-hadamard or random-matrix)"),
    };
}
