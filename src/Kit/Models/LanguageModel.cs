using Kit.Formats.CompressedTensors;
using Kit.Formats.Gguf;
using Kit.Formats;
using Kit.Inference;
using Kit.Inference.Fp8;
using Kit.Inference.Sparse;
using Kit.Models.Hub;
using Kit.Quantization;
using TorchSharp;
using Kit.Models.Safetensors;
using Kit.Models.Tokenizers;
using Kit.Runtime;
using static TorchSharp.torch;

namespace Kit.Models;

/// <summary>How to load a model.</summary>
public sealed record ModelLoadOptions
{
    /// <summary>"cpu", "cuda", "cuda:N" or "auto" (CUDA when present).</summary>
    public string Device { get; init; } = "auto";
    /// <summary>Weight dtype: "float32", "bfloat16", "float16", "float64", or "auto" (float32 on CPU, bfloat16 on CUDA).</summary>
    public string DType { get; init; } = "auto";
    /// <summary>Hub revision (branch, tag or commit) when the model is a hub id.</summary>
    public string Revision { get; init; } = "main";
    /// <summary>Hub endpoint, cache and token; null reads the environment as huggingface_hub does.</summary>
    public HubOptions? Hub { get; init; }
    /// <summary>Download progress for hub models.</summary>
    public IProgress<DownloadProgress>? DownloadProgress { get; init; }
    /// <summary>Weight-loading progress, 0 to 1.</summary>
    public IProgress<double>? LoadProgress { get; init; }
    /// <summary>
    /// Whether packed weight-only Linears multiply float32 activations (<see cref="QuantizedLinear.ExactActivations"/>),
    /// the product with the dequantized weights as vLLM serves W4A16/W8A16, instead of the faster default that
    /// quantizes activations to int8 per 32-value block as llama.cpp does. Accuracy measurements set it.
    /// </summary>
    public bool ExactActivations { get; init; }
    /// <summary>
    /// Whether packed weight-only Linears multiply prompts in bfloat16 (<see cref="QuantizedLinear.BFloat16Prefill"/>);
    /// null leaves each layer's default: on where the CPU has matrix units (Intel AMX). Ignored with
    /// <see cref="ExactActivations"/>.
    /// </summary>
    public bool? BFloat16Prefill { get; init; }
}

/// <summary>A causal language model together with its tokenizer and the folder it came from.</summary>
public sealed class LanguageModel : IDisposable
{
    /// <summary>The network.</summary>
    public CausalLM Model { get; }
    /// <summary>The tokenizer.</summary>
    public KitTokenizer Tokenizer { get; }
    /// <summary>The local folder holding config.json, weights and tokenizer files.</summary>
    public string Folder { get; }
    /// <summary>What the user asked for: a folder, a hub id, "default" or "stories260K".</summary>
    public string Source { get; }

    /// <summary>Wraps an already built model and tokenizer.</summary>
    public LanguageModel(CausalLM model, KitTokenizer tokenizer, string folder, string source)
    {
        (Model, Tokenizer, Folder, Source) = (model, tokenizer, folder, source);
    }

    /// <summary>The architecture.</summary>
    public ModelConfig Config => Model.Config;

    /// <summary>
    /// Loads <paramref name="model"/>: a folder with config.json, "default" for Kit's embedded model, "stories260K"
    /// for the bundled llama2.c model, or a Hugging Face hub id such as <c>HuggingFaceTB/SmolLM2-135M</c>
    /// (downloaded once into the hub cache).
    /// </summary>
    public static LanguageModel Load(string model, ModelLoadOptions? options = null)
    {
        options ??= new ModelLoadOptions();
        if (File.Exists(model) && GgufImporter.IsGgufFile(model)) return GgufImporter.Load(model, options);
        string folder = ResolveFolder(model, options);
        var config = ModelConfig.Load(Path.Combine(folder, "config.json"));
        var device = KitDevice.Parse(options.Device);
        var dtype = ParseDType(options.DType, device);
        var tokenizer = TokenizerLoader.FromFolder(folder);
        if (CompressedTensorsReader.IsCompressedTensors(folder))
        {
            var packed = LoadCompressed(config, folder, dtype, device, options.LoadProgress);
            foreach (var linear in packed.Linears().Select(l => l.Module).OfType<QuantizedLinear>())
            {
                linear.ExactActivations = options.ExactActivations;
                linear.BFloat16Prefill = options.BFloat16Prefill ?? linear.BFloat16Prefill;
            }
            return new LanguageModel(packed, tokenizer, folder, model);
        }
        using var checkpoint = SafetensorsCheckpoint.Open(folder);
        var network = SparsityMetadata.Read(folder) is { IsTwoOfFour: true } sparsity
            ? LoadSparse24(config, checkpoint, sparsity, dtype, device, options.LoadProgress)
            : CausalLM.FromCheckpoint(config, checkpoint, dtype, device, options.LoadProgress);
        return new LanguageModel(network, tokenizer, folder, model);
    }

    /// <summary>
    /// A dense folder whose <c>kit_compression.json</c> says its Linears were pruned 2:4: each pruned Linear
    /// whose weight has at most 2 non-zeros in every 4 input columns keeps only those values and their
    /// positions (<see cref="Sparse24Linear"/>); one that does not stays dense. Pruned and quantized
    /// compressed-tensors folders load through <see cref="LoadCompressed"/> instead: their mask lives in codes
    /// equal to the zero point, and they stay <see cref="QuantizedLinear"/>.
    /// </summary>
    static CausalLM LoadSparse24(ModelConfig config, SafetensorsCheckpoint checkpoint, SparsityMetadata sparsity,
        ScalarType dtype, TorchSharp.torch.Device device, IProgress<double>? progress)
    {
        nn.Module<Tensor, Tensor>? Sparse(string name)
        {
            if (!sparsity.Modules.Contains(name)) return null;
            using var scope = NewDisposeScope();
            string key = name + ".weight";
            var weight = checkpoint.Load(key, dtype, device);
            var expected = LayerLinears.Shape(config, name)
                ?? throw new InvalidDataException($"{SparsityMetadata.FileName}: '{name}' is not a Linear of this model");
            if (!weight.shape.SequenceEqual(expected))
                throw new InvalidDataException($"{checkpoint.Folder}: tensor '{key}' has shape [{string.Join(", ", weight.shape)}], " +
                    $"config.json implies [{string.Join(", ", expected)}]");
            if (!weight.isfinite().all().item<bool>())
                throw new InvalidDataException($"{checkpoint.Folder}: tensor '{key}' contains NaN or infinite values");
            if (!Sparse24Weight.Fits(weight)) return null;
            var bias = checkpoint.Contains(name + ".bias") ? checkpoint.Load(name + ".bias", dtype, device) : null;
            return Sparse24Linear.From(weight, bias, name);
        }
        var network = new CausalLM(config, dtype, device, Sparse);
        return Filled(network, () => CheckpointLoader.Load(network, "", checkpoint, dtype, device, key => key == "lm_head.weight" && config.TieWordEmbeddings, progress));
    }

    /// <summary>
    /// A compressed-tensors model: quantized Linears stay packed (<see cref="QuantizedLinear"/>, FP8 ones
    /// <see cref="Fp8Linear"/>), never dequantized to full precision at load. On the CPU, pack-quantized ones are
    /// repacked straight from the file's words (<see cref="PackedWeightReader"/>).
    /// </summary>
    static CausalLM LoadCompressed(ModelConfig config, string folder, ScalarType dtype, TorchSharp.torch.Device device, IProgress<double>? progress)
    {
        using var reader = CompressedTensorsReader.Open(folder);
        nn.Module<Tensor, Tensor>? Quantized(string name)
        {
            if (!reader.IsQuantized(name)) return null;
            var bias = reader.Checkpoint.Contains(name + ".bias") ? reader.Checkpoint.Load(name + ".bias", dtype, device) : null;
            var activations = reader.Config.GroupOf(name)?.InputActivations is { Type: QuantizationType.Int, NumBits: 8, Dynamic: true }
                ? "int8-dynamic-token" : null;
            if (device.type == TorchSharp.DeviceType.CPU && reader.IsPackQuantized(name))
                return QuantizedLinear.From(PackedWeightReader.Read(reader, name), bias, activations);
            var weight = reader.Read(name, device);
            if (weight.Args.Type == QuantizationType.Float)
                using (weight)
                    return Fp8Linear.From(weight, bias, reader.Config.GroupOf(name)?.InputActivations is { Type: QuantizationType.Float, Dynamic: true }, name);
            return QuantizedLinear.From(weight, bias, activations);
        }
        var network = new CausalLM(config, dtype, device, Quantized);
        return Filled(network, () => CheckpointLoader.Load(network, "", reader.Checkpoint, dtype, device,
            key => key == "lm_head.weight" && config.TieWordEmbeddings, progress,
            skip: key => reader.IsQuantizationTensor(key) || (key.EndsWith(".weight", StringComparison.Ordinal) && reader.IsQuantized(key[..^7]))));
    }

    // A load that fails frees the weights loaded so far (and their maps) now rather than at some later collection.
    static CausalLM Filled(CausalLM network, Action load)
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

    /// <summary>Turns a model argument into a local folder, downloading hub ids.</summary>
    public static string ResolveFolder(string model, ModelLoadOptions options)
    {
        if (string.IsNullOrWhiteSpace(model)) return DefaultModel.Folder;
        if (BundledModels.TryFolder(model) is { } bundled) return bundled;
        if (Directory.Exists(model))
        {
            if (!File.Exists(Path.Combine(model, "config.json")))
                throw new FileNotFoundException($"{model} is a folder but has no config.json (is it a Hugging Face model folder?)");
            return Path.GetFullPath(model);
        }
        if (File.Exists(model))
            throw new ArgumentException($"{model} is a file; pass the model folder that holds config.json");
        if (!HubRepoId.IsValid(model) || model.StartsWith('.') || model.StartsWith('/'))
            throw new DirectoryNotFoundException($"model '{model}' is neither an existing folder nor a hub id like org/name");
        using var hub = new HubClient(options.Hub);
        return hub.DownloadSnapshotAsync(model, RepoType.Model, options.Revision, progress: options.DownloadProgress)
            .GetAwaiter().GetResult();
    }

    /// <summary>Parses a dtype name; "auto" is float32 on the CPU (half precision matmul is slow there) and bfloat16 on CUDA.</summary>
    public static ScalarType ParseDType(string name, Device device) => name.ToLowerInvariant() switch
    {
        "auto" => device.type == TorchSharp.DeviceType.CUDA ? ScalarType.BFloat16 : ScalarType.Float32,
        "float32" or "fp32" or "f32" => ScalarType.Float32,
        "bfloat16" or "bf16" => ScalarType.BFloat16,
        "float16" or "fp16" or "f16" => ScalarType.Float16,
        "float64" or "fp64" or "f64" => ScalarType.Float64,
        _ => throw new ArgumentException($"unknown dtype '{name}' (use auto, float32, bfloat16, float16 or float64)"),
    };

    /// <summary>Frees the weights.</summary>
    public void Dispose() => Model.Dispose();
}
