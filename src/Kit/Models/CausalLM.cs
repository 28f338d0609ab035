using Kit.Models.Safetensors;
using TorchSharp;
using static TorchSharp.torch;
using Kit.Runtime;

namespace Kit.Models;

/// <summary>
/// A Llama-family causal language model (Llama 2/3, Mistral, Qwen2, SmolLM, TinyLlama) on one device.
/// Parameter names equal the Hugging Face checkpoint keys.
/// </summary>
public sealed class CausalLM : nn.Module
{
    // Finite rather than −∞, so that a fully masked row (a padding query) softmaxes to something finite
    // instead of NaN, which would leak into real positions through 0·NaN.
    const double MaskedScore = -1e9;

    /// <summary>The architecture.</summary>
    public ModelConfig Config { get; }
    /// <summary>The device holding the weights.</summary>
    public Device Device { get; }
    /// <summary>The dtype of the weights and activations.</summary>
    public ScalarType DType { get; }
    /// <summary>The decoder stack (Hugging Face's <c>model</c>).</summary>
    public DecoderStack Model { get; }
    /// <summary>
    /// The output head: a dense <see cref="Linear"/> (sharing the embedding weight when the config ties them), or the
    /// module that <c>linears("lm_head")</c> gave for an untied head (a packed quantized one).
    /// </summary>
    public nn.Module<Tensor, Tensor> LmHead { get; }

    /// <summary>The checkpoint name of the output head.</summary>
    public const string HeadName = "lm_head";

    /// <summary>Creates a model with uninitialised weights.</summary>
    /// <param name="config">The architecture.</param>
    /// <param name="dtype">Dtype of the dense weights and the activations.</param>
    /// <param name="device">Where the weights live (CPU when null).</param>
    /// <param name="linears">Modules that replace dense Linears by name (packed quantized ones): the decoder's and an untied lm_head; or null.</param>
    public CausalLM(ModelConfig config, ScalarType dtype = ScalarType.Float32, Device? device = null, LinearOverride? linears = null) : base("CausalLM")
    {
        Config = config;
        DType = dtype;
        Device = device ?? CPU;
        Model = new DecoderStack(config, dtype, Device, linears);
        LmHead = config.TieWordEmbeddings
            ? new Linear(Model.EmbedTokens.weight!)
            : linears?.Invoke(HeadName) ?? new Linear(config.HiddenSize, config.VocabSize, false, dtype, Device);
        register_module("model", Model);
        register_module("lm_head", LmHead);
        eval();
    }

    /// <summary>
    /// Loads the weights of <paramref name="config"/> from a checkpoint. A tensor the model needs and the
    /// checkpoint lacks is an error naming the tensor; extra tensors (rotary caches) are ignored.
    /// </summary>
    public static CausalLM FromCheckpoint(ModelConfig config, SafetensorsCheckpoint checkpoint,
        ScalarType dtype = ScalarType.Float32, Device? device = null, IProgress<double>? progress = null)
    {
        var model = new CausalLM(config, dtype, device);
        return LoadedOrDisposed(model, () => CheckpointLoader.Load(model, "", checkpoint, dtype, model.Device,
            key => key == "lm_head.weight" && config.TieWordEmbeddings, progress));
    }

    /// <summary>
    /// <paramref name="network"/> once <paramref name="load"/> has filled it; a load that fails disposes it, freeing
    /// the weights loaded so far (and their maps) now rather than at some later collection.
    /// </summary>
    internal static CausalLM LoadedOrDisposed(CausalLM network, Action load)
    {
        try
        {
            load();
            return network;
        }
        catch
        {
            network.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Runs the model on <paramref name="inputIds"/> [B, T] and returns logits [B, T, vocab]
    /// (or [B, 1, vocab] when <paramref name="lastOnly"/>). With a cache, positions continue after the
    /// cached ones and the cache is extended. <paramref name="attentionMask"/> [B, T] marks real tokens
    /// with 1 and padding with 0 (left padding for batched prompts).
    /// </summary>
    public Tensor Forward(Tensor inputIds, KvCache? cache = null, Tensor? attentionMask = null, bool lastOnly = false)
    {
        using var scope = NewDisposeScope();
        long b = inputIds.shape[0], t = inputIds.shape[1];
        long past = cache?.Length ?? 0;
        var ids = inputIds.to(Device);

        var stepMask = attentionMask?.to(Device).to_type(ScalarType.Int64) ?? ones(b, t, ScalarType.Int64, Device);
        var pastMask = cache?.Mask ?? (past > 0 ? ones(b, past, ScalarType.Int64, Device) : null);
        var fullMask = pastMask is null ? stepMask : cat(new[] { pastMask, stepMask }, 1);          // [B, past+T]
        // Positions count real tokens only, so left padding does not shift a prompt's rotary phase.
        var positions = fullMask.cumsum(1).Minus(1).clamp_min(HeldScalars.Of(0))[.., (int)past..];                    // [B, T]
        var additive = AttentionMask(Config, fullMask, past, t, DType);

        var inputs = AttentionInputs.Create(Config, Model.Rotary, positions, additive, DType);

        var h = Model.EmbedTokens.call(ids);
        for (int i = 0; i < Model.Layers.Count; i++)
            h = Model.Layers[i].Forward(h, inputs, cache?[i]);
        if (lastOnly) h = h[.., (int)(t - 1)..];
        var logits = Logits(Model.Norm.call(h));
        cache?.SetMask(fullMask);
        return logits.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Runs B sequences that each keep their own cache (<paramref name="caches"/>[b], batch 1) on
    /// <paramref name="inputIds"/> [B, T]: sequence b's tokens continue after the positions its cache holds, so
    /// sequences of different lengths step together without padding, and a sequence can join or leave between
    /// steps. Where <paramref name="newTokens"/> is given, sequence b's tokens are only the first newTokens[b] of
    /// its row (prompts of different lengths prefilled together; the rest is padding, neither attended to nor
    /// cached). Returns logits [B, T, vocab] (or [B, 1, vocab] at each sequence's last token when
    /// <paramref name="lastOnly"/>).
    /// </summary>
    public Tensor Forward(Tensor inputIds, IReadOnlyList<KvCache> caches, bool lastOnly = false, IReadOnlyList<long>? newTokens = null)
    {
        using var scope = NewDisposeScope();
        long b = inputIds.shape[0], t = inputIds.shape[1];
        if (caches.Count != b) throw new ArgumentException($"{b} sequences need {b} caches, got {caches.Count}", nameof(caches));
        if (caches.Any(c => c.Mask is not null))
            throw new ArgumentException("a per-sequence cache holds one unpadded sequence; this one carries a padding mask from a batched pass", nameof(caches));
        var inputs = SequenceAttentionInputs.Create(Config, Model.Rotary, caches.Select(c => c.Length).ToArray(), t, DType, Device, newTokens);
        var h = Model.EmbedTokens.call(inputIds.to(Device));
        var layerCaches = new LayerKvCache[b];
        for (int i = 0; i < Model.Layers.Count; i++)
        {
            for (int s = 0; s < b; s++) layerCaches[s] = caches[s][i];
            h = Model.Layers[i].Forward(h, inputs, layerCaches);
        }
        if (lastOnly && t > 1)
        {
            var last = inputs.NewTokens.Select((n, s) => s * t + n - 1).ToArray();
            h = h.reshape(b * t, h.shape[^1]).index_select(0, tensor(last, device: h.device)).unsqueeze(1);
        }
        return Logits(Model.Norm.call(h)).MoveToOuterDisposeScope();
    }

    // libtorch's GEMM packs (copies) the whole head weight on every call with more than one row: at batch 8 that
    // took three times as long as reading it. A few rows of float32 on the CPU go through a kernel that reads it once
    // and sums each row alike at any batch size, so a sequence's logits in a batch equal its logits alone.
    unsafe Tensor Logits(Tensor normed)
    {
        if (LmHead is not Linear dense) return LmHead.call(normed);
        var weight = dense.Weight;
        int hidden = (int)weight.shape[1], vocab = (int)weight.shape[0];
        long rows = normed.numel() / hidden;
        bool tracked = is_grad_enabled() && (normed.requires_grad || weight.requires_grad);
        if (rows > Kit.Inference.Kernels.DenseSkinnyMatmul.MaxRows || tracked || dense.Bias is not null
            || normed.dtype != ScalarType.Float32 || weight.dtype != ScalarType.Float32
            || normed.device_type != DeviceType.CPU || weight.device_type != DeviceType.CPU || !weight.is_contiguous()
            || (long)vocab * hidden > int.MaxValue)
            return LmHead.call(normed);
        var x = normed.contiguous();
        var shape = normed.shape;
        shape[^1] = vocab;
        var logits = empty(shape, ScalarType.Float32);
        Kit.Inference.Kernels.DenseSkinnyMatmul.Multiply(
            new ReadOnlySpan<float>(TensorMemory.Address(weight), vocab * hidden), vocab, hidden,
            new ReadOnlySpan<float>(TensorMemory.Address(x), (int)rows * hidden), (int)rows,
            new Span<float>(TensorMemory.Address(logits), (int)rows * vocab));
        return logits;
    }

    /// <summary>
    /// Additive attention mask [B, 1, T, past+T] for <paramref name="fullMask"/> [B, past+T] (1 = real token):
    /// causal, padding keys hidden, and Mistral's sliding window; float32 (float64 for float64 models).
    /// </summary>
    public static Tensor AttentionMask(ModelConfig config, Tensor fullMask, long past, long t, ScalarType dtype)
    {
        var device = fullMask.device;
        long total = past + t;
        var queryPos = ScalarArithmetic.Arange(past, total, device: device).unsqueeze(1);      // [T, 1]
        var keyPos = ScalarArithmetic.Arange(total, device: device).unsqueeze(0);              // [1, S]
        var allowed = keyPos.le(queryPos);
        if (config.SlidingWindow is int w) allowed = allowed.logical_and((queryPos - keyPos).lt(HeldScalars.Of(w)));
        allowed = allowed.unsqueeze(0).logical_and(fullMask.unsqueeze(1).to_type(ScalarType.Bool));   // [B, T, S]
        var wide = dtype == ScalarType.Float64 ? ScalarType.Float64 : ScalarType.Float32;
        return zeros(allowed.shape, wide, device).masked_fill(allowed.logical_not(), HeldScalars.Of(MaskedScore)).unsqueeze(1);
    }

    /// <summary>Bytes held by the weights: dense parameters (a tied matrix counted once) plus compressed Linears (packed integer, FP8, 2:4).</summary>
    public long WeightBytes => named_parameters()
        .Where(p => !(Config.TieWordEmbeddings && p.name == "lm_head.weight"))
        .Sum(p => p.parameter.NumberOfElements * p.parameter.ElementSize)
        + Linears().Select(l => l.Module).OfType<ICompressedWeights>().Sum(c => c.WeightBytes);

    /// <summary>Every Linear with its checkpoint name: those of the decoder layers and, unless it is tied to the embeddings, lm_head.</summary>
    public IEnumerable<(string Name, nn.Module<Tensor, Tensor> Module)> Linears() =>
        Config.TieWordEmbeddings ? DecoderLinears() : DecoderLinears().Append((HeadName, LmHead));

    /// <summary>Every Linear of the decoder layers with its checkpoint name (model.layers.N.self_attn.q_proj, ...).</summary>
    public IEnumerable<(string Name, nn.Module<Tensor, Tensor> Module)> DecoderLinears()
    {
        for (int i = 0; i < Model.Layers.Count; i++)
        {
            var layer = Model.Layers[i];
            foreach (var linear in LayerLinears.All)
                yield return ($"model.layers.{i}.{linear.Name}", linear.Module(layer));
        }
    }
}
