using Kit.Models.Safetensors;
using Kit.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Kit.Models;

// The Llama-family transformer, read top to bottom: norm, rotary embedding, linear, attention, MLP,
// decoder layer, model. Sub-modules are registered under Hugging Face's names so that parameter
// names equal checkpoint keys (model.layers.0.self_attn.q_proj.weight).

/// <summary>
/// Supplies the module for the Linear called <paramref name="name"/> (e.g. model.layers.0.self_attn.q_proj)
/// when it should not be a dense <see cref="Linear"/> (a packed quantized one), or null for a dense one.
/// </summary>
public delegate nn.Module<Tensor, Tensor>? LinearOverride(string name);

/// <summary>Root-mean-square layer norm, computed in float32 (or wider) as Hugging Face does.</summary>
public sealed class RmsNorm : nn.Module<Tensor, Tensor>
{
    readonly Scalar eps;

    /// <summary>The learned per-channel gain.</summary>
    public Parameter Weight { get; }

    /// <summary>Creates an uninitialised norm of <paramref name="size"/> channels.</summary>
    public RmsNorm(long size, double eps, ScalarType dtype, Device device) : base("RmsNorm")
    {
        this.eps = HeldScalars.Of(eps);
        Weight = new Parameter(ones(size, dtype: dtype, device: device), requires_grad: false);
        register_parameter("weight", Weight);
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        // Every op here runs twice per layer per decode step, so conversions that would be no-ops are not dispatched.
        bool wideAlready = x.dtype is ScalarType.Float32 or ScalarType.Float64;
        var wide = wideAlready ? x : x.to_type(ScalarType.Float32);
        var normed = wide * (wide * wide).mean(new long[] { -1 }, keepdim: true).add_(eps, HeldScalars.One).rsqrt_();
        return (Weight * (wideAlready ? normed : normed.to_type(x.dtype))).MoveToOuterDisposeScope();
    }
}

/// <summary>A linear layer y = x Wᵀ + b with W stored [out, in], as nn.Linear and every checkpoint store it.</summary>
public sealed class Linear : nn.Module<Tensor, Tensor>
{
    /// <summary>The weight, shape [out_features, in_features].</summary>
    public Parameter Weight { get; }
    /// <summary>The bias, or null.</summary>
    public Parameter? Bias { get; }

    /// <summary>Creates an uninitialised layer (weights come from a checkpoint or an initialiser).</summary>
    public Linear(long inFeatures, long outFeatures, bool hasBias, ScalarType dtype, Device device) : base("Linear")
    {
        Weight = new Parameter(empty(outFeatures, inFeatures, dtype: dtype, device: device), requires_grad: false);
        register_parameter("weight", Weight);
        if (hasBias)
        {
            Bias = new Parameter(zeros(outFeatures, dtype: dtype, device: device), requires_grad: false);
            register_parameter("bias", Bias);
        }
    }

    /// <summary>Creates a bias-free layer over an existing weight (tied embeddings share one matrix).</summary>
    public Linear(Parameter sharedWeight) : base("Linear")
    {
        Weight = sharedWeight;
        register_parameter("weight", Weight);
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor x) => nn.functional.linear(x, Weight, Bias);
}

/// <summary>
/// Rotary position embedding exactly as Hugging Face computes it: frequencies
/// θ^(−2i/d), optionally rescaled ("linear" or Llama 3's smooth band scaling), applied with
/// <c>rotate_half</c> so that dimension j pairs with j + d/2.
/// </summary>
public sealed class RotaryEmbedding
{
    readonly Tensor invFreq;

    /// <summary>Builds the inverse frequencies for <paramref name="config"/> on <paramref name="device"/>.</summary>
    public RotaryEmbedding(ModelConfig config, Device device) =>
        invFreq = tensor(InverseFrequencies(config), device: device).DetachFromDisposeScope();

    /// <summary>The inverse frequencies after scaling, in float64, for references and tests.</summary>
    public static double[] InverseFrequencies(ModelConfig config)
    {
        int dim = config.HeadDim;
        var freq = new double[dim / 2];
        for (int i = 0; i < freq.Length; i++) freq[i] = 1.0 / Math.Pow(config.RopeTheta, 2.0 * i / dim);
        if (config.RopeScaling is { } s) Rescale(freq, s);
        return freq;
    }

    static void Rescale(double[] freq, RopeScaling s)
    {
        if (s.Type == "linear")
        {
            for (int i = 0; i < freq.Length; i++) freq[i] /= s.Factor;
            return;
        }
        // Llama 3 (transformers' _compute_llama3_parameters): long wavelengths are divided by the
        // factor, short ones kept, and the band between is interpolated smoothly.
        double lowWavelen = s.OriginalMaxPositionEmbeddings / s.LowFreqFactor;
        double highWavelen = s.OriginalMaxPositionEmbeddings / s.HighFreqFactor;
        for (int i = 0; i < freq.Length; i++)
        {
            double wavelen = 2 * Math.PI / freq[i];
            if (wavelen > lowWavelen) freq[i] /= s.Factor;
            else if (wavelen >= highWavelen)
            {
                double smooth = (s.OriginalMaxPositionEmbeddings / wavelen - s.LowFreqFactor) / (s.HighFreqFactor - s.LowFreqFactor);
                freq[i] = (1 - smooth) * freq[i] / s.Factor + smooth * freq[i];
            }
        }
    }

    /// <summary>
    /// cos and sin of the angles at <paramref name="positions"/> [B, T], each [B, T, 1, head_dim] in
    /// <paramref name="dtype"/>, to broadcast over the heads of [B, T, heads, head_dim]. Sin carries
    /// rotate_half's sign (−sin on the first half) so that <see cref="Apply"/> needs no negation.
    /// </summary>
    public (Tensor Cos, Tensor Sin) Angles(Tensor positions, ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        // Angles in float32 as Hugging Face computes them, or float64 for a float64 model.
        var wide = dtype == ScalarType.Float64 ? ScalarType.Float64 : ScalarType.Float32;
        var angles = positions.to_type(wide).unsqueeze(-1) * invFreq.to_type(wide);         // [B, T, d/2]
        var cos = angles.cos();
        var sin = angles.sin();
        var fullCos = cat(new[] { cos, cos }, -1).unsqueeze(2).to_type(dtype);
        var signedSin = cat(new[] { -sin, sin }, -1).unsqueeze(2).to_type(dtype);
        return (fullCos.MoveToOuterDisposeScope(), signedSin.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// Rotates <paramref name="x"/> [B, T, heads, head_dim] by the angles of <see cref="Angles"/>:
    /// x·cos + rotate_half(x)·sin, where rotate_half(x) = (−x₂, x₁) is the half-swap (x₂, x₁) times the sign in sin.
    /// </summary>
    public static Tensor Apply(Tensor x, Tensor cos, Tensor signedSin)
    {
        using var scope = NewDisposeScope();
        long half = x.shape[^1] / 2;
        return (x * cos).addcmul_(x.roll(half, -1), signedSin, HeldScalars.One).MoveToOuterDisposeScope();
    }
}

/// <summary>Grouped-query self-attention with rotary embeddings and an optional KV cache.</summary>
public sealed class Attention : nn.Module
{
    readonly int heads, kvHeads, headDim;

    /// <summary>Query projection.</summary>
    public nn.Module<Tensor, Tensor> QProj { get; }
    /// <summary>Key projection.</summary>
    public nn.Module<Tensor, Tensor> KProj { get; }
    /// <summary>Value projection.</summary>
    public nn.Module<Tensor, Tensor> VProj { get; }
    /// <summary>Output projection.</summary>
    public nn.Module<Tensor, Tensor> OProj { get; }

    /// <summary>Creates the attention block of one decoder layer.</summary>
    public Attention(ModelConfig c, ScalarType dtype, Device device, string prefix = "", LinearOverride? linears = null)
        : base("Attention")
    {
        (heads, kvHeads, headDim) = (c.NumAttentionHeads, c.NumKeyValueHeads, c.HeadDim);
        QProj = linears?.Invoke(prefix + "q_proj") ?? new Linear(c.HiddenSize, heads * headDim, c.AttentionQkvBias, dtype, device);
        KProj = linears?.Invoke(prefix + "k_proj") ?? new Linear(c.HiddenSize, kvHeads * headDim, c.AttentionQkvBias, dtype, device);
        VProj = linears?.Invoke(prefix + "v_proj") ?? new Linear(c.HiddenSize, kvHeads * headDim, c.AttentionQkvBias, dtype, device);
        OProj = linears?.Invoke(prefix + "o_proj") ?? new Linear(heads * headDim, c.HiddenSize, c.AttentionOutputBias, dtype, device);
        register_module("q_proj", QProj);
        register_module("k_proj", KProj);
        register_module("v_proj", VProj);
        register_module("o_proj", OProj);
    }

    /// <summary>Attends <paramref name="x"/> [B, T, hidden] over the cached keys plus its own.</summary>
    public Tensor Forward(Tensor x, AttentionInputs inputs, LayerKvCache? cache)
    {
        using var scope = NewDisposeScope();
        var (q, k, v) = Project(x, inputs.Cos, inputs.Sin);
        if (cache is not null) (k, v) = cache.Append(k, v);
        return OProj.call(Attend(q, k, v, inputs.Mask)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Attends <paramref name="x"/> [B, T, hidden], where row b belongs to a sequence with its own cache
    /// <paramref name="caches"/>[b] (batch 1): the projections see all B·T rows at once, attention runs per
    /// sequence over that sequence's keys only, so no sequence ever reads padding.
    /// </summary>
    public Tensor Forward(Tensor x, SequenceAttentionInputs inputs, IReadOnlyList<LayerKvCache> caches)
    {
        using var scope = NewDisposeScope();
        var (q, k, v) = Project(x, inputs.Cos, inputs.Sin);
        long b = q.shape[0], t = q.shape[1];
        if (t == 1 && inputs.Masks.All(m => m is null) && q.device_type == DeviceType.CPU && q.dtype == ScalarType.Float32)
            return OProj.call(DecodeStep(q, k, v, caches)).MoveToOuterDisposeScope();
        // The reshapes around attention run once for the batch, not once per sequence: at eight sequences and 22
        // layers each saved operation is 176 TorchSharp calls per decode step.
        var grouped = Grouped(q);
        long group = heads / kvHeads;
        var y = new Tensor[caches.Count];
        for (int s = 0; s < y.Length; s++)
        {
            // A shorter prompt padded to T: only its own tokens are cached and attend; the padding rows' outputs are 0.
            long n = inputs.NewTokens[s];
            var (keys, values) = caches[s].Append(k.narrow(0, s, 1).narrow(2, 0, n), v.narrow(0, s, 1).narrow(2, 0, n));
            y[s] = nn.functional.scaled_dot_product_attention(grouped.narrow(0, s, 1).narrow(2, 0, n * group), keys, values, inputs.Masks[s]);
            if (n < t) y[s] = nn.functional.pad(y[s], new long[] { 0, 0, 0, (t - n) * group });
        }
        return OProj.call(Ungrouped(y.Length == 1 ? y[0] : cat(y, 0), b, t)).MoveToOuterDisposeScope();
    }

    // One new float32 token per sequence on the CPU: the cache writes and the attention of every sequence in one
    // kernel call (DecodeAttention) instead of ten libtorch operations per sequence. → [B, 1, heads·head_dim].
    unsafe Tensor DecodeStep(Tensor q, Tensor k, Tensor v, IReadOnlyList<LayerKvCache> caches)
    {
        var queries = q.contiguous();
        var keys = k.contiguous();
        var values = v.contiguous();
        var states = new Kit.Inference.Kernels.DecodeAttention.Cache[caches.Count];
        for (int s = 0; s < states.Length; s++)
        {
            var (keyBuffer, valueBuffer) = caches[s].Reserve(keys.narrow(0, s, 1), 1);
            states[s] = new((nint)TensorMemory.Address(keyBuffer), (nint)TensorMemory.Address(valueBuffer), (int)keyBuffer.shape[2], (int)caches[s].Length);
        }
        var y = empty(new long[] { q.shape[0], 1, heads * headDim }, ScalarType.Float32);
        Kit.Inference.Kernels.DecodeAttention.Step((float*)TensorMemory.Address(queries), (float*)TensorMemory.Address(keys), (float*)TensorMemory.Address(values),
            heads, kvHeads, headDim, states, (float*)TensorMemory.Address(y));
        foreach (var cache in caches) cache.Advance(1);
        return y;
    }

    // q [B, T, heads, head_dim]; k and v [B, kv_heads, T, head_dim], rotated.
    (Tensor Q, Tensor K, Tensor V) Project(Tensor x, Tensor cos, Tensor sin)
    {
        long b = x.shape[0], t = x.shape[1];
        var q = RotaryEmbedding.Apply(QProj.call(x).view(b, t, heads, headDim), cos, sin);
        var k = RotaryEmbedding.Apply(KProj.call(x).view(b, t, kvHeads, headDim), cos, sin).transpose(1, 2);
        var v = VProj.call(x).view(b, t, kvHeads, headDim).transpose(1, 2);
        return (q, k, v);
    }

    // q [B, T, heads, head_dim] over keys and values [B, kv_heads, S, head_dim] → [B, T, heads·head_dim].
    Tensor Attend(Tensor q, Tensor k, Tensor v, Tensor? mask) =>
        Ungrouped(nn.functional.scaled_dot_product_attention(Grouped(q), k, v, mask), q.shape[0], q.shape[1]);   // scale 1/√head_dim

    // Query head kv·group + g reads key/value head kv. Stacking a group's queries as extra rows (t, g) of its kv head
    // lets every head read the keys in place instead of from `group` copies of the cache: [B, kv_heads, T·group, head_dim].
    Tensor Grouped(Tensor q)
    {
        long b = q.shape[0], t = q.shape[1];
        return q.view(b, t, kvHeads, heads / kvHeads, headDim).permute(0, 2, 1, 3, 4).reshape(b, kvHeads, t * (heads / kvHeads), headDim);
    }

    // The attention output [B, kv_heads, T·group, head_dim] back in query-head order, [B, T, heads·head_dim].
    Tensor Ungrouped(Tensor y, long b, long t) =>
        y.reshape(b, kvHeads, t, heads / kvHeads, headDim).permute(0, 2, 1, 3, 4).reshape(b, t, heads * headDim);
}

/// <summary>The SwiGLU MLP: down(silu(gate(x)) · up(x)).</summary>
public sealed class Mlp : nn.Module<Tensor, Tensor>
{
    /// <summary>Gate projection (the SiLU branch).</summary>
    public nn.Module<Tensor, Tensor> GateProj { get; }
    /// <summary>Up projection (the linear branch).</summary>
    public nn.Module<Tensor, Tensor> UpProj { get; }
    /// <summary>Down projection back to the residual width.</summary>
    public nn.Module<Tensor, Tensor> DownProj { get; }

    /// <summary>Creates the MLP of one decoder layer.</summary>
    public Mlp(ModelConfig c, ScalarType dtype, Device device, string prefix = "", LinearOverride? linears = null) : base("Mlp")
    {
        GateProj = linears?.Invoke(prefix + "gate_proj") ?? new Linear(c.HiddenSize, c.IntermediateSize, c.MlpBias, dtype, device);
        UpProj = linears?.Invoke(prefix + "up_proj") ?? new Linear(c.HiddenSize, c.IntermediateSize, c.MlpBias, dtype, device);
        DownProj = linears?.Invoke(prefix + "down_proj") ?? new Linear(c.IntermediateSize, c.HiddenSize, c.MlpBias, dtype, device);
        register_module("gate_proj", GateProj);
        register_module("up_proj", UpProj);
        register_module("down_proj", DownProj);
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return DownProj.call(nn.functional.silu(GateProj.call(x)) * UpProj.call(x)).MoveToOuterDisposeScope();
    }
}

/// <summary>One pre-norm decoder layer: x + attn(norm(x)), then + mlp(norm(·)).</summary>
public sealed class DecoderLayer : nn.Module
{
    readonly ModelConfig config;
    readonly RotaryEmbedding rope;

    /// <summary>Self-attention.</summary>
    public Attention SelfAttn { get; }
    /// <summary>Feed-forward block.</summary>
    public Mlp Mlp { get; }
    /// <summary>Norm before attention.</summary>
    public RmsNorm InputLayerNorm { get; }
    /// <summary>Norm before the MLP.</summary>
    public RmsNorm PostAttentionLayerNorm { get; }

    /// <summary>Creates one decoder layer.</summary>
    public DecoderLayer(ModelConfig c, RotaryEmbedding rope, ScalarType dtype, Device device, string prefix = "", LinearOverride? linears = null)
        : base("DecoderLayer")
    {
        (config, this.rope) = (c, rope);
        SelfAttn = new Attention(c, dtype, device, prefix + "self_attn.", linears);
        Mlp = new Mlp(c, dtype, device, prefix + "mlp.", linears);
        InputLayerNorm = new RmsNorm(c.HiddenSize, c.RmsNormEps, dtype, device);
        PostAttentionLayerNorm = new RmsNorm(c.HiddenSize, c.RmsNormEps, dtype, device);
        register_module("self_attn", SelfAttn);
        register_module("mlp", Mlp);
        register_module("input_layernorm", InputLayerNorm);
        register_module("post_attention_layernorm", PostAttentionLayerNorm);
    }

    /// <summary>Runs the layer on hidden states [B, T, hidden] with the inputs every layer of the pass shares.</summary>
    public Tensor Forward(Tensor x, AttentionInputs inputs, LayerKvCache? cache)
    {
        using var scope = NewDisposeScope();
        var h = x.Plus(SelfAttn.Forward(InputLayerNorm.call(x), inputs, cache));
        return h.Plus(Mlp.call(PostAttentionLayerNorm.call(h))).MoveToOuterDisposeScope();
    }

    /// <summary>Runs the layer on hidden states [B, T, hidden] of B sequences that each have their own cache.</summary>
    public Tensor Forward(Tensor x, SequenceAttentionInputs inputs, IReadOnlyList<LayerKvCache> caches)
    {
        using var scope = NewDisposeScope();
        var h = x.Plus(SelfAttn.Forward(InputLayerNorm.call(x), inputs, caches));
        return h.Plus(Mlp.call(PostAttentionLayerNorm.call(h))).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Runs the layer alone on hidden states [B, T, hidden] at <paramref name="positions"/> [B, T] under the
    /// additive <paramref name="mask"/> [B, 1, T, cached + T] of <see cref="CausalLM.AttentionMask"/>.
    /// </summary>
    public Tensor Forward(Tensor x, Tensor positions, Tensor mask, LayerKvCache? cache)
    {
        using var scope = NewDisposeScope();
        return Forward(x, AttentionInputs.Create(config, rope, positions, mask, x.dtype), cache).MoveToOuterDisposeScope();
    }
}

/// <summary>The decoder stack without the output head (Hugging Face's <c>LlamaModel</c>).</summary>
public sealed class DecoderStack : nn.Module
{
    /// <summary>Token embedding [vocab, hidden].</summary>
    public Embedding EmbedTokens { get; }
    /// <summary>The decoder layers in order.</summary>
    public ModuleList<DecoderLayer> Layers { get; }
    /// <summary>The final norm.</summary>
    public RmsNorm Norm { get; }
    /// <summary>The rotary embedding every layer uses.</summary>
    public RotaryEmbedding Rotary { get; }

    /// <summary>Creates the stack.</summary>
    public DecoderStack(ModelConfig c, ScalarType dtype, Device device, LinearOverride? linears = null) : base("DecoderStack")
    {
        EmbedTokens = nn.Embedding(c.VocabSize, c.HiddenSize, device: device, dtype: dtype);
        EmbedTokens.weight!.requires_grad = false;
        Rotary = new RotaryEmbedding(c, device);
        Layers = new ModuleList<DecoderLayer>(Enumerable.Range(0, c.NumHiddenLayers).Select(i => new DecoderLayer(c, Rotary, dtype, device, $"model.layers.{i}.", linears)).ToArray());
        Norm = new RmsNorm(c.HiddenSize, c.RmsNormEps, dtype, device);
        register_module("embed_tokens", EmbedTokens);
        register_module("layers", Layers);
        register_module("norm", Norm);
    }
}
