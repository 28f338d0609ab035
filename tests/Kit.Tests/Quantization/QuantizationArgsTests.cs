using Kit.Quantization;
using static TorchSharp.torch;

namespace Kit.Tests.Quantization;

public sealed class QuantizationArgsTests
{
    [Theory]
    [InlineData(2, -2, 1)] [InlineData(3, -4, 3)] [InlineData(4, -8, 7)] [InlineData(8, -128, 127)]
    public void Integer_code_range_is_signed_b_bits(int bits, int qmin, int qmax)
    {
        var args = new QuantizationArgs { NumBits = bits };
        Assert.Equal(qmin, args.QMin);
        Assert.Equal(qmax, args.QMax);
    }

    [Fact]
    public void Fp8_code_range_is_plus_minus_448()
    {
        Assert.Equal(-448, QuantizationPresets.Fp8.QMin);
        Assert.Equal(448, QuantizationPresets.Fp8.QMax);
    }

    public static TheoryData<QuantizationArgs, string> BadArgs() => new()
    {
        { new QuantizationArgs { NumBits = 1 }, "NumBits" },
        { new QuantizationArgs { NumBits = 9 }, "NumBits" },
        { new QuantizationArgs { GroupSize = 0 }, "GroupSize" },
        { new QuantizationArgs { GroupSize = null }, "GroupSize" },
        { QuantizationPresets.Fp8 with { NumBits = 4 }, "NumBits" },
        { QuantizationPresets.Fp8 with { Symmetric = false }, "Symmetric" },
        { new QuantizationArgs { Observer = QuantizationObserver.Mse, MseNorm = 0 }, "MseNorm" },
        { new QuantizationArgs { Observer = QuantizationObserver.Mse, MseGrid = 0 }, "MseGrid" },
        { new QuantizationArgs { Observer = QuantizationObserver.Mse, MseMaxShrink = 1.5 }, "MseMaxShrink" },
        { new QuantizationArgs { Observer = QuantizationObserver.Mse, MseMaxShrink = 0.001 }, "MseMaxShrink" },
    };

    [Theory]
    [MemberData(nameof(BadArgs))]
    public void Bad_args_throw_naming_the_field(QuantizationArgs args, string field)
    {
        var e = Assert.Throws<ArgumentException>(() => args.Validated());
        Assert.Equal(field, e.ParamName);
        Assert.Contains("QuantizationArgs." + field, e.Message);
        using var scope = NewDisposeScope();
        Assert.Equal(field, Assert.Throws<ArgumentException>(() => Rtn.Quantize(zeros(2, 128), args)).ParamName);
    }

    [Fact]
    public void Columns_not_divisible_by_the_group_size_get_a_shorter_last_group()
    {
        using var scope = NewDisposeScope();
        var w = arange(200, ScalarType.Float32).reshape(2, 100) - 100;
        using var q = Rtn.Quantize(w, new QuantizationArgs { GroupSize = 64 });
        Assert.Equal(new long[] { 2, 2 }, q.Scale.shape);
        // The last group (columns 64..99) is fitted on its own 36 columns: row 1 holds 64..99, absmax 99.
        Assert.Equal(99 / 7.5, q.Scale[1, 1].item<float>(), 4);
        Assert.Equal(2, new QuantizationArgs { GroupSize = 64 }.ScalesPerRow(100));
        Assert.Equal(2, new QuantizationArgs { GroupSize = 50 }.ScalesPerRow(100));
        Assert.Equal(1, new QuantizationArgs { Strategy = QuantizationStrategy.Channel, GroupSize = 64 }.ScalesPerRow(100));
    }

    [Fact]
    public void Mse_defaults_are_the_gptq_reference_settings()
    {
        var args = new QuantizationArgs();
        Assert.Equal(2.4, args.MseNorm);
        Assert.Equal(100, args.MseGrid);
        Assert.Equal(0.8, args.MseMaxShrink);
        Assert.Equal(80, args.MseCandidates);
        Assert.Equal(20, (args with { MseMaxShrink = 0.2 }).MseCandidates);
    }

    [Fact]
    public void Presets_mirror_compressed_tensors_weight_schemes()
    {
        var w4 = QuantizationPresets.Parse("W4A16");
        Assert.Equal((4, QuantizationType.Int, true, QuantizationStrategy.Group, (int?)128), (w4.NumBits, w4.Type, w4.Symmetric, w4.Strategy, w4.GroupSize));
        var asym = QuantizationPresets.Parse("w4a16_asym");
        Assert.Equal((4, false, QuantizationStrategy.Group, (int?)128), (asym.NumBits, asym.Symmetric, asym.Strategy, asym.GroupSize));
        var w8 = QuantizationPresets.Parse("W8A16");
        Assert.Equal((8, true, QuantizationStrategy.Group, (int?)128), (w8.NumBits, w8.Symmetric, w8.Strategy, w8.GroupSize));
        foreach (var name in new[] { "W8A8", "INT8" })
        {
            var a = QuantizationPresets.Parse(name);
            Assert.Equal((8, QuantizationType.Int, true, QuantizationStrategy.Channel), (a.NumBits, a.Type, a.Symmetric, a.Strategy));
        }
        var dynamic = QuantizationPresets.Parse("FP8_DYNAMIC");
        Assert.Equal((8, QuantizationType.Float, true, QuantizationStrategy.Channel), (dynamic.NumBits, dynamic.Type, dynamic.Symmetric, dynamic.Strategy));
        Assert.All(QuantizationPresets.Names, n => QuantizationPresets.Parse(n).Validated());
    }

    [Theory]
    [InlineData("fp8", "FP8", "static per-tensor scale")]
    [InlineData("W4A8", "W4A8", "int8 per-token activations")]
    [InlineData("w4afp8", "W4AFP8", "FP8 activations")]
    public void Schemes_kit_would_produce_under_a_false_name_are_refused_naming_them(string name, string scheme, string why)
    {
        var e = Assert.Throws<ArgumentException>(() => QuantizationPresets.Parse(name));
        Assert.Contains($"quantization scheme {scheme} is not supported", e.Message);
        Assert.Contains(why, e.Message);
        Assert.Throws<ArgumentException>(() => QuantizationPresets.InputActivations(name));
        Assert.DoesNotContain(scheme, QuantizationPresets.Names);
    }

    [Fact]
    public void Unknown_preset_lists_the_known_ones()
    {
        var e = Assert.Throws<ArgumentException>(() => QuantizationPresets.Parse("W3A16"));
        Assert.Contains("W3A16", e.Message);
        Assert.Contains("W4A16, W4A16_ASYM, W8A16, W8A8", e.Message);
        Assert.Contains("FP8_DYNAMIC", e.Message);
    }
}
