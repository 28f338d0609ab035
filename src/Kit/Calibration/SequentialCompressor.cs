using System.Diagnostics;
using System.Text.Json;
using Kit.Calibration.Transforms;
using Kit.Models;
using Kit.Models.Safetensors;
using Kit.Quantization;
using Kit.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Kit.Calibration;

/// <summary>
/// Compresses a model layer by layer, as the GPTQ reference and llm-compressor's sequential pipeline do:
/// the calibration inputs of decoder layer i are captured, each target Linear's Hessian is accumulated,
/// the Linears are compressed in true-sequential order (q/k/v, then o, then gate/up, then down, each
/// group seeing the already compressed ones), and the compressed layer's outputs feed layer i + 1.
/// Only one decoder layer and the activations are in memory at a time: weights are read from the
/// memory-mapped checkpoint and each finished layer is written to its own shard. When the recipe selects lm_head
/// (it is not in <see cref="CompressionRecipe.Ignore"/>), the head is compressed last, on the final norm's outputs.
/// </summary>
public static class SequentialCompressor
{
    static readonly string[][] TrueSequentialGroups =
    {
        new[] { "self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj" },
        new[] { "self_attn.o_proj" },
        new[] { "mlp.gate_proj", "mlp.up_proj" },
        new[] { "mlp.down_proj" },
    };

    /// <summary>
    /// Compresses the model in <paramref name="modelFolder"/> with <paramref name="recipe"/>, calibrated on
    /// <paramref name="samples"/> (token ids, all of one length; may be empty for RTN and magnitude pruning),
    /// and writes a model folder to <paramref name="outputFolder"/> that Kit and Hugging Face tools load.
    /// </summary>
    public static CompressionReport Run(string modelFolder, string outputFolder, CompressionRecipe recipe,
        IReadOnlyList<int[]> samples, SequentialOptions? options = null, IProgress<CompressionProgress>? progress = null)
    {
        options ??= new SequentialOptions();
        if (options.Format == SaveFormat.Gguf)
            throw new ArgumentException("the layer-by-layer pipeline writes folders (compressed-tensors or dense); a GGUF file is written by ModelExport.CompressAndSave from the codes the pipeline hands it");
        recipe.Validated();
        var clock = Stopwatch.StartNew();
        var config = ModelConfig.Load(Path.Combine(modelFolder, "config.json"));
        var device = KitDevice.Parse(options.Device);
        var dtype = options.ComputeDType;
        int seqLen = CheckSamples(samples, recipe, config);
        bool head = recipe.Applies(CausalLM.HeadName);
        if (head && config.TieWordEmbeddings)
            throw new ArgumentException("the recipe compresses lm_head, but this model ties it to the embeddings (tie_word_embeddings), " +
                "which Kit does not untie: keep lm_head in the recipe's ignore list");
        if (Directory.Exists(outputFolder) && Directory.EnumerateFileSystemEntries(outputFolder).Any() && !options.Overwrite)
            throw new IOException($"{outputFolder} already exists and is not empty; choose another --out or allow overwriting");

        // Checked before any work: a scheme vLLM cannot serve is refused here, not after an hour of GPTQ.
        var sink = CheckpointSinks.Create(options.Format, config, recipe);
        // The solvers round scales to the dtype the checkpoint keeps them in (both formats save the model's dtype),
        // so that what they compensate for is what gets served; the recipe as given is what the report and config record.
        var solverRecipe = recipe.Weights is null ? recipe : recipe with { Weights = recipe.Weights with { ScaleDType = config.CheckpointDType } };
        if (options.Resume && options.QuantizedWeightSink is not null)
            throw new ArgumentException("a run that hands its quantized weights to a sink (GGUF export) cannot resume: earlier layers' codes are not kept");
        string staging = StagedRun.StagingFolder(outputFolder);
        string fingerprint = StagedRun.FingerprintOf(modelFolder, recipe, samples, options);
        var resumed = OpenStaging(staging, fingerprint, options, config.NumHiddenLayers);
        var reports = resumed?.Modules ?? new List<ModuleReport>();
        var smoothing = resumed?.Smoothing ?? new List<SmoothingReport>();
        using var rotation = recipe.Rotation is { } rotate ? new ResidualRotation(config, rotate, device) : null;
        var peak = new PeakMemory();
        var layerTimes = new List<LayerTime>();
        using var gpuPeak = device.type == DeviceType.CUDA ? new PeakSampler(GpuMemory.ProcessBytes, TimeSpan.FromMilliseconds(100)) : null;
        var placement = options.Activations;
        Linear? compressedHead = null;
        var headQuantized = new Dictionary<string, QuantizedWeight>();
        try
        {
            using var checkpoint = SafetensorsCheckpoint.Open(modelFolder);
            int shards = config.NumHiddenLayers + 1;
            var weightMap = resumed?.WeightMap ?? new SortedDictionary<string, string>(StringComparer.Ordinal);
            using var _ = no_grad();
            int first = resumed?.FinishedLayers ?? 0;
            bool asymmetric = recipe.AsymmetricCalibration is not null && samples.Count > 0;
            using (var activations = ActivationStore.Allocate(samples.Count, seqLen, config.HiddenSize, config.CheckpointDType, options.Activations, device, staging))
            using (var reference = asymmetric ? ActivationStore.Allocate(samples.Count, seqLen, config.HiddenSize, config.CheckpointDType, options.Activations, device, staging) : null)
            {
                placement = activations.Placement;
                if (resumed?.Activations is not null) resumed.LoadActivations(staging, activations.Values, reference?.Values);
                else
                {
                    Embed(checkpoint, samples, activations, options.SequencesPerPass(seqLen), device, rotation);
                    reference?.Values.copy_(activations.Values);
                }
                var rope = new RotaryEmbedding(config, device);
                using var positions = ScalarArithmetic.Arange(seqLen, ScalarType.Int64, device).unsqueeze(0);
                using var mask = CausalLM.AttentionMask(config, ones(1, seqLen, ScalarType.Int64, device), 0, seqLen, dtype);
                for (int i = first; i < config.NumHiddenLayers; i++)
                {
                    progress?.Report(new CompressionProgress(i, config.NumHiddenLayers, null, null));
                    long layerStart = Stopwatch.GetTimestamp();
                    // The previous layer's tensors are freed by now; glibc keeps freed heap memory, so it is handed
                    // back here, or each layer's would pile on top of the last (see NativeAllocator).
                    NativeAllocator.ReleaseFreedMemory();
                    using var layer = new DecoderLayer(config, rope, dtype, device);
                    string prefix = $"model.layers.{i}.";
                    CheckpointLoader.Load(layer, prefix, checkpoint, dtype, device);
                    rotation?.Rotate(layer);
                    var batches = new LayerBatches(activations, reference, options.SequencesPerPass(seqLen), dtype, device, positions, mask, peak);
                    if (recipe.Smoothing is not null && batches.Count > 0)
                        smoothing.AddRange(LayerSmoothing.Apply(layer, i, prefix, recipe, solverRecipe.Weights, () => batches.Run(layer)));
                    // GPTAQ's original layer: this one as rotated and smoothed, before any of its Linears is compressed.
                    using var original = asymmetric ? Copy(layer, config, rope, dtype, device) : null;
                    var quantized = new Dictionary<string, QuantizedWeight>();
                    try
                    {
                        foreach (var group in TrueSequentialGroups)
                        {
                            CompressGroup(layer, original, i, prefix, group, solverRecipe, batches, seqLen, options, reports, progress, config.NumHiddenLayers,
                                sink is null ? null : quantized);
                            NativeAllocator.ReleaseFreedMemory();
                            peak.Sample();
                        }
                        batches.Propagate(layer);
                        if (original is not null) batches.PropagateReference(original);
                        string shard = ShardedFolder.ShardName(i + 1, shards);
                        var dense = layer.named_parameters().Select(p => (Name: prefix + p.name, Tensor: (Tensor)p.parameter))
                            .Where(p => !quantized.ContainsKey(p.Name[..p.Name.LastIndexOf('.')]) || !p.Name.EndsWith(".weight", StringComparison.Ordinal));
                        ShardedFolder.WriteShard(staging, shard, dense, checkpoint, weightMap, sink?.LayerTensors(quantized));
                        new StagedRun(fingerprint, i + 1, clock.Elapsed.TotalSeconds + (resumed?.Seconds ?? 0), reports, weightMap,
                            batches.Count == 0 ? null : StagedRun.ActivationsFile(i + 1)) { Smoothing = smoothing }.Write(staging, batches.Count == 0 ? null : activations.Values, reference?.Values);
                        layerTimes.Add(new LayerTime(i, Stopwatch.GetElapsedTime(layerStart).TotalSeconds));
                    }
                    finally
                    {
                        foreach (var q in quantized.Values) q.Dispose();
                    }
                }
                progress?.Report(new CompressionProgress(config.NumHiddenLayers, config.NumHiddenLayers, null, null));
                if (head) compressedHead = CompressHead(checkpoint, config, activations, solverRecipe, seqLen, options, reports, progress, peak,
                    sink is null ? null : headQuantized, rotation);
            }
            var rest = checkpoint.Names.Where(n => !n.StartsWith("model.layers.", StringComparison.Ordinal)).ToList();
            string headWeight = CausalLM.HeadName + ".weight";
            bool untie = rotation is not null && config.TieWordEmbeddings;
            if (untie) rest = rest.Append(headWeight).Distinct().ToList();
            ShardedFolder.WriteShard(staging, ShardedFolder.ShardName(shards, shards),
                rest.Where(n => n != headWeight || !headQuantized.ContainsKey(CausalLM.HeadName))
                    .Select(n => (n, n == headWeight && compressedHead is not null ? compressedHead.Weight : OutsideLayers(checkpoint, n, config, rotation))),
                checkpoint, weightMap, sink?.LayerTensors(headQuantized));
            peak.Sample();
            ShardedFolder.WriteIndex(staging, weightMap);
            ShardedFolder.CopyModelFiles(modelFolder, staging);
            if (untie) ShardedFolder.Untie(staging);
            sink?.Finish(staging);

            File.Delete(Path.Combine(staging, StagedRun.FileName));
            foreach (var activations in Directory.GetFiles(staging, "activations-*.safetensors")) File.Delete(activations);
            var report = new CompressionReport(recipe, reports, samples.Count, seqLen, clock.Elapsed.TotalSeconds + (resumed?.Seconds ?? 0),
                peak.AnonymousBytes, Process.GetCurrentProcess().PeakWorkingSet64, Path.GetFullPath(outputFolder)) { Activations = placement, Smoothing = smoothing, LayerTimes = layerTimes, PeakGpuBytes = gpuPeak?.Peak };
            File.WriteAllText(Path.Combine(staging, CompressionReportFile.FileName), JsonSerializer.Serialize(report, ReportJson));
            ShardedFolder.Publish(staging, outputFolder);
            return report;
        }
        catch
        {
            if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
            throw;
        }
        finally
        {
            compressedHead?.Dispose();
            foreach (var q in headQuantized.Values) q.Dispose();
        }
    }

    // The staging folder of an earlier run is continued only when asked and only if that run had the same inputs;
    // otherwise it is left alone, since it may hold hours of work (or belong to a run still going).
    static StagedRun? OpenStaging(string staging, string fingerprint, SequentialOptions options, int layers)
    {
        if (!Directory.Exists(staging))
        {
            Directory.CreateDirectory(staging);
            return null;
        }
        var run = StagedRun.Read(staging);
        if (!options.Resume)
            throw new IOException($"{staging} holds an unfinished run ({run?.FinishedLayers ?? 0} of {layers} layers finished): " +
                "continue it with --resume (the same model, recipe and calibration), or delete the folder to start again");
        if (run is null)
        {
            Directory.Delete(staging, recursive: true);
            Directory.CreateDirectory(staging);
            return null;
        }
        if (run.Fingerprint != fingerprint)
            throw new IOException($"{staging} was staged by a run with another model, recipe, calibration data or options; " +
                "resume with the same ones, or delete the folder to start again");
        return run;
    }

    // With an original layer (GPTAQ), H comes from this layer's inputs and the asymmetry from the original's beside them.
    static void CompressGroup(DecoderLayer layer, DecoderLayer? original, int index, string prefix, string[] group, CompressionRecipe recipe,
        LayerBatches batches, int seqLen, SequentialOptions options, List<ModuleReport> reports, IProgress<CompressionProgress>? progress, int layers,
        Dictionary<string, QuantizedWeight>? keep)
    {
        var names = group.Where(n => recipe.Applies(prefix + n)).ToList();
        if (names.Count == 0) return;
        var linears = names.Select(n => DenseLinears.Of(layer, n)).ToList();
        if (original is not null)
        {
            CompressGroupAsymmetric(layer, original, index, prefix, names, linears, recipe, batches, seqLen, options, reports, progress, layers, keep);
            return;
        }
        // The Linears of a group read the same input, so one Hessian serves them all.
        using var hessian = batches.Count == 0 ? null : new HessianAccumulator(linears[0].Weight.shape[1], linears[0].Weight.device, options.HessianDType);
        if (hessian is not null)
        {
            // The rest of the layer is not needed for this group's Hessian: stop the forward pass there.
            var hook = linears[0].register_forward_pre_hook((_, input) => { hessian.Add(input); throw new EarlyStop(); });
            batches.Run(layer);
            hook.remove();
        }
        double? condition = hessian is not null && options.HessianConditionNumbers ? Condition(hessian.H, recipe.DampeningFraction) : null;
        foreach (var (name, linear) in names.Zip(linears))
            CompressLinear(linear, index, prefix + name, recipe, hessian?.H, null, condition, seqLen, options, reports, progress, layers, keep);
    }

    static void CompressGroupAsymmetric(DecoderLayer layer, DecoderLayer original, int index, string prefix, List<string> names, List<Linear> linears,
        CompressionRecipe recipe, LayerBatches batches, int seqLen, SequentialOptions options, List<ModuleReport> reports,
        IProgress<CompressionProgress>? progress, int layers, Dictionary<string, QuantizedWeight>? keep)
    {
        using var accumulator = new AsymmetryAccumulator(linears[0].Weight.shape[1], linears[0].Weight.device, options.HessianDType);
        // The original layer runs first on each batch; its Linear's input waits (outside the forward pass's dispose scope)
        // until the compressed layer's input for the same tokens arrives.
        Tensor? originalInput = null;
        var originalHook = DenseLinears.Of(original, names[0]).register_forward_pre_hook((_, input) =>
        {
            originalInput = input.detach().clone().DetachFromDisposeScope();
            throw new EarlyStop();
        });
        var compressedHook = linears[0].register_forward_pre_hook((_, input) =>
        {
            using (originalInput) accumulator.Add(input, originalInput!);
            originalInput = null;
            throw new EarlyStop();
        });
        try
        {
            batches.RunPaired(layer, original);
        }
        finally
        {
            compressedHook.remove();
            originalHook.remove();
            originalInput?.Dispose();
        }
        double? condition = options.HessianConditionNumbers ? Condition(accumulator.H, recipe.DampeningFraction) : null;
        foreach (var (name, linear) in names.Zip(linears))
            CompressLinear(linear, index, prefix + name, recipe, accumulator.H, accumulator.A, condition, seqLen, options, reports, progress, layers, keep);
    }

    // A layer with the same weights, for the original model's activations to run through.
    static DecoderLayer Copy(DecoderLayer layer, ModelConfig config, RotaryEmbedding rope, ScalarType dtype, Device device)
    {
        var copy = new DecoderLayer(config, rope, dtype, device);
        var source = layer.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        foreach (var (name, parameter) in copy.named_parameters()) parameter.set_(source[name].detach().clone());
        return copy;
    }

    // lm_head reads what the model hands it: the final norm of the last layer's outputs, so its Hessian comes from those.
    static Linear CompressHead(SafetensorsCheckpoint checkpoint, ModelConfig config, ActivationStore activations, CompressionRecipe recipe, int seqLen,
        SequentialOptions options, List<ModuleReport> reports, IProgress<CompressionProgress>? progress, PeakMemory peak,
        Dictionary<string, QuantizedWeight>? keep, ResidualRotation? rotation)
    {
        NativeAllocator.ReleaseFreedMemory();
        var device = KitDevice.Parse(options.Device);
        var head = new Linear(config.HiddenSize, config.VocabSize, false, options.ComputeDType, device);
        try
        {
            CheckpointLoader.Load(head, CausalLM.HeadName + ".", checkpoint, options.ComputeDType, device);
            using var norm = new RmsNorm(config.HiddenSize, config.RmsNormEps, options.ComputeDType, device);
            CheckpointLoader.Load(norm, "model.norm.", checkpoint, options.ComputeDType, device);
            rotation?.RotateHead(head, norm);
            long count = activations.Count;
            using var hessian = count == 0 ? null : new HessianAccumulator(config.HiddenSize, device, options.HessianDType);
            int perPass = options.SequencesPerPass(seqLen);
            for (long b = 0; b < count; b += perPass)
                using (NewDisposeScope())
                {
                    hessian!.Add(norm.call(activations.Read(b, Math.Min(perPass, count - b), options.ComputeDType, device)));
                    peak.Sample();
                }
            double? condition = hessian is not null && options.HessianConditionNumbers ? Condition(hessian.H, recipe.DampeningFraction) : null;
            CompressLinear(head, config.NumHiddenLayers, CausalLM.HeadName, recipe, hessian?.H, null, condition, seqLen, options, reports, progress,
                config.NumHiddenLayers, keep);
            peak.Sample();
            return head;
        }
        catch
        {
            head.Dispose();
            throw;
        }
    }

    // Compresses one Linear in place; its codes go to keep (compressed-tensors), to the options' sink (GGUF) or away.
    // With an asymmetry (GPTAQ) the method aims at the target Gptaq.Target shifts the weight to; errors are against the weight.
    static void CompressLinear(Linear linear, int index, string name, CompressionRecipe recipe, Tensor? hessian, Tensor? asymmetry, double? condition,
        int seqLen, SequentialOptions options, List<ModuleReport> reports, IProgress<CompressionProgress>? progress, int layers,
        Dictionary<string, QuantizedWeight>? keep)
    {
        var clock = Stopwatch.StartNew();
        using var scope = NewDisposeScope();
        var original = linear.Weight.detach().clone();
        var target = asymmetry is null ? original
            : Gptaq.Target(original, hessian!, asymmetry, recipe.AsymmetricCalibration!.Value, recipe.DampeningFraction);
        var result = ModuleCompressor.Compress(recipe, name, target, hessian);
        // The weight may hold the checkpoint's pages through a private map (CheckpointLoader): writing into it would copy
        // each page on a fault and flush every core's TLB (most of RTN's time on a VM), so it takes the result's storage.
        linear.Weight.set_(result.Weight);
        if (keep is not null && result.Quantized is { } q) keep[name] = q.MoveToOuterDisposeScope();
        else if (options.QuantizedWeightSink is { } sink && result.Quantized is { } owned) sink(name, owned.MoveToOuterDisposeScope());
        else result.Quantized?.Dispose();
        var (error, relative) = hessian is null ? ((double?)null, (double?)null) : Errors(original, linear.Weight, hessian, seqLen);
        double sparsity = linear.Weight.eq(HeldScalars.Of(0)).sum().item<long>() / (double)linear.Weight.numel();
        reports.Add(new ModuleReport(index, name, original.shape[0], original.shape[1], error, relative, sparsity,
            condition, result.Damping, clock.Elapsed.TotalSeconds));
        progress?.Report(new CompressionProgress(index, layers, name, relative));
    }

    // ‖ΔW X‖² per token and relative to ‖W X‖², from H = 2/n Σ x xᵀ: Σ‖ΔW x‖² = tr(ΔW H ΔWᵀ) · n / 2.
    // The products with H run in H's dtype and only the sums in float64: a float64 copy of down_proj's H alone would
    // be the largest tensor of a layer's compression (254 MB on TinyLlama), for a figure reported to three digits.
    internal static (double PerToken, double Relative) Errors(Tensor before, Tensor after, Tensor h, int seqLen)
    {
        using var scope = NewDisposeScope();
        var w = before.to_type(h.dtype);
        var delta = w - after.to_type(h.dtype);
        double err = (delta.matmul(h) * delta).to_type(ScalarType.Float64).sum().item<double>();
        double total = (w.matmul(h) * w).to_type(ScalarType.Float64).sum().item<double>();
        return (err / (2.0 * seqLen), total > 0 ? err / total : 0);
    }

    static double Condition(Tensor h, double dampening)
    {
        using var scope = NewDisposeScope();
        var eig = linalg.eigvalsh(HessianInverse.Damp(h.to_type(ScalarType.Float64), dampening));
        double min = eig.min().item<double>(), max = eig.max().item<double>();
        return min > 0 ? max / min : double.PositiveInfinity;
    }

    static int CheckSamples(IReadOnlyList<int[]> samples, CompressionRecipe recipe, ModelConfig config)
    {
        if (samples.Count == 0)
        {
            if (recipe.NeedsCalibration) throw new ArgumentException($"{recipe.Method} needs calibration samples");
            return 1;
        }
        int length = samples[0].Length;
        if (length < 1 || samples.Any(s => s.Length != length))
            throw new ArgumentException("calibration samples must all have the same, positive length");
        if (length > config.MaxPositionEmbeddings)
            throw new ArgumentException($"calibration sequence length {length} exceeds the model's context of {config.MaxPositionEmbeddings}");
        if (samples.SelectMany(s => s).Any(id => id < 0 || id >= config.VocabSize))
            throw new ArgumentException($"calibration samples hold token ids outside the model's vocabulary of {config.VocabSize}");
        return length;
    }

    // The embeddings are looked up in the store's dtype, so they are the checkpoint's values whatever the compute dtype.
    static void Embed(SafetensorsCheckpoint checkpoint, IReadOnlyList<int[]> samples, ActivationStore activations, int batchSize, Device device,
        ResidualRotation? rotation)
    {
        if (samples.Count == 0) return;
        using var scope = NewDisposeScope();
        var embedding = checkpoint.Load(EmbeddingName, activations.Values.dtype, device);
        if (rotation is not null) embedding = rotation.Embedding(embedding);
        for (int b = 0; b < samples.Count; b += batchSize)
        {
            using var batch = NewDisposeScope();
            var rows = samples.Skip(b).Take(batchSize).ToList();
            var ids = tensor(rows.SelectMany(s => s.Select(i => (long)i)).ToArray(), device: device);
            activations.Write(b, embedding.index_select(0, ids).view(rows.Count, rows[0].Length, -1));
        }
    }

    const string EmbeddingName = "model.embed_tokens.weight";

    // A tensor outside the decoder layers as the output folder keeps it: as stored, or rotated (the embeddings, the final
    // norm fused into the head and set to 1; a tied head comes from the embeddings).
    static Tensor OutsideLayers(SafetensorsCheckpoint checkpoint, string name, ModelConfig config, ResidualRotation? rotation)
    {
        if (rotation is null) return checkpoint.Load(name);
        using var scope = NewDisposeScope();
        string norm = "model.norm.weight", head = CausalLM.HeadName + ".weight";
        var result = name switch
        {
            EmbeddingName => rotation.Embedding(checkpoint.Load(name)),
            _ when name == norm => ones_like(checkpoint.Load(name)),
            _ when name == head => rotation.Head(checkpoint.Load(config.TieWordEmbeddings ? EmbeddingName : name), checkpoint.Load(norm)),
            _ => checkpoint.Load(name),
        };
        return result.MoveToOuterDisposeScope();
    }

    static readonly JsonSerializerOptions ReportJson = new()
    {
        WriteIndented = true,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() },
        IncludeFields = true,
    };
}
