using System.Text.Json;
using System.Text.Json.Nodes;
using Kit.Models.Safetensors;
using Kit.Quantization;
using TorchSharp;
using static TorchSharp.torch;

namespace Kit.Formats.CompressedTensors;

/// <summary>
/// Reads the quantized Linears of a compressed-tensors model folder (<c>config.json</c> with
/// <c>quantization_config.quant_method = "compressed-tensors"</c>, single-file or sharded safetensors)
/// back into <see cref="QuantizedWeight"/>s, unpacking exactly. Reads <c>pack-quantized</c> (1, 2, 4 or
/// 8 bits), <c>int-quantized</c>/<c>naive-quantized</c> and <c>float-quantized</c> (FP8 E4M3), per tensor,
/// channel or group, symmetric or with zero points, with or without <c>weight_g_idx</c>. A module counts
/// as quantized when it has a <c>weight_scale</c>.
/// </summary>
public sealed class CompressedTensorsReader : IDisposable
{
    /// <summary>The suffixes of the tensors that together stand for a quantized Linear's weight.</summary>
    static readonly string[] QuantizationSuffixes = ["weight", "weight_packed", "weight_scale", "weight_shape", "weight_zero_point", "weight_g_idx", "input_scale"];

    static readonly string[] Readable =
    [
        CompressedTensorsFormats.PackQuantized, CompressedTensorsFormats.IntQuantized,
        CompressedTensorsFormats.NaiveQuantized, CompressedTensorsFormats.FloatQuantized,
    ];

    readonly Dictionary<string, CompressedTensorsGroup> _groupOf;

    CompressedTensorsReader(string folder, string configPath, CompressedTensorsConfig config, SafetensorsCheckpoint checkpoint,
        Dictionary<string, CompressedTensorsGroup> groupOf)
    {
        Folder = folder;
        ConfigPath = configPath;
        Config = config;
        Checkpoint = checkpoint;
        _groupOf = groupOf;
        QuantizedModules = groupOf.Keys.Order(StringComparer.Ordinal).ToArray();
    }

    /// <summary>The full path of the model folder.</summary>
    public string Folder { get; }

    /// <summary>The <c>config.json</c> the quantization config came from.</summary>
    public string ConfigPath { get; }

    /// <summary>The parsed <c>quantization_config</c>.</summary>
    public CompressedTensorsConfig Config { get; }

    /// <summary>The checkpoint, for the tensors that are not quantized (norms, embeddings, lm_head).</summary>
    public SafetensorsCheckpoint Checkpoint { get; }

    /// <summary>Full names of the quantized Linears (<c>model.layers.0.self_attn.q_proj</c>), in ordinal order.</summary>
    public IReadOnlyList<string> QuantizedModules { get; }

    /// <summary>
    /// True when <paramref name="folder"/>'s <c>config.json</c> has a <c>quantization_config</c> whose
    /// <c>quant_method</c> is <c>compressed-tensors</c>; false when there is no config.json or no such block.
    /// </summary>
    /// <exception cref="InvalidDataException">config.json is not valid JSON.</exception>
    public static bool IsCompressedTensors(string folder)
    {
        string path = Path.Combine(Path.GetFullPath(folder), "config.json");
        if (!File.Exists(path)) return false;
        var method = ReadConfig(path)["quantization_config"] is JsonObject q && q["quant_method"] is JsonValue v
            && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;
        return method == CompressedTensorsFormats.QuantMethod;
    }

    /// <summary>Opens the model in <paramref name="folder"/>, parsing its config and finding its quantized Linears.</summary>
    /// <exception cref="FileNotFoundException">No config.json, or no safetensors.</exception>
    /// <exception cref="InvalidDataException">
    /// Not a compressed-tensors config, a malformed config (the message names the field), weights not
    /// stored compressed, or a quantized module no config group targets.
    /// </exception>
    public static CompressedTensorsReader Open(string folder)
    {
        folder = Path.GetFullPath(folder);
        string configPath = Path.Combine(folder, "config.json");
        if (!File.Exists(configPath)) throw new FileNotFoundException($"{configPath}: no config.json in the model folder", configPath);
        var root = ReadConfig(configPath);
        if (root["quantization_config"] is null)
            throw new InvalidDataException($"{configPath}: quantization_config is missing; this is not a compressed-tensors model");
        var config = CompressedTensorsConfig.Parse(root["quantization_config"], configPath);
        if (config.QuantizationStatus != CompressedTensorsFormats.Compressed)
            throw new InvalidDataException(
                $"{configPath}: quantization_config.quantization_status is '{config.QuantizationStatus}'; only '{CompressedTensorsFormats.Compressed}' checkpoints store quantized weights");

        foreach (var group in config.Groups)
        {
            string format;
            try
            {
                format = config.FormatOf(group);
            }
            catch (InvalidDataException e)
            {
                throw new InvalidDataException($"{configPath}: {e.Message}", e);
            }
            if (!Readable.Contains(format))
                throw new InvalidDataException(
                    $"{configPath}: quantization_config.format '{format}' is not read by Kit; it reads {string.Join(", ", Readable)}");
        }

        var checkpoint = SafetensorsCheckpoint.Open(folder);
        try
        {
            var groupOf = new Dictionary<string, CompressedTensorsGroup>(StringComparer.Ordinal);
            foreach (var name in checkpoint.Names.Where(n => n.EndsWith(".weight_scale", StringComparison.Ordinal)))
            {
                string module = name[..^".weight_scale".Length];
                groupOf[module] = config.GroupOf(module) ?? throw new InvalidDataException(
                    $"{checkpoint.PathOf(name)}: tensor '{name}' holds a quantized weight but module '{module}' is ignored or targeted by no config group in {configPath}");
            }
            return new CompressedTensorsReader(folder, configPath, config, checkpoint, groupOf);
        }
        catch
        {
            checkpoint.Dispose();
            throw;
        }
    }

    /// <summary>Whether <paramref name="module"/> is one of <see cref="QuantizedModules"/>.</summary>
    public bool IsQuantized(string module) => _groupOf.ContainsKey(module);

    /// <summary>
    /// Whether tensor <paramref name="name"/> is part of a quantized Linear's weight (<c>weight_packed</c>,
    /// <c>weight_scale</c>, ...), which <see cref="Read"/> consumes, rather than a tensor to load as it is.
    /// </summary>
    public bool IsQuantizationTensor(string name)
    {
        int dot = name.LastIndexOf('.');
        return dot > 0 && _groupOf.ContainsKey(name[..dot]) && QuantizationSuffixes.Contains(name[(dot + 1)..]);
    }

    /// <summary>The codes and grids of the quantized Linear <paramref name="module"/>, on <paramref name="device"/> (CPU if null).</summary>
    /// <exception cref="KeyNotFoundException">The module is not quantized.</exception>
    /// <exception cref="InvalidDataException">A tensor is missing or has the wrong dtype or shape; the message names the file and the tensor.</exception>
    public QuantizedWeight Read(string module, Device? device = null)
    {
        var (args, format) = GridOf(module);
        using var scope = NewDisposeScope();
        var codes = format switch
        {
            CompressedTensorsFormats.PackQuantized => PackedCodes(module, args, device),
            CompressedTensorsFormats.IntQuantized or CompressedTensorsFormats.NaiveQuantized => IntCodes(module, args, device),
            CompressedTensorsFormats.FloatQuantized => FloatCodes(module, args, device),
            _ => throw new System.Diagnostics.UnreachableException($"Open accepted format '{format}'"),
        };
        var (scale, zero, gIdx) = Grids(module, format, args, codes.shape[0], codes.shape[1], device);
        return new QuantizedWeight(codes, scale, zero, gIdx, args).MoveToOuterDisposeScope();
    }

    /// <summary>Whether <paramref name="module"/> is stored <c>pack-quantized</c>, so that <see cref="ReadInt32Packed"/> reads it.</summary>
    public bool IsPackQuantized(string module) =>
        _groupOf.TryGetValue(module, out var group) && Config.FormatOf(group) == CompressedTensorsFormats.PackQuantized;

    /// <summary>
    /// The pack-quantized Linear <paramref name="module"/> as stored, on the CPU: its int32 words mapped from the
    /// file (copied where they cannot be mapped), checked as <see cref="Read"/> checks them, but not unpacked.
    /// </summary>
    /// <exception cref="KeyNotFoundException">The module is not quantized.</exception>
    /// <exception cref="InvalidOperationException">The module is quantized in another format (see <see cref="IsPackQuantized"/>).</exception>
    /// <exception cref="InvalidDataException">A tensor is missing or has the wrong dtype or shape; the message names the file and the tensor.</exception>
    public Int32PackedWeight ReadInt32Packed(string module)
    {
        var (args, format) = GridOf(module);
        if (format != CompressedTensorsFormats.PackQuantized)
            throw new InvalidOperationException($"{ConfigPath}: module '{module}' is {format}, not {CompressedTensorsFormats.PackQuantized}");
        using var scope = NewDisposeScope();
        var words = PackedWords(module, args, CPU, out long columns);
        var (scale, zero, gIdx) = Grids(module, format, args, words.shape[0], columns, CPU);
        return new Int32PackedWeight(words.DetachFromDisposeScope(), columns, scale.DetachFromDisposeScope(),
            zero.DetachFromDisposeScope(), gIdx.DetachFromDisposeScope(), args);
    }

    (QuantizationArgs Args, string Format) GridOf(string module) =>
        _groupOf.TryGetValue(module, out var group) ? (group.Weights, Config.FormatOf(group))
            : throw new KeyNotFoundException($"{Folder}: '{module}' is not a quantized module (it has no weight_scale)");

    (Tensor Scale, Tensor ZeroPoint, Tensor GIdx) Grids(string module, string format, QuantizationArgs args, long rows, long columns, Device? device)
    {
        long groups = args.Strategy == QuantizationStrategy.Group ? (columns + args.GroupSize!.Value - 1) / args.GroupSize.Value : 1;
        long[] scaleShape = args.Strategy == QuantizationStrategy.Tensor ? [1, 1] : [rows, groups];
        var scale = Scale(module, scaleShape, device);
        var zero = args.Symmetric ? zeros(scaleShape, ScalarType.Int8, device) : ZeroPoint(module, format, args, scaleShape, device);
        return (scale, zero, GIdx(module, args, columns, groups, device));
    }

    /// <summary>The weight of the quantized Linear <paramref name="module"/> as values [out, in] in <paramref name="dtype"/>.</summary>
    public Tensor Dequantized(string module, ScalarType dtype, Device? device = null)
    {
        using var weight = Read(module, device);
        return weight.Dequantize(dtype);
    }

    Tensor PackedCodes(string module, QuantizationArgs args, Device? device)
    {
        using var words = PackedWords(module, args, device, out long columns);
        return Int32Packing.UnpackRows(words, args.NumBits, columns);
    }

    // The checked int32 words of a pack-quantized weight; on the CPU a map of the file's bytes where it allows.
    Tensor PackedWords(string module, QuantizationArgs args, Device? device, out long columns)
    {
        if (args.Type != QuantizationType.Int)
            throw new InvalidDataException($"{ConfigPath}: module '{module}' is {CompressedTensorsFormats.PackQuantized} but its weights are type float; packed weights are integers");
        if (args.NumBits is not (1 or 2 or 4 or 8))
            throw new InvalidDataException(
                $"{ConfigPath}: module '{module}' has {args.NumBits}-bit packed weights, whose packing differs between compressed-tensors versions; Kit reads 1, 2, 4 and 8 bits");
        var shape = Need(module + ".weight_shape");
        if (shape.DType is not (DType.I64 or DType.I32) || shape.ElementCount != 2)
            throw Bad(shape.Name, $"is {shape.DType} [{string.Join(", ", shape.Shape)}], expected 2 integers [out, in]");
        long[] outIn;
        using (var s = Checkpoint.Load(shape.Name, ScalarType.Int64)) outIn = s.data<long>().ToArray();
        long rows = outIn[0];
        columns = outIn[1];
        if (rows < 0 || columns < 0) throw Bad(shape.Name, $"holds [{rows}, {columns}], not a shape");
        var packed = Need(module + ".weight_packed");
        long[] expected = [rows, Int32Packing.WordsFor(columns, args.NumBits)];
        if (packed.DType != DType.I32 || !packed.Shape.SequenceEqual(expected))
            throw Bad(packed.Name, $"is {packed.DType} [{string.Join(", ", packed.Shape)}], expected I32 [{string.Join(", ", expected)}] for a [{rows}, {columns}] weight of {args.NumBits}-bit codes");
        bool onCpu = device is null || device.type == DeviceType.CPU;
        return (onCpu ? Checkpoint.Map(packed.Name) : null) ?? Checkpoint.Load(packed.Name, device: device);
    }

    Tensor IntCodes(string module, QuantizationArgs args, Device? device)
    {
        var info = Need(module + ".weight");
        if (args.Type != QuantizationType.Int || info.DType != DType.I8 || info.Shape.Length != 2)
            throw Bad(info.Name, $"is {info.DType} [{string.Join(", ", info.Shape)}], expected I8 [out, in] for {args.Type} {args.NumBits}-bit weights");
        var codes = Checkpoint.Load(info.Name, device: device);
        CheckRange(info.Name, "codes", codes, args);
        return codes;
    }

    Tensor FloatCodes(string module, QuantizationArgs args, Device? device)
    {
        var info = Need(module + ".weight");
        if (args.Type != QuantizationType.Float || info.DType != DType.F8_E4M3 || info.Shape.Length != 2)
            throw Bad(info.Name, $"is {info.DType} [{string.Join(", ", info.Shape)}], expected F8_E4M3 [out, in] for {args.Type} {args.NumBits}-bit weights");
        // Loaded without a dtype, F8_E4M3 comes back as its uint8 bit patterns, which is what Codes holds.
        return Checkpoint.Load(info.Name, device: device);
    }

    Tensor Scale(string module, long[] shape, Device? device)
    {
        var info = Need(module + ".weight_scale");
        bool perTensor = shape[0] == 1 && shape[1] == 1;
        bool fits = perTensor ? info.ElementCount == 1 : info.Shape.SequenceEqual(shape);
        if (info.DType is not (DType.F32 or DType.F16 or DType.BF16 or DType.F64) || !fits)
            throw Bad(info.Name, $"is {info.DType} [{string.Join(", ", info.Shape)}], expected a float tensor [{string.Join(", ", perTensor ? [1] : shape)}]");
        using var scale = Checkpoint.Load(info.Name, ScalarType.Float32, device);
        return scale.reshape(shape);
    }

    // pack-quantized packs channel and group zero points along the output dimension; other formats and
    // per-tensor grids keep them unpacked, one int8 per scale.
    Tensor ZeroPoint(string module, string format, QuantizationArgs args, long[] shape, Device? device)
    {
        var info = Need(module + ".weight_zero_point");
        bool packed = format == CompressedTensorsFormats.PackQuantized && args.Strategy != QuantizationStrategy.Tensor;
        if (packed)
        {
            long[] expected = [Int32Packing.WordsFor(shape[0], args.NumBits), shape[1]];
            if (info.DType != DType.I32 || !info.Shape.SequenceEqual(expected))
                throw Bad(info.Name, $"is {info.DType} [{string.Join(", ", info.Shape)}], expected I32 [{string.Join(", ", expected)}] (zero points packed along the output dimension)");
            using var words = Checkpoint.Load(info.Name, device: device);
            return Int32Packing.UnpackColumns(words, args.NumBits, shape[0]);
        }
        if (info.DType is not (DType.I8 or DType.I32 or DType.I64) || info.ElementCount != shape[0] * shape[1])
            throw Bad(info.Name, $"is {info.DType} [{string.Join(", ", info.Shape)}], expected integers [{string.Join(", ", shape)}]");
        using var raw = Checkpoint.Load(info.Name, device: device);
        CheckRange(info.Name, "zero points", raw, args);
        return raw.reshape(shape).to_type(ScalarType.Int8);
    }

    Tensor GIdx(string module, QuantizationArgs args, long columns, long groups, Device? device)
    {
        string name = module + ".weight_g_idx";
        if (!Checkpoint.Contains(name))
        {
            long perGroup = args.Strategy == QuantizationStrategy.Group ? args.GroupSize!.Value : Math.Max(1, columns);
            using var plain = QuantizedWeight.InOrderGroups(columns, perGroup, device ?? CPU);
            return plain.to_type(ScalarType.Int32);
        }
        var info = Checkpoint.Info(name);
        if (info.DType is not (DType.I32 or DType.I64) || !info.Shape.SequenceEqual([columns]))
            throw Bad(name, $"is {info.DType} [{string.Join(", ", info.Shape)}], expected I32 [{columns}]");
        var gIdx = Checkpoint.Load(name, ScalarType.Int32, device);
        if (columns > 0 && (gIdx.min().item<int>() < 0 || gIdx.max().item<int>() >= groups))
            throw Bad(name, $"holds groups outside [0, {groups})");
        return gIdx;
    }

    void CheckRange(string name, string what, Tensor values, QuantizationArgs args)
    {
        if (values.numel() == 0) return;
        using var wide = values.to_type(ScalarType.Int64);
        long min = wide.min().item<long>(), max = wide.max().item<long>();
        if (min < args.QMin || max > args.QMax)
            throw Bad(name, $"{what} span [{min}, {max}], outside the {args.NumBits}-bit grid [{args.QMin}, {args.QMax}]");
    }

    TensorInfo Need(string name) => Checkpoint.Contains(name) ? Checkpoint.Info(name)
        : throw new InvalidDataException($"{Folder}: tensor '{name}' is missing (needed by quantized module '{name[..name.LastIndexOf('.')]}', format from {ConfigPath})");

    InvalidDataException Bad(string name, string message) => new($"{Checkpoint.PathOf(name)}: tensor '{name}' {message}");

    static JsonObject ReadConfig(string path)
    {
        try
        {
            return JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? throw new InvalidDataException($"{path}: not a JSON object");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not valid JSON ({e.Message})", e);
        }
    }

    /// <summary>Unmaps the checkpoint.</summary>
    public void Dispose() => Checkpoint.Dispose();
}
