using static TorchSharp.torch;

namespace Kit.Quantization.Modifiers;

/// <summary>
/// One compression algorithm applied to one weight matrix, what llm-compressor calls a modifier: the "how" of a recipe.
/// A module's modifiers run one after the other (<see cref="WeightModifiers.For"/>), each on the previous one's output.
/// </summary>
public interface IWeightModifier
{
    /// <summary>The algorithm, for messages.</summary>
    CompressionMethod Method { get; }

    /// <summary>Whether it reads the Hessian of the module's inputs (SparseGPT, GPTQ) or its diagonal (Wanda).</summary>
    bool NeedsHessian { get; }

    /// <summary>
    /// Compresses <paramref name="weight"/> [out, in]. <paramref name="hessian"/> is the inputs' H = 2/n Σ x xᵀ when
    /// <see cref="NeedsHessian"/>; <paramref name="pruned"/> marks (true) weights an earlier modifier pruned, which must
    /// stay zero.
    /// </summary>
    CompressionResult Apply(Tensor weight, Tensor? hessian, Tensor? pruned);
}
