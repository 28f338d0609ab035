using Kit.Quantization.Transforms;
using static TorchSharp.torch;

namespace Kit.Tests.Quantization.Transforms;

public sealed class SmoothQuantScalesTests
{
    [Fact]
    public void Scales_are_the_activation_range_to_the_alpha_over_twice_the_weight_maximum_to_one_minus_alpha()
    {
        using var w1 = tensor(new float[,] { { 1, -4, 0 }, { 2, 1, 0 } });
        using var w2 = tensor(new float[,] { { -3, 0.5f, 0 } });
        using var min = tensor(new float[] { -2, 0, -1 });
        using var max = tensor(new float[] { 6, 9, 3 });
        using var s = SmoothQuantScales.Compute([w1, w2], min, max, new SmoothQuantOptions { Strength = 0.75 });
        // Channel 0: range 8, weight term 2·3; channel 1: range 9, 2·4; channel 2: zero weights keep the range, 4.
        double[] expected = [Math.Pow(8, 0.75) / Math.Pow(6, 0.25), Math.Pow(9, 0.75) / Math.Pow(8, 0.25), 4];
        for (int j = 0; j < 3; j++) Assert.Equal(expected[j], s[j].item<float>(), 5);
    }

    [Fact]
    public void A_strength_outside_zero_to_one_is_refused()
    {
        using var w = ones(2, 2);
        using var lo = zeros(2);
        using var hi = ones(2);
        var e = Assert.Throws<ArgumentException>(() => SmoothQuantScales.Compute([w], lo, hi, new SmoothQuantOptions { Strength = 1.5 }));
        Assert.Contains("smoothing strength", e.Message);
    }
}
