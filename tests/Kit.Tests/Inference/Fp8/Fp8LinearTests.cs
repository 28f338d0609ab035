using Kit.Calibration;
using Kit.Formats;
using Kit.Inference.Fp8;
using Kit.Inference.Kernels;
using Kit.Models;
using Kit.Quantization;
using static TorchSharp.torch;

namespace Kit.Tests.Inference.Fp8;

public sealed class Fp8LinearTests
{
    // E4M3 by its definition: sign, 4 exponent bits with bias 7, 3 mantissa bits, subnormals at exponent 0.
    static double ByDefinition(int code)
    {
        int sign = code >> 7, e = (code >> 3) & 15, m = code & 7;
        double magnitude = e == 0 ? m / 8.0 * Math.Pow(2, -6) : (1 + m / 8.0) * Math.Pow(2, e - 7);
        return sign == 1 ? -magnitude : magnitude;
    }

    [Fact]
    public void Row_decode_matches_the_format_definition_for_every_finite_code()
    {
        // One row holding every code (the two NaNs, refused at load, replaced by 0): the register decode covers the
        // first 256 − 256 % 8 columns, the table the rest; 260 columns leave a tail of 4.
        var bits = Enumerable.Range(0, 260).Select(c => (byte)((c % 256 & 0x7F) == 0x7F ? 0 : c % 256)).ToArray();
        foreach (var path in new[] { KernelPaths.Best, KernelPath.Scalar })
        {
            var decoded = new float[bits.Length];
            Fp8Matmul.DecodeRows(bits, new[] { 1f }, bits.Length, 0, 1, decoded, path);
            for (int c = 0; c < bits.Length; c++)
                Assert.True(ByDefinition(bits[c]) == decoded[c], $"{path}: code {bits[c]} decoded as {decoded[c]}");
        }
    }

    static QuantizedWeight RandomFp8(int rows, int columns, bool perTensor, int seed)
    {
        var generator = manual_seed(seed);
        var w = randn(rows, columns, generator: generator) * 0.05;
        return Rtn.Quantize(w, QuantizationPresets.Fp8 with { Strategy = perTensor ? QuantizationStrategy.Tensor : QuantizationStrategy.Channel });
    }

    static Tensor Reference(QuantizedWeight q, Tensor x)
    {
        // float64 from the bit patterns by definition, not through Kit's decoder.
        var bits = q.Codes.to_type(ScalarType.Int32).data<int>().ToArray();
        var values = tensor(bits.Select(ByDefinition).ToArray(), q.Codes.shape[0], q.Codes.shape[1]);
        var scale = q.Scale.to_type(ScalarType.Float64).reshape(-1, 1);
        return x.to_type(ScalarType.Float64).matmul((values * scale).t());
    }

    [Theory]
    [InlineData(37, 100, 1, false)]
    [InlineData(37, 100, 5, true)]
    [InlineData(300, 520, 3, false)]
    [InlineData(9, 7, 2, true)]
    [InlineData(29, 96, 13, false)]
    public void Kernel_matches_a_float64_reference(int rows, int columns, int batch, bool perTensor)
    {
        using var q = RandomFp8(rows, columns, perTensor, rows + columns);
        using var layer = Fp8Linear.From(q);
        var x = randn(batch, columns, generator: manual_seed(batch));
        var reference = Reference(q, x);
        var y = layer.forward(x).to_type(ScalarType.Float64);
        Assert.True(y.allclose(reference, rtol: 1e-5, atol: 1e-5), $"max |Δ| {(y - reference).abs().max().item<double>()}");
        // The tensor-op path (prefill, other devices) gives the same.
        var wide = layer.forward(x.expand(40, batch, columns).reshape(40 * batch, columns))[..batch].to_type(ScalarType.Float64);
        Assert.True(wide.allclose(reference, rtol: 1e-5, atol: 1e-5));
    }

    [Theory]
    [InlineData((int)KernelPath.Scalar)]
    [InlineData((int)KernelPath.Avx2)]
    [InlineData((int)KernelPath.Avx512)]
    public void Every_instruction_set_path_matches_the_reference(int pathNumber)
    {
        var path = (KernelPath)pathNumber;
        using var q = RandomFp8(19, 70, false, 3);
        using var layer = Fp8Linear.From(q);
        var x = randn(6, 70, generator: manual_seed(4)).contiguous();
        var y = new float[6 * 19];
        Fp8Matmul.Multiply(layer.Bits.data<byte>().ToArray(), layer.RowScales.data<float>().ToArray(), 19, 70, x.data<float>().ToArray(), 6, y, path);
        var reference = Reference(q, x);
        Assert.True(tensor(y, 6, 19).to_type(ScalarType.Float64).allclose(reference, rtol: 1e-5, atol: 1e-5));
    }

    [Theory]
    [InlineData((int)KernelPath.Scalar)]
    [InlineData((int)KernelPath.Avx2)]
    [InlineData((int)KernelPath.Avx512)]
    public void Prefill_tiles_decode_rows_as_value_times_row_scale_on_every_path(int pathNumber)
    {
        // 21 columns: two vectors of eight and a scalar tail; rows 5–16 of 17.
        using var q = RandomFp8(17, 21, false, 5);
        using var layer = Fp8Linear.From(q);
        var bits = layer.Bits.data<byte>().ToArray();
        var scales = layer.RowScales.data<float>().ToArray();
        var tile = new float[12 * 21];
        Fp8Matmul.DecodeRows(bits, scales, 21, 5, 12, tile, (KernelPath)pathNumber);
        for (int r = 0; r < 12; r++)
            for (int j = 0; j < 21; j++)
                Assert.Equal((float)ByDefinition(bits[(r + 5) * 21 + j]) * scales[r + 5], tile[r * 21 + j]);
    }

    [Fact]
    public void Dynamic_activations_are_rounded_to_fp8_per_token()
    {
        using var q = RandomFp8(16, 64, false, 5);
        using var layer = Fp8Linear.From(q, quantizeActivations: true);
        var x = randn(2, 64, generator: manual_seed(6));
        var scale = x.abs().amax(new long[] { 1 }, keepdim: true) / 448;
        var rounded = Fp8E4M3.Round(x / scale) * scale;
        var reference = Reference(q, rounded);
        var y = layer.forward(x).to_type(ScalarType.Float64);
        Assert.True(y.allclose(reference, rtol: 1e-5, atol: 1e-5));
        Assert.False(y.allclose(Reference(q, x), rtol: 1e-6, atol: 1e-6));
    }

    [Fact]
    public void Nan_codes_are_refused_with_their_position()
    {
        using var q = RandomFp8(4, 8, false, 7);
        q.Codes[2, 5] = tensor((byte)0xFF);
        var e = Assert.Throws<ArgumentException>(() => Fp8Linear.From(q, name: "model.layers.0.mlp.up_proj"));
        Assert.Contains("model.layers.0.mlp.up_proj: weight [2, 5] is NaN", e.Message);
    }

    [Fact]
    public void An_fp8_compressed_tensors_model_loads_one_byte_per_weight()
    {
        var dir = TestPaths.NewTempDir();
        var recipe = new CompressionRecipe { Method = CompressionMethod.Rtn, Scheme = "FP8", Weights = QuantizationPresets.Fp8 };
        var options = new SequentialOptions { Device = "cpu" };
        ModelExport.CompressAndSave(TestPaths.Stories260K, Path.Combine(dir, "ct"), SaveFormat.CompressedTensors, recipe, null, options);
        ModelExport.CompressAndSave(TestPaths.Stories260K, Path.Combine(dir, "dense"), SaveFormat.Dense, recipe, null, options);
        using var fp8 = LanguageModel.Load(Path.Combine(dir, "ct"), new ModelLoadOptions { Device = "cpu" });
        using var dense = LanguageModel.Load(Path.Combine(dir, "dense"), new ModelLoadOptions { Device = "cpu" });
        var linears = fp8.Model.DecoderLinears().Select(l => Assert.IsType<Fp8Linear>(l.Module)).ToList();
        long linearWeights = linears.Sum(l => (long)l.OutFeatures * l.InFeatures);
        long scales = linears.Sum(l => (long)l.OutFeatures);
        // Dense float32 Linears (4 bytes a weight) become 1 byte a weight plus a float32 scale per row.
        Assert.Equal(dense.Model.WeightBytes - 4 * linearWeights + linearWeights + 4 * scales, fp8.Model.WeightBytes);

        var ids = tensor(new long[] { 1, 403, 407, 261, 378 }, 1, 5);
        using var a = fp8.Model.Forward(ids);
        using var b = dense.Model.Forward(ids);
        // Same weights; the FP8 model also rounds its activations to FP8 per token, as vLLM serves FP8_DYNAMIC.
        Assert.True(a.allclose(b, rtol: 0, atol: 0.5), $"max |Δ| {(a - b).abs().max().item<float>()}");
        Assert.Equal(b.argmax(-1).data<long>().ToArray(), a.argmax(-1).data<long>().ToArray());
    }
}
