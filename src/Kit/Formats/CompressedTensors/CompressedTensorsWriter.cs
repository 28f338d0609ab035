using System.Text.Json;
using System.Text.Json.Nodes;
using Kit.Models.Safetensors;
using Kit.Quantization;
using Kit.Runtime;
using static TorchSharp.torch;

namespace Kit.Formats.CompressedTensors;

/// <summary>
/// Turns Kit's <see cref="QuantizedWeight"/>s into the tensors a compressed-tensors checkpoint stores, and
/// the recipe into its <c>quantization_config</c>. Per Linear <c>m</c>:
/// <list type="bullet">
/// <item><c>pack-quantized</c>: <c>m.weight_packed</c> I32 [out, ceil(in·b/32)], <c>m.weight_scale</c> [out, groups]
/// (or [out, 1] per channel), <c>m.weight_shape</c> I64 [2], <c>m.weight_zero_point</c> I32 [ceil(out·b/32), groups]
/// when asymmetric, <c>m.weight_g_idx</c> I32 [in] with act-order <c>group</c>;</item>
/// <item><c>int-quantized</c>: <c>m.weight</c> I8 [out, in] and <c>m.weight_scale</c> ([out, 1], or [1] per tensor);</item>
/// <item><c>float-quantized</c>: <c>m.weight</c> F8_E4M3 [out, in] and <c>m.weight_scale</c>.</item>
/// </list>
/// Scales are stored in the model's dtype, as llm-compressor stores them and vLLM reads them: a float32
/// scale is rounded to bfloat16 or float16 on the way, so the weights served are those of the rounded
/// scales; <see cref="Kit.Calibration.SequentialCompressor"/> has the solvers make them in that dtype
/// (<see cref="QuantizationArgs.ScaleDType"/>), so the rounding moves nothing. Everything else (norms,
/// embeddings, lm_head, biases) is saved unchanged by the caller.
/// The returned tensors are new; they belong to the caller's dispose scope.
/// </summary>
public sealed class CompressedTensorsWriter
{
    static readonly string[][] FusedByVllm =
    [
        ["self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj"],
        ["mlp.gate_proj", "mlp.up_proj"],
    ];

    readonly CompressedTensorsGroup _group;

    /// <summary>A writer for models compressed with <paramref name="recipe"/> whose weights are <paramref name="modelDType"/>.</summary>
    /// <exception cref="ArgumentException">The recipe quantizes nothing, vLLM would refuse its scheme, or the dtype is not a float type.</exception>
    public CompressedTensorsWriter(CompressionRecipe recipe, ScalarType modelDType)
    {
        Config = CompressedTensorsConfig.FromRecipe(recipe)
            ?? throw new ArgumentException("CompressionRecipe.Weights: the recipe quantizes nothing; a pruned-only model is saved dense, without compressed-tensors", nameof(recipe));
        if (modelDType is not (ScalarType.Float32 or ScalarType.Float16 or ScalarType.BFloat16))
            throw new ArgumentException($"scales are stored in the model dtype, which must be float32, float16 or bfloat16, got {modelDType}", nameof(modelDType));
        ScaleDType = modelDType;
        _group = Config.Groups[0];
    }

    /// <summary>The config the tensors belong to.</summary>
    public CompressedTensorsConfig Config { get; }

    /// <summary>The storage format: <c>pack-quantized</c>, <c>int-quantized</c> or <c>float-quantized</c>.</summary>
    public string Format => Config.Format;

    /// <summary>The dtype scales are stored in.</summary>
    public ScalarType ScaleDType { get; }

    /// <summary>
    /// The <c>quantization_config</c> object for a model compressed with <paramref name="recipe"/> (see
    /// <see cref="CompressedTensorsConfig.FromRecipe"/>), or null when the recipe only prunes.
    /// </summary>
    public static JsonObject? QuantizationConfig(CompressionRecipe recipe) => CompressedTensorsConfig.FromRecipe(recipe)?.ToJson();

    /// <summary>
    /// The tensors of every module of one decoder layer, keyed by full module name
    /// (<c>model.layers.3.self_attn.q_proj</c>), in name order. vLLM fuses q/k/v and gate/up into one
    /// layer each, so those come all quantized or none.
    /// </summary>
    /// <exception cref="ArgumentException">A fused set is incomplete, or a module fails <see cref="ModuleTensors"/>.</exception>
    public IReadOnlyList<SafetensorsEntry> LayerTensors(IReadOnlyDictionary<string, QuantizedWeight> modules)
    {
        foreach (var name in modules.Keys)
            foreach (var fused in FusedByVllm)
            {
                var own = fused.FirstOrDefault(f => name.EndsWith("." + f, StringComparison.Ordinal));
                if (own is null) continue;
                string prefix = name[..^own.Length];
                var missing = fused.Select(f => prefix + f).Where(n => !modules.ContainsKey(n)).ToList();
                if (missing.Count > 0)
                    throw new ArgumentException(
                        $"{name} is quantized but {string.Join(" and ", missing)} {(missing.Count == 1 ? "is" : "are")} not: vLLM fuses {string.Join(", ", fused)} into one layer and needs them quantized alike", nameof(modules));
            }
        var entries = new List<SafetensorsEntry>();
        foreach (var name in modules.Keys.Order(StringComparer.Ordinal))
            entries.AddRange(ModuleTensors(name, modules[name]));
        return entries;
    }

    /// <summary>The tensors that stand for the Linear <paramref name="module"/>'s weight.</summary>
    /// <exception cref="ArgumentException">
    /// The weight does not match the recipe's grid, its tensors have the wrong shapes or dtypes, codes or
    /// zero points lie outside the grid, its groups do not tile the input dimension, its g_idx is not the
    /// plain grouping without act-order <c>group</c>, or a scale does not survive the model dtype; the
    /// message names the module.
    /// </exception>
    public IReadOnlyList<SafetensorsEntry> ModuleTensors(string module, QuantizedWeight weight)
    {
        ArgumentNullException.ThrowIfNull(weight);
        using var scope = NewDisposeScope();
        var (rows, columns) = Check(module, weight);
        var args = weight.Args;
        var scale = StoredScale(module, weight.Scale);
        var entries = new List<SafetensorsEntry>();
        switch (Format)
        {
            case CompressedTensorsFormats.PackQuantized:
                entries.Add(new(module + ".weight_packed", Int32Packing.PackRows(weight.Codes, args.NumBits)));
                entries.Add(new(module + ".weight_scale", scale));
                entries.Add(new(module + ".weight_shape", tensor(new[] { rows, columns }, device: weight.Codes.device)));
                if (!args.Symmetric)
                    entries.Add(new(module + ".weight_zero_point", Int32Packing.PackColumns(weight.ZeroPoint, args.NumBits)));
                if (_group.ActOrder == ActOrder.Group)
                    entries.Add(new(module + ".weight_g_idx", weight.GIdx.to_type(ScalarType.Int32).contiguous()));
                break;
            case CompressedTensorsFormats.IntQuantized:
                entries.Add(new(module + ".weight", weight.Codes.contiguous()));
                entries.Add(new(module + ".weight_scale", scale));
                break;
            default:
                entries.Add(new(module + ".weight", weight.Codes.contiguous(), DType.F8_E4M3));
                entries.Add(new(module + ".weight_scale", scale));
                break;
        }
        foreach (var e in entries) e.Tensor.MoveToOuterDisposeScope();
        return entries;
    }

    (long Rows, long Columns) Check(string module, QuantizedWeight weight)
    {
        var args = weight.Args;
        var want = _group.Weights;
        if (args.NumBits != want.NumBits || args.Type != want.Type || args.Symmetric != want.Symmetric || args.Strategy != want.Strategy
            || (want.Strategy == QuantizationStrategy.Group && args.GroupSize != want.GroupSize))
            throw Bad(module, $"was quantized as {Describe(args)} but the recipe's scheme is {Describe(want)}");
        if (weight.Codes.dim() != 2) throw Bad(module, $"codes have shape {Shape(weight.Codes)}, expected [out, in]");
        var codeType = args.Type == QuantizationType.Float ? ScalarType.Byte : ScalarType.Int8;
        if (weight.Codes.dtype != codeType) throw Bad(module, $"codes are {weight.Codes.dtype}, expected {codeType}");
        long rows = weight.Codes.shape[0], columns = weight.Codes.shape[1];
        if (args.Strategy == QuantizationStrategy.Group && columns % args.GroupSize!.Value != 0)
            throw Bad(module, $"in_features {columns} is not a multiple of group size {args.GroupSize}: vLLM needs whole groups (in / group size scales per row)");
        long groups = args.Strategy == QuantizationStrategy.Group ? columns / args.GroupSize!.Value : 1;
        long[] scaleShape = args.Strategy == QuantizationStrategy.Tensor ? [1, 1] : [rows, groups];
        if (!weight.Scale.shape.SequenceEqual(scaleShape)) throw Bad(module, $"scale has shape {Shape(weight.Scale)}, expected [{string.Join(", ", scaleShape)}]");
        if (!weight.ZeroPoint.shape.SequenceEqual(scaleShape)) throw Bad(module, $"zero point has shape {Shape(weight.ZeroPoint)}, expected [{string.Join(", ", scaleShape)}]");
        if (!weight.GIdx.shape.SequenceEqual([columns])) throw Bad(module, $"g_idx has shape {Shape(weight.GIdx)}, expected [{columns}]");

        if (args.Type == QuantizationType.Int)
            CheckRange(module, "codes", weight.Codes, args);
        if (args.Symmetric)
        {
            if (weight.ZeroPoint.ne(HeldScalars.Of(0)).any().item<bool>()) throw Bad(module, "is symmetric but has non-zero zero points, which the format does not store");
        }
        else CheckRange(module, "zero points", weight.ZeroPoint, args);

        var gIdx = weight.GIdx.to_type(ScalarType.Int64);
        if (_group.ActOrder == ActOrder.Group)
        {
            if (columns > 0 && (gIdx.min().item<long>() < 0 || gIdx.max().item<long>() >= groups))
                throw Bad(module, $"g_idx holds groups outside [0, {groups})");
        }
        else
        {
            long perGroup = Math.Max(1, columns / groups);
            var plain = QuantizedWeight.InOrderGroups(columns, perGroup, gIdx.device);
            if (!gIdx.eq(plain).all().item<bool>())
                throw Bad(module, "g_idx is not column / group size; regrouped columns are stored only with act-order 'group'");
        }
        return (rows, columns);
    }

    static void CheckRange(string module, string what, Tensor values, QuantizationArgs args)
    {
        if (values.numel() == 0) return;
        long min = values.min().item<sbyte>(), max = values.max().item<sbyte>();
        if (min < args.QMin || max > args.QMax)
            throw Bad(module, $"{what} span [{min}, {max}], outside the {args.NumBits}-bit grid [{args.QMin}, {args.QMax}]");
    }

    // Per-tensor scales are stored as [1], as compressed-tensors and vLLM's PerTensorScaleParameter have them.
    Tensor StoredScale(string module, Tensor scale)
    {
        var stored = scale.to_type(ScaleDType);
        if (!stored.isfinite().all().item<bool>() || stored.le(HeldScalars.Of(0)).any().item<bool>())
            throw Bad(module, $"a scale is not a positive finite {ScaleDType} (largest scale {scale.abs().max().item<float>()})");
        return (_group.Weights.Strategy == QuantizationStrategy.Tensor ? stored.reshape(1) : stored).contiguous();
    }

    /// <summary>
    /// Adds <paramref name="quantizationConfig"/> as <c>quantization_config</c> to the Hugging Face
    /// <c>config.json</c> at <paramref name="configPath"/>, keeping its other fields, and replaces the file
    /// atomically.
    /// </summary>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="InvalidDataException">The file is not a JSON object.</exception>
    public static void WriteQuantizationConfig(string configPath, JsonObject quantizationConfig)
    {
        ArgumentNullException.ThrowIfNull(quantizationConfig);
        if (!File.Exists(configPath)) throw new FileNotFoundException($"{configPath}: no such config.json", configPath);
        JsonObject root;
        try
        {
            root = JsonNode.Parse(File.ReadAllText(configPath)) as JsonObject
                ?? throw new InvalidDataException($"{configPath}: not a JSON object");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{configPath}: not valid JSON ({e.Message})", e);
        }
        root["quantization_config"] = quantizationConfig.DeepClone();
        string temporary = $"{configPath}.tmp-{Guid.NewGuid():N}";
        File.WriteAllText(temporary, root.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
        File.Move(temporary, configPath, overwrite: true);
    }

    static string Describe(QuantizationArgs a) =>
        $"{a.Type} {a.NumBits}-bit {(a.Symmetric ? "symmetric" : "asymmetric")} {a.Strategy}{(a.Strategy == QuantizationStrategy.Group ? " " + a.GroupSize : "")}";

    static string Shape(Tensor t) => $"[{string.Join(", ", t.shape)}]";

    static ArgumentException Bad(string module, string message) => new($"{module}: {message}", "weight");
}
