using Kit.Models.Hub;
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
    /// Whether packed weight-only Linears multiply float32 activations (<see cref="Kit.Inference.QuantizedLinear.ExactActivations"/>),
    /// the product with the dequantized weights as vLLM serves W4A16/W8A16, instead of the faster default that
    /// quantizes activations to int8 per 32-value block as llama.cpp does. Accuracy measurements set it.
    /// </summary>
    public bool ExactActivations { get; init; }
    /// <summary>
    /// Whether packed weight-only Linears multiply prompts in bfloat16 (<see cref="Kit.Inference.QuantizedLinear.BFloat16Prefill"/>);
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
        if (File.Exists(model) && ModelFormats.For(model) is { } fileFormat) return fileFormat.Load(model, model, options);
        string folder = ResolveFolder(model, options);
        if (ModelFormats.For(folder) is { } format) return format.Load(folder, model, options);
        return FromFolder(folder, model, options, (config, dtype, device) =>
        {
            using var checkpoint = SafetensorsCheckpoint.Open(folder);
            return CausalLM.FromCheckpoint(config, checkpoint, dtype, device, options.LoadProgress);
        });
    }

    /// <summary>
    /// A model from <paramref name="folder"/>: its config.json, the device and dtype <paramref name="options"/> name,
    /// the network <paramref name="build"/> makes of them, and the folder's tokenizer. What every folder format shares.
    /// </summary>
    public static LanguageModel FromFolder(string folder, string source, ModelLoadOptions options, Func<ModelConfig, ScalarType, Device, CausalLM> build)
    {
        var config = ModelConfig.Load(Path.Combine(folder, "config.json"));
        var device = KitDevice.Parse(options.Device);
        var dtype = ParseDType(options.DType, device);
        var tokenizer = TokenizerLoader.FromFolder(folder);
        return new LanguageModel(build(config, dtype, device), tokenizer, folder, source);
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
