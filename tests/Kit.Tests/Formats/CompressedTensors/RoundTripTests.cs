using Kit.Formats.CompressedTensors;
using Kit.Models.Safetensors;
using Kit.Quantization;
using static TorchSharp.torch;

namespace Kit.Tests.Formats.CompressedTensors;

public sealed class RoundTripTests
{
    const string Module = "model.layers.0.mlp.down_proj";

    static CompressionRecipe Recipe(QuantizationArgs weights, string actOrder = "none", string? activations = null) => new()
    {
        Method = CompressionMethod.Gptq, Weights = weights, ActOrder = ActOrders.Parse(actOrder), InputActivations = activations,
    };

    static bool Same(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();

    static void AssertStored(SafetensorsCheckpoint ckpt, string name, DType dtype, long[] shape)
    {
        Assert.Equal(dtype, ckpt.Info(name).DType);
        Assert.Equal(shape, ckpt.Info(name).Shape);
    }

    static void AssertSame(QuantizedWeight expected, QuantizedWeight actual)
    {
        Assert.Equal(expected.Codes.dtype, actual.Codes.dtype);
        Assert.Equal(expected.Codes.shape, actual.Codes.shape);
        Assert.True(Same(expected.Codes, actual.Codes), "codes differ");
        Assert.Equal(ScalarType.Float32, actual.Scale.dtype);
        Assert.Equal(expected.Scale.shape, actual.Scale.shape);
        Assert.True(Same(expected.Scale, actual.Scale), "scales differ");
        Assert.Equal(ScalarType.Int8, actual.ZeroPoint.dtype);
        Assert.True(Same(expected.ZeroPoint, actual.ZeroPoint), "zero points differ");
        Assert.Equal(ScalarType.Int32, actual.GIdx.dtype);
        Assert.True(Same(expected.GIdx.to_type(ScalarType.Int32), actual.GIdx), "g_idx differs");
        var (e, a) = (expected.Args, actual.Args);
        Assert.Equal((e.NumBits, e.Type, e.Symmetric, e.Strategy), (a.NumBits, a.Type, a.Symmetric, a.Strategy));
        Assert.Equal(e.Strategy == QuantizationStrategy.Group ? e.GroupSize : null, a.GroupSize);
    }

    public static TheoryData<int, bool, QuantizationStrategy, ScalarType> PackedGrids()
    {
        var data = new TheoryData<int, bool, QuantizationStrategy, ScalarType>();
        foreach (int bits in new[] { 4, 8 })
            foreach (bool symmetric in new[] { true, false })
                foreach (var strategy in new[] { QuantizationStrategy.Channel, QuantizationStrategy.Group })
                    data.Add(bits, symmetric, strategy, bits == 4 ? ScalarType.BFloat16 : ScalarType.Float16);
        data.Add(4, false, QuantizationStrategy.Group, ScalarType.Float32);
        return data;
    }

    [Theory]
    [MemberData(nameof(PackedGrids))]
    public void Pack_quantized_weights_read_back_exactly_and_decode_independently(int bits, bool symmetric, QuantizationStrategy strategy, ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        var args = new QuantizationArgs { NumBits = bits, Symmetric = symmetric, Strategy = strategy, GroupSize = strategy == QuantizationStrategy.Group ? 4 : null };
        // 5 rows: the int4/int8 zero points pad their last word; 12 or 9 columns: int4 rows pad theirs.
        int columns = strategy == QuantizationStrategy.Group ? 12 : 9;
        var original = CtTestData.Make(args, rows: 5, columns, seed: bits * 10 + (symmetric ? 1 : 0));
        var writer = new CompressedTensorsWriter(Recipe(args, "static"), dtype);
        var dir = CtTestData.WriteModel(TestPaths.NewTempDir(), writer.ModuleTensors(Module, original), writer.Config.ToJson());

        using (var ckpt = SafetensorsCheckpoint.Open(dir))
        {
            Assert.Equal(DType.I32, ckpt.Info(Module + ".weight_packed").DType);
            Assert.Equal(new long[] { 5, (columns * bits + 31) / 32 }, ckpt.Info(Module + ".weight_packed").Shape);
            Assert.Equal(DTypes.FromScalarType(dtype), ckpt.Info(Module + ".weight_scale").DType);
            Assert.Equal(new long[] { 5, strategy == QuantizationStrategy.Group ? 3 : 1 }, ckpt.Info(Module + ".weight_scale").Shape);
            Assert.Equal(DType.I64, ckpt.Info(Module + ".weight_shape").DType);
            Assert.Equal(!symmetric, ckpt.Contains(Module + ".weight_zero_point"));
            Assert.False(ckpt.Contains(Module + ".weight_g_idx"));
            Assert.Equal(CtTestData.ToMatrix(original.Dequantize()), CtTestData.DecodeFromBytes(ckpt, Module, CompressedTensorsFormats.PackQuantized, bits));
        }

        Assert.True(CompressedTensorsReader.IsCompressedTensors(dir));
        using var reader = CompressedTensorsReader.Open(dir);
        Assert.Equal([Module], reader.QuantizedModules);
        AssertSame(original, reader.Read(Module));
    }

    [Fact]
    public void Act_order_group_stores_g_idx_and_reads_it_back()
    {
        using var scope = NewDisposeScope();
        var args = QuantizationPresets.W4A16 with { GroupSize = 4 };
        var original = CtTestData.Make(args, rows: 3, columns: 16, seed: 5, regroup: true);
        var writer = new CompressedTensorsWriter(Recipe(args, "group"), ScalarType.BFloat16);
        var dir = CtTestData.WriteModel(TestPaths.NewTempDir(), writer.ModuleTensors(Module, original), writer.Config.ToJson());
        using (var ckpt = SafetensorsCheckpoint.Open(dir))
        {
            Assert.Equal(DType.I32, ckpt.Info(Module + ".weight_g_idx").DType);
            Assert.Equal(new long[] { 16 }, ckpt.Info(Module + ".weight_g_idx").Shape);
            Assert.Equal(CtTestData.ToMatrix(original.Dequantize()), CtTestData.DecodeFromBytes(ckpt, Module, CompressedTensorsFormats.PackQuantized, 4));
        }
        using var reader = CompressedTensorsReader.Open(dir);
        Assert.Equal(ActOrder.Group, reader.Config.Groups[0].ActOrder);
        AssertSame(original, reader.Read(Module));
    }

    [Fact]
    public void W8A8_stores_int8_weights_and_per_channel_scales()
    {
        using var scope = NewDisposeScope();
        var original = CtTestData.Make(QuantizationPresets.W8A8, rows: 4, columns: 7, seed: 11);
        var writer = new CompressedTensorsWriter(Recipe(QuantizationPresets.W8A8, activations: "int8-dynamic-token"), ScalarType.BFloat16);
        Assert.Equal(CompressedTensorsFormats.IntQuantized, writer.Format);
        var dir = CtTestData.WriteModel(TestPaths.NewTempDir(), writer.ModuleTensors(Module, original), writer.Config.ToJson());
        using (var ckpt = SafetensorsCheckpoint.Open(dir))
        {
            AssertStored(ckpt, Module + ".weight", DType.I8, new long[] { 4, 7 });
            AssertStored(ckpt, Module + ".weight_scale", DType.BF16, new long[] { 4, 1 });
            Assert.Equal(2, ckpt.Names.Count);
            Assert.Equal(CtTestData.ToMatrix(original.Dequantize()), CtTestData.DecodeFromBytes(ckpt, Module, CompressedTensorsFormats.IntQuantized, 8));
        }
        using var reader = CompressedTensorsReader.Open(dir);
        AssertSame(original, reader.Read(Module));
    }

    [Theory]
    [InlineData(QuantizationStrategy.Tensor)] [InlineData(QuantizationStrategy.Channel)]
    public void Fp8_stores_e4m3_bits_and_reads_them_back(QuantizationStrategy strategy)
    {
        using var scope = NewDisposeScope();
        var args = QuantizationPresets.Fp8 with { Strategy = strategy };
        var w = randn(new long[] { 6, 10 }, generator: new TorchSharp.torch.Generator(3)) * 0.1;
        var rtn = Rtn.Quantize(w, args);
        // Scales already in bfloat16 so that the stored ones are the same numbers.
        var original = new QuantizedWeight(rtn.Codes, rtn.Scale.to_type(ScalarType.BFloat16).to_type(ScalarType.Float32), rtn.ZeroPoint, rtn.GIdx, args);
        var writer = new CompressedTensorsWriter(Recipe(args, activations: "fp8-dynamic-token"), ScalarType.BFloat16);
        Assert.Equal(CompressedTensorsFormats.FloatQuantized, writer.Format);
        var dir = CtTestData.WriteModel(TestPaths.NewTempDir(), writer.ModuleTensors(Module, original), writer.Config.ToJson());
        using (var ckpt = SafetensorsCheckpoint.Open(dir))
        {
            AssertStored(ckpt, Module + ".weight", DType.F8_E4M3, new long[] { 6, 10 });
            Assert.Equal(strategy == QuantizationStrategy.Tensor ? new long[] { 1 } : new long[] { 6, 1 }, ckpt.Info(Module + ".weight_scale").Shape);
            Assert.False(ckpt.Contains(Module + ".input_scale"));
            Assert.Equal(CtTestData.ToMatrix(original.Dequantize()), CtTestData.DecodeFromBytes(ckpt, Module, CompressedTensorsFormats.FloatQuantized, 8));
        }
        using var reader = CompressedTensorsReader.Open(dir);
        AssertSame(original, reader.Read(Module));
    }

    [Fact]
    public void A_whole_layer_round_trips_and_only_its_quantization_tensors_are_claimed()
    {
        using var scope = NewDisposeScope();
        var args = QuantizationPresets.W4A16Asym with { GroupSize = 8 };
        string[] names = ["self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj", "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"];
        var modules = names.Select((n, i) => ("model.layers.2." + n, CtTestData.Make(args, rows: 8, columns: 16, seed: 100 + i)))
            .ToDictionary(p => p.Item1, p => p.Item2);
        var writer = new CompressedTensorsWriter(Recipe(args), ScalarType.BFloat16);
        using var norm = ones(16).to_type(ScalarType.BFloat16);
        var entries = writer.LayerTensors(modules).Append(new SafetensorsEntry("model.layers.2.input_layernorm.weight", norm));
        var dir = CtTestData.WriteModel(TestPaths.NewTempDir(), entries, writer.Config.ToJson());

        using var reader = CompressedTensorsReader.Open(dir);
        Assert.True(reader.Checkpoint.Files.Count > 1, "the test should read a sharded checkpoint");
        Assert.Equal(modules.Keys.Order(StringComparer.Ordinal), reader.QuantizedModules);
        Assert.Equal(["model.layers.2.input_layernorm.weight"], reader.Checkpoint.Names.Where(n => !reader.IsQuantizationTensor(n)));
        foreach (var (name, original) in modules)
        {
            AssertSame(original, reader.Read(name));
            Assert.True(Same(original.Dequantize(ScalarType.BFloat16), reader.Dequantized(name, ScalarType.BFloat16)));
        }
    }
}
