using System.Buffers.Binary;
using Kit.Formats.CompressedTensors;
using Kit.Models.Safetensors;
using Kit.Quantization;
using static TorchSharp.torch;

namespace Kit.Tests.Formats.CompressedTensors;

/// <summary>Hand-made quantized weights, a model-folder writer, and a decoder written from the spec alone.</summary>
internal static class CtTestData
{
    /// <summary>
    /// Random codes in the grid, scales k/256 (exact in bfloat16 and float16), random zero points when
    /// asymmetric; with <paramref name="regroup"/> the columns of each group are scattered (act-order group).
    /// </summary>
    public static QuantizedWeight Make(QuantizationArgs args, int rows, int columns, int seed, bool regroup = false)
    {
        var rng = new Random(seed);
        int perGroup = args.Strategy == QuantizationStrategy.Group ? args.GroupSize!.Value : columns;
        int groups = args.Strategy == QuantizationStrategy.Group ? columns / perGroup : 1;
        int scaleRows = args.Strategy == QuantizationStrategy.Tensor ? 1 : rows;
        var codes = new sbyte[rows * columns];
        for (int i = 0; i < codes.Length; i++) codes[i] = (sbyte)rng.Next(args.QMin, args.QMax + 1);
        var scale = new float[scaleRows * groups];
        for (int i = 0; i < scale.Length; i++) scale[i] = rng.Next(1, 256) / 256f;
        var zero = new sbyte[scaleRows * groups];
        if (!args.Symmetric)
            for (int i = 0; i < zero.Length; i++) zero[i] = (sbyte)rng.Next(args.QMin, args.QMax + 1);
        var gIdx = new int[columns];
        var order = Enumerable.Range(0, columns).ToArray();
        if (regroup) rng.Shuffle(order);
        for (int j = 0; j < columns; j++) gIdx[order[j]] = j / perGroup;
        return new QuantizedWeight(
            tensor(codes, rows, columns), tensor(scale, scaleRows, groups), tensor(zero, scaleRows, groups),
            tensor(gIdx, new long[] { columns }), args);
    }

    /// <summary>A model config.json as Hugging Face writes it, without quantization.</summary>
    public const string PlainConfig = """{"architectures": ["LlamaForCausalLM"], "model_type": "llama", "torch_dtype": "bfloat16"}""";

    /// <summary>Writes <paramref name="entries"/> as small shards with an index, and config.json with <paramref name="quantizationConfig"/>.</summary>
    public static string WriteModel(string dir, IEnumerable<SafetensorsEntry> entries, System.Text.Json.Nodes.JsonObject quantizationConfig)
    {
        SafetensorsWriter.WriteSharded(dir, entries, maxShardBytes: 64, new Dictionary<string, string> { ["format"] = "pt" });
        string config = Path.Combine(dir, "config.json");
        File.WriteAllText(config, PlainConfig);
        CompressedTensorsWriter.WriteQuantizationConfig(config, quantizationConfig);
        return dir;
    }

    /// <summary>
    /// The weight [out, in] a compressed-tensors module stands for, from the raw stored bytes and the spec:
    /// pack-quantized codes are (word &gt;&gt; (j·b mod 32)) &amp; (2^b − 1) − 2^(b−1) in word j·b/32 of the row,
    /// zero points the same along the output dimension, value = (q − z[g]) · s[g] with g = g_idx[j].
    /// </summary>
    public static float[,] DecodeFromBytes(SafetensorsCheckpoint ckpt, string module, string format, int bits)
    {
        var scaleInfo = ckpt.Info(module + ".weight_scale");
        float[] scale = Floats(ckpt, scaleInfo);
        int rows, columns;
        Func<int, int, int> code;
        if (format == CompressedTensorsFormats.PackQuantized)
        {
            var shape = ckpt.RawBytes(module + ".weight_shape");
            rows = (int)BinaryPrimitives.ReadInt64LittleEndian(shape);
            columns = (int)BinaryPrimitives.ReadInt64LittleEndian(shape[8..]);
            var packedInfo = ckpt.Info(module + ".weight_packed");
            Assert.Equal(DType.I32, packedInfo.DType);
            int words = (int)packedInfo.Shape[1];
            Assert.Equal((columns * bits + 31) / 32, words);
            var packed = ckpt.RawBytes(module + ".weight_packed").ToArray();
            code = (r, j) => Field(packed, r * words + j * bits / 32, j * bits % 32, bits) - (1 << (bits - 1));
        }
        else
        {
            var info = ckpt.Info(module + ".weight");
            rows = (int)info.Shape[0];
            columns = (int)info.Shape[1];
            var raw = ckpt.RawBytes(module + ".weight").ToArray();
            if (info.DType == DType.F8_E4M3)
                return Matrix(rows, columns, (r, j) => E4M3(raw[r * columns + j]) * scale[scale.Length == 1 ? 0 : r]);
            Assert.Equal(DType.I8, info.DType);
            code = (r, j) => (sbyte)raw[r * columns + j];
        }

        int groups = scaleInfo.ElementCount == 1 ? 1 : (int)scaleInfo.Shape[1];
        int scaleRows = scaleInfo.ElementCount == 1 ? 1 : rows;
        var gIdx = new int[columns];
        int perGroup = (columns + groups - 1) / groups;
        if (ckpt.Contains(module + ".weight_g_idx"))
        {
            var raw = ckpt.RawBytes(module + ".weight_g_idx");
            for (int j = 0; j < columns; j++) gIdx[j] = BinaryPrimitives.ReadInt32LittleEndian(raw[(4 * j)..]);
        }
        else for (int j = 0; j < columns; j++) gIdx[j] = j / perGroup;

        Func<int, int, int> zero = (_, _) => 0;
        if (ckpt.Contains(module + ".weight_zero_point"))
        {
            var zpInfo = ckpt.Info(module + ".weight_zero_point");
            Assert.Equal(DType.I32, zpInfo.DType);
            Assert.Equal(new long[] { (scaleRows * bits + 31) / 32, groups }, zpInfo.Shape);
            var zp = ckpt.RawBytes(module + ".weight_zero_point").ToArray();
            zero = (r, g) => Field(zp, (r * bits / 32) * groups + g, r * bits % 32, bits) - (1 << (bits - 1));
        }
        return Matrix(rows, columns, (r, j) =>
        {
            int sr = scaleRows == 1 ? 0 : r, g = gIdx[j];
            return (code(r, j) - zero(sr, g)) * scale[sr * groups + g];
        });
    }

    static int Field(byte[] words, int word, int shift, int bits)
    {
        uint w = BinaryPrimitives.ReadUInt32LittleEndian(words.AsSpan(4 * word));
        return (int)((w >> shift) & ((1u << bits) - 1));
    }

    static float[] Floats(SafetensorsCheckpoint ckpt, TensorInfo info)
    {
        var raw = ckpt.RawBytes(info.Name);
        var values = new float[info.ElementCount];
        for (int i = 0; i < values.Length; i++)
            values[i] = info.DType switch
            {
                DType.F32 => BinaryPrimitives.ReadSingleLittleEndian(raw[(4 * i)..]),
                DType.BF16 => BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(raw[(2 * i)..]) << 16),
                DType.F16 => (float)BinaryPrimitives.ReadHalfLittleEndian(raw[(2 * i)..]),
                _ => throw new InvalidOperationException($"scale dtype {info.DType}"),
            };
        return values;
    }

    /// <summary>E4M3 (fn) by its definition: S.EEEE.MMM, bias 7, subnormals M·2^−9, NaN at S.1111.111.</summary>
    public static float E4M3(byte bits)
    {
        int e = (bits >> 3) & 0xF, m = bits & 7;
        float sign = (bits & 0x80) != 0 ? -1 : 1;
        if (e == 15 && m == 7) return float.NaN;
        return sign * (e == 0 ? m * MathF.Pow(2, -9) : (1 + m / 8f) * MathF.Pow(2, e - 7));
    }

    static float[,] Matrix(int rows, int columns, Func<int, int, float> value)
    {
        var m = new float[rows, columns];
        for (int r = 0; r < rows; r++)
            for (int j = 0; j < columns; j++) m[r, j] = value(r, j);
        return m;
    }

    /// <summary>A [rows, cols] float32 tensor's values as a matrix.</summary>
    public static float[,] ToMatrix(Tensor t)
    {
        using var f = t.to_type(ScalarType.Float32).contiguous();
        var data = f.data<float>().ToArray();
        int rows = (int)t.shape[0], columns = (int)t.shape[1];
        return Matrix(rows, columns, (r, j) => data[r * columns + j]);
    }
}
