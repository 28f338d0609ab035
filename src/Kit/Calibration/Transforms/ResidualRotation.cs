using Kit.Models;
using Kit.Quantization.Transforms;
using static TorchSharp.torch;

namespace Kit.Calibration.Transforms;

/// <summary>
/// Folds QuaRot's offline rotations into a Llama checkpoint as the pipeline reads it (Ashkboos et al., 2024, §4;
/// SpinQuant's R1 and R2): the residual stream x becomes x·R1 — embeddings E·R1, every Linear that reads it
/// W·diag(g)·R1 with its RMSNorm's weight g fused in and set to 1 (RMSNorm commutes with an orthogonal R1 only without
/// g), every Linear that writes it R1ᵀ·W — and each head's values v·R2, with o_proj's columns of every head ·R2. The
/// model computes the same function in exact arithmetic; in the rotated basis one outlier channel is spread over all,
/// so per-channel weight grids fit better. The products run in float64 and are rounded once to the weights' dtype.
/// </summary>
/// <remarks>
/// A model whose head is tied to its embeddings gets its own head (E·diag(g)·R1 differs from E·R1) and is saved with
/// <c>tie_word_embeddings: false</c>.
/// </remarks>
internal sealed class ResidualRotation : IDisposable
{
    readonly Tensor r1;
    readonly Tensor? r2;
    readonly ModelConfig config;

    /// <summary>The rotations for <paramref name="config"/>'s sizes, on <paramref name="device"/>.</summary>
    public ResidualRotation(ModelConfig config, RotationOptions options, Device device)
    {
        this.config = config;
        r1 = OrthogonalMatrices.Rotation((int)config.HiddenSize, options.Kind, options.Seed).to(device).DetachFromDisposeScope();
        r2 = options.RotateHeads
            ? OrthogonalMatrices.Rotation(config.HeadDim, options.Kind, options.Seed + 1).to(device).DetachFromDisposeScope()
            : null;
    }

    /// <summary>E·R1 for the token embeddings [vocab, hidden].</summary>
    public Tensor Embedding(Tensor embedding) => Rounded(Wide(embedding).matmul(r1), embedding);

    /// <summary>Rotates one decoder layer in place.</summary>
    public void Rotate(DecoderLayer layer)
    {
        FuseAndRotateInputs(layer.InputLayerNorm.Weight, Linears(layer, "self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj"));
        FuseAndRotateInputs(layer.PostAttentionLayerNorm.Weight, Linears(layer, "mlp.gate_proj", "mlp.up_proj"));
        RotateOutputs(Linears(layer, "self_attn.o_proj")[0]);
        RotateOutputs(Linears(layer, "mlp.down_proj")[0]);
        if (r2 is null) return;
        using var scope = NewDisposeScope();
        long heads = config.NumAttentionHeads, kvHeads = config.NumKeyValueHeads, d = config.HeadDim;
        var v = Linears(layer, "self_attn.v_proj")[0];
        // v_h ↦ v_h·R2: rows of head h ↦ R2ᵀ·W_v[h]; the bias of head h ↦ b_h·R2.
        v.Weight.set_(Rounded(r2.T.matmul(Wide(v.Weight).view(kvHeads, d, -1)).view(kvHeads * d, -1), v.Weight));
        if (v.Bias is { } vBias) vBias.set_(Rounded(Wide(vBias).view(kvHeads, d).matmul(r2).view(-1), vBias));
        // Every query head reads its key-value head's rotated values, so o_proj's columns of every head ↦ ·R2.
        var o = Linears(layer, "self_attn.o_proj")[0];
        o.Weight.set_(Rounded(Wide(o.Weight).view(-1, heads, d).matmul(r2).view(-1, heads * d), o.Weight));
    }

    /// <summary>The head W·diag(g)·R1 for the final norm's weight <paramref name="norm"/> g [hidden] and head [vocab, hidden].</summary>
    public Tensor Head(Tensor head, Tensor norm)
    {
        using var scope = NewDisposeScope();
        return Rounded((Wide(head) * Wide(norm).unsqueeze(0)).matmul(r1), head).MoveToOuterDisposeScope();
    }

    /// <summary>Fuses the final norm into <paramref name="head"/> and rotates it, and sets the norm's weight to 1, in place.</summary>
    public void RotateHead(Linear head, RmsNorm norm)
    {
        head.Weight.set_(Head(head.Weight, norm.Weight));
        norm.Weight.set_(ones_like(norm.Weight));
    }

    // W ↦ W·diag(g)·R1 for each Linear reading the norm's output, and g ↦ 1.
    void FuseAndRotateInputs(Tensor norm, IReadOnlyList<Linear> linears)
    {
        using var scope = NewDisposeScope();
        var g = Wide(norm).unsqueeze(0);
        foreach (var linear in linears) linear.Weight.set_(Rounded((Wide(linear.Weight) * g).matmul(r1), linear.Weight));
        norm.set_(ones_like(norm));
    }

    // W ↦ R1ᵀ·W for a Linear adding to the residual stream; its bias b ↦ b·R1.
    void RotateOutputs(Linear linear)
    {
        using var scope = NewDisposeScope();
        linear.Weight.set_(Rounded(r1.T.matmul(Wide(linear.Weight)), linear.Weight));
        if (linear.Bias is { } bias) bias.set_(Rounded(Wide(bias).matmul(r1), bias));
    }

    Tensor Wide(Tensor t) => t.to(r1.device).to_type(ScalarType.Float64);

    static Tensor Rounded(Tensor value, Tensor like) => value.to_type(like.dtype).to(like.device).contiguous();

    static IReadOnlyList<Linear> Linears(DecoderLayer layer, params string[] names) =>
        names.Select(n => DenseLinears.Of(layer, n)).ToList();

    /// <summary>Frees the rotations.</summary>
    public void Dispose()
    {
        r1.Dispose();
        r2?.Dispose();
    }
}
