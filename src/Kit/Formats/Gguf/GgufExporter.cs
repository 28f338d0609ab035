using Kit.Inference;
using Kit.Models;
using Kit.Quantization;
using static TorchSharp.torch;

namespace Kit.Formats.Gguf;

/// <summary>
/// Writes a Llama-family model as a llama.cpp GGUF file (<c>general.architecture = "llama"</c>) the way
/// <c>convert_hf_to_gguf.py</c> does: llama.* hyperparameters, the tokenizer, llama.cpp's tensor names,
/// q_proj/k_proj rows permuted for its rotary layout, and an omitted output head when embeddings are tied.
/// </summary>
public static class GgufExporter
{
    /// <summary>Loads <paramref name="modelFolder"/> (a folder, hub id or "default") in float32 on the CPU and exports it.</summary>
    public static GgufExportReport Export(string modelFolder, string outFile, GgufExportOptions? options = null)
    {
        using var lm = LanguageModel.Load(modelFolder, new ModelLoadOptions { Device = "cpu", DType = "float32" });
        return Export(lm, outFile, options);
    }

    /// <summary>Exports the weights <paramref name="lm"/> holds now, with the tokenizer files of its folder.</summary>
    /// <exception cref="NotSupportedException">The architecture has parts llama.cpp's "llama" GGUF cannot hold (biases, Qwen2).</exception>
    /// <exception cref="ArgumentException">
    /// An option is out of range, or a quantized weight names no Linear, has the wrong shape or a scale fp16 cannot
    /// hold (<see cref="QuantizedWeightBlocks.CheckScales"/>); nothing is written then.
    /// </exception>
    public static GgufExportReport Export(LanguageModel lm, string outFile, GgufExportOptions? options = null)
    {
        options ??= new GgufExportOptions();
        if (options.TensorType is not (GgmlType.F32 or GgmlType.F16 or GgmlType.Q8_0 or GgmlType.Q4_0))
            throw new ArgumentException($"GgufExportOptions.TensorType: {options.TensorType} is not written; use F32, F16, Q8_0 or Q4_0", nameof(options));
        var config = lm.Config;
        var notes = new List<string>();
        CheckArchitecture(config, notes);
        var quantized = options.QuantizedWeights ?? new Dictionary<string, QuantizedWeight>();
        var names = GgufNames.All(config).ToList();
        foreach (var module in quantized.Keys)
            if (!names.Any(n => n.Hf == module + ".weight" && IsLinear(n.Hf)))
                throw new ArgumentException($"GgufExportOptions.QuantizedWeights: '{module}' is not a Linear module of this model " +
                    "(use names such as model.layers.0.self_attn.q_proj)", nameof(options));

        var tokenizer = GgufTokenizerExport.FromFolder(lm.Folder, lm.Tokenizer, config.VocabSize, options.PreTokenizer);
        if (tokenizer.PreTokenizer is { } pre) notes.Add($"tokenizer.ggml.pre = {pre}" + (options.PreTokenizer is null ? " (detected from tokenizer.json's split rules)" : " (given)"));
        notes.AddRange(tokenizer.Notes);

        var parameters = lm.Model.named_parameters().ToDictionary(p => p.name, p => (Tensor)p.parameter);
        using var scope = NewDisposeScope();
        // A compressed-tensors model loads its Linears packed, with no dense weight parameter: their float32 values
        // are what the GGUF blocks are made from (or kept, for the output types that store floats).
        foreach (var (name, module) in lm.Model.Linears())
            if (!parameters.ContainsKey(name + ".weight"))
                parameters[name + ".weight"] = module is QuantizedLinear packed ? packed.Weight.Dequantize(ScalarType.Float32)
                    : throw new NotSupportedException($"{name}: a {module.GetType().Name} is not exported to GGUF; export the model's dense form (kit quantize --format dense) instead");
        var reports = new List<GgufTensorReport>();
        var tensors = new List<GgufTensorData>();
        foreach (var (gguf, hf) in names)
        {
            var parameter = parameters[hf];
            var shape = parameter.shape;
            int? heads = GgufNames.PermutationHeads(hf, config);
            if (quantized.TryGetValue(hf[..^".weight".Length], out var qw))
                tensors.Add(QuantizedTensor(gguf, hf, shape, qw, heads, reports));
            else
                tensors.Add(DenseTensor(gguf, hf, parameter, DenseType(gguf, shape, options.TensorType, out var note), note, heads, reports));
        }
        if (config.RopeScaling is { Type: "llama3" } scaling)
            tensors.Add(RopeFactors(config, scaling, reports));

        GgufWriter.Write(outFile, Metadata(config, options, lm, tokenizer, FileType(tensors)), tensors);
        foreach (var r in reports.Where(r => r.Note is not null)) notes.Add($"{r.Name}: {r.Note}");
        var path = Path.GetFullPath(outFile);
        return new GgufExportReport(path, new FileInfo(path).Length, tokenizer.Model, tokenizer.PreTokenizer, reports, notes);
    }

    static bool IsLinear(string hf) => hf == "lm_head.weight" || hf.Contains("_proj.weight", StringComparison.Ordinal);

    static void CheckArchitecture(ModelConfig config, List<string> notes)
    {
        if (config.ModelType is not ("llama" or "mistral"))
            throw new NotSupportedException($"model_type '{config.ModelType}' is not exported to GGUF; Kit writes llama.cpp's \"llama\" architecture (llama, mistral)");
        if (config.AttentionQkvBias || config.AttentionOutputBias || config.MlpBias)
            throw new NotSupportedException("models with attention or MLP biases are not exported to GGUF; Kit writes llama.cpp's \"llama\" architecture without biases");
        if (config.RopeScaling is { Type: not ("linear" or "llama3") } s)
            throw new NotSupportedException($"rope_scaling type '{s.Type}' is not exported to GGUF (linear and llama3 are)");
        if (config.SlidingWindow is int w && w < config.MaxPositionEmbeddings)
            notes.Add($"sliding_window {w} is not stored: llama.cpp's llama architecture attends to the whole context");
    }

    /// <summary>
    /// <c>general.file_type</c> (llama_ftype) for the type that holds most of the blocks' weight matrices, counted
    /// in elements, as llama.cpp names a mixture after its main type ("mostly Q4_1").
    /// </summary>
    static uint FileType(IReadOnlyList<GgufTensorData> tensors)
    {
        var matrices = tensors.Where(t => t.Shape.Count == 2 && t.Name.StartsWith("blk.", StringComparison.Ordinal)).ToList();
        var main = (matrices.Count > 0 ? matrices : tensors.Where(t => t.Shape.Count == 2))
            .GroupBy(t => t.Type).OrderByDescending(g => g.Sum(t => t.ElementCount)).First().Key;
        // llama_ftype: ALL_F32 = 0, MOSTLY_F16 = 1, MOSTLY_Q4_0 = 2, MOSTLY_Q4_1 = 3, MOSTLY_Q8_0 = 7, MOSTLY_BF16 = 32.
        return main switch
        {
            GgmlType.F32 => 0u, GgmlType.F16 => 1u, GgmlType.Q4_0 => 2u, GgmlType.Q4_1 => 3u, GgmlType.Q8_0 => 7u, GgmlType.BF16 => 32u,
            _ => throw new InvalidOperationException($"no llama_ftype for {main}"),
        };
    }

    static List<KeyValuePair<string, GgufValue>> Metadata(ModelConfig c, GgufExportOptions options, LanguageModel lm, GgufTokenizerMetadata tokenizer, uint fileType)
    {
        uint U(int v) => checked((uint)v);
        var m = new List<KeyValuePair<string, GgufValue>>
        {
            new("general.architecture", GgufValue.String("llama")),
            new("general.name", GgufValue.String(options.Name ?? NameOf(lm.Source))),
            new("llama.vocab_size", GgufValue.UInt32(U(c.VocabSize))),
            new("llama.context_length", GgufValue.UInt32(U(c.MaxPositionEmbeddings))),
            new("llama.embedding_length", GgufValue.UInt32(U(c.HiddenSize))),
            new("llama.block_count", GgufValue.UInt32(U(c.NumHiddenLayers))),
            new("llama.feed_forward_length", GgufValue.UInt32(U(c.IntermediateSize))),
            new("llama.rope.dimension_count", GgufValue.UInt32(U(c.HeadDim))),
            new("llama.rope.freq_base", GgufValue.Float32((float)c.RopeTheta)),
            new("llama.attention.head_count", GgufValue.UInt32(U(c.NumAttentionHeads))),
            new("llama.attention.head_count_kv", GgufValue.UInt32(U(c.NumKeyValueHeads))),
            new("llama.attention.layer_norm_rms_epsilon", GgufValue.Float32((float)c.RmsNormEps)),
            new("llama.attention.key_length", GgufValue.UInt32(U(c.HeadDim))),
            new("llama.attention.value_length", GgufValue.UInt32(U(c.HeadDim))),
        };
        if (c.RopeScaling is { Type: "linear" } linear)
        {
            m.Add(new("llama.rope.scaling.type", GgufValue.String("linear")));
            m.Add(new("llama.rope.scaling.factor", GgufValue.Float32((float)linear.Factor)));
        }
        m.Add(new("general.file_type", GgufValue.UInt32(fileType)));
        m.Add(new("general.quantization_version", GgufValue.UInt32(2)));
        m.AddRange(tokenizer.Entries);
        return m;
    }

    static GgmlType DenseType(string gguf, long[] shape, GgmlType requested, out string? note)
    {
        note = null;
        if (shape.Length == 1) return GgmlType.F32;
        var type = requested;
        if (type == GgmlType.Q4_0 && gguf is GgufNames.TokenEmbedding or GgufNames.Output) type = GgmlType.Q8_0;
        if (type is GgmlType.Q4_0 or GgmlType.Q8_0 && shape[^1] % GgmlQuants.BlockElements != 0)
        {
            note = $"rows of {shape[^1]} values are not a multiple of 32: stored as F16, as llama.cpp's converter does";
            return GgmlType.F16;
        }
        return type;
    }

    static GgufTensorData DenseTensor(string gguf, string hf, Tensor parameter, GgmlType type, string? note, int? heads, List<GgufTensorReport> reports) =>
        new(gguf, parameter.shape, type, () =>
        {
            using var scope = NewDisposeScope();
            var values = parameter.detach().to(CPU).to_type(ScalarType.Float32);
            if (heads is int h) values = LlamaQkPermutation.Permute(values, h);
            var bytes = Encoded(type, values, out double deviation);
            reports.Add(new GgufTensorReport(gguf, hf, type, GgufTensorOrigin.Dense, deviation, note));
            return bytes;
        });

    static GgufTensorData QuantizedTensor(string gguf, string hf, long[] shape, QuantizedWeight qw, int? heads, List<GgufTensorReport> reports)
    {
        if (!qw.Codes.shape.SequenceEqual(shape))
            throw new ArgumentException($"GgufExportOptions.QuantizedWeights: '{hf}' has codes [{string.Join(", ", qw.Codes.shape)}], the model's weight is [{string.Join(", ", shape)}]");
        string? why = QuantizedWeightBlocks.WhyNotExact(qw);
        // Refused before the file is opened, naming the row and group in the checkpoint's order.
        if (why is null) QuantizedWeightBlocks.CheckScales(qw, hf);
        var target = QuantizedWeightBlocks.TargetType(qw.Args) ?? GgmlType.Q8_0;
        var type = why is null ? target : shape[^1] % GgmlQuants.BlockElements == 0 ? target : GgmlType.F16;
        return new GgufTensorData(gguf, shape, type, () =>
        {
            using var scope = NewDisposeScope();
            if (why is null)
            {
                var rows = heads is int hh ? Rows(qw, hh) : qw;
                var blocks = QuantizedWeightBlocks.Encode(rows, hf)!;
                reports.Add(new GgufTensorReport(gguf, hf, type, GgufTensorOrigin.Lossless, blocks.MaxDeviation, LosslessNote(qw, blocks)));
                return blocks.Bytes;
            }
            var source = qw.Dequantize(ScalarType.Float32).to(CPU);
            if (heads is int h) source = LlamaQkPermutation.Permute(source, h);
            var bytes = Encoded(type, source, out double deviation);
            reports.Add(new GgufTensorReport(gguf, hf, type, GgufTensorOrigin.Requantized, deviation,
                $"{why}: dequantized and requantized with ggml's reference {type} quantizer"));
            return bytes;
        });
    }

    /// <summary>What moved when the blocks were written, or null when they hold the quantized values exactly.</summary>
    static string? LosslessNote(QuantizedWeight qw, GgmlBlockEncoding blocks)
    {
        if (blocks.MaxDeviation == 0) return null;
        var notes = new List<string>();
        using (var scope = NewDisposeScope())
        {
            var scale = qw.Scale.to(CPU).to_type(ScalarType.Float32);
            if (scale.to_type(ScalarType.Float16).to_type(ScalarType.Float32).ne(scale).any().item<bool>())
                notes.Add("some scales are not fp16-exact: d rounds to fp16");
        }
        if (blocks.RoundedOffsets > 0)
            notes.Add($"Q4_1's offset m = −(zero point + 8)·d is not an fp16 value in {blocks.RoundedOffsets} of " +
                $"{blocks.Bytes.Length / GgmlQuants.Q4_1BlockBytes} blocks: rounded to the nearest, which shifts those blocks' values by at most half an fp16 ulp of m");
        return string.Join("; ", notes);
    }

    /// <summary>The weight with its rows (codes, and scales and zero points when per row) in llama.cpp's order.</summary>
    static QuantizedWeight Rows(QuantizedWeight qw, int heads)
    {
        Tensor PerRow(Tensor t) => t.shape[0] == 1 ? t : LlamaQkPermutation.Permute(t, heads);
        return new QuantizedWeight(LlamaQkPermutation.Permute(qw.Codes, heads), PerRow(qw.Scale), PerRow(qw.ZeroPoint), qw.GIdx, qw.Args);
    }

    static byte[] Encoded(GgmlType type, Tensor values, out double deviation)
    {
        var flat = values.contiguous().data<float>().ToArray();
        var bytes = GgmlQuants.Encode(type, flat);
        var back = new float[flat.Length];
        GgmlQuants.Dequantize(type, bytes, back);
        deviation = 0;
        for (int i = 0; i < flat.Length; i++) deviation = Math.Max(deviation, Math.Abs((double)back[i] - flat[i]));
        return bytes;
    }

    /// <summary>
    /// Llama 3's rope scaling as llama.cpp stores it: a <c>rope_freqs.weight</c> tensor of per-frequency
    /// divisors (<c>LlamaModel.generate_extra_tensors</c> in convert_hf_to_gguf.py).
    /// </summary>
    static GgufTensorData RopeFactors(ModelConfig c, RopeScaling s, List<GgufTensorReport> reports)
    {
        int n = c.HeadDim / 2;
        return new GgufTensorData("rope_freqs.weight", [n], GgmlType.F32, () =>
        {
            var factors = new float[n];
            double lowWavelen = s.OriginalMaxPositionEmbeddings / s.LowFreqFactor;
            double highWavelen = s.OriginalMaxPositionEmbeddings / s.HighFreqFactor;
            for (int i = 0; i < n; i++)
            {
                double freq = 1.0 / Math.Pow(c.RopeTheta, 2.0 * i / c.HeadDim);
                double wavelen = 2 * Math.PI / freq;
                double smooth = (s.OriginalMaxPositionEmbeddings / wavelen - s.LowFreqFactor) / (s.HighFreqFactor - s.LowFreqFactor);
                factors[i] = (float)(wavelen < highWavelen ? 1 : wavelen > lowWavelen ? s.Factor : 1 / ((1 - smooth) / s.Factor + smooth));
            }
            reports.Add(new GgufTensorReport("rope_freqs.weight", "rope_scaling (llama3)", GgmlType.F32, GgufTensorOrigin.Dense, 0, null));
            return GgmlQuants.Encode(GgmlType.F32, factors);
        });
    }

    /// <summary><c>general.name</c> for a model given as <paramref name="source"/>: a folder's name, or the hub id or Kit name as given.</summary>
    internal static string NameOf(string source) =>
        Directory.Exists(source) ? Path.GetFileName(Path.GetFullPath(source).TrimEnd('/')) : source;
}
