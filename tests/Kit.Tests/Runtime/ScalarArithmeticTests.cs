using Kit.Runtime;
using static TorchSharp.torch;

namespace Kit.Tests.Runtime;

/// <summary>The Scalar-safe arithmetic gives what TorchSharp's operators give, dtype included.</summary>
public sealed class ScalarArithmeticTests
{
    [Fact]
    public void Integer_operands_keep_integer_tensors_integer_as_the_operators_do()
    {
        using var scope = NewDisposeScope();
        var codes = tensor(new long[] { -3, 0, 5 });
        AssertSame(codes * 4, codes.Times(4));
        AssertSame(codes + 7, codes.Plus(7));
        AssertSame(codes - 7, codes.Minus(7));
        AssertSame(3 - codes, codes.SubtractedFrom(3));
        AssertSame(codes.div(2, RoundingMode.floor), codes.FloorDividedBy(2));
        Assert.Equal(new long[] { -2, 0, 2 }, codes.FloorDividedBy(2).data<long>().ToArray());
    }

    [Fact]
    public void Real_operands_match_the_operators_on_float_tensors()
    {
        using var scope = NewDisposeScope();
        var x = tensor(new float[] { -1.5f, 0.1f, 3.25f });
        AssertSame(x * 0.3, x.Times(0.3));
        AssertSame(x + 0.3, x.Plus(0.3));
        AssertSame(x / 0.3, x.DividedBy(0.3));
        AssertSame(x + x, x.Plus(x));
        AssertSame(x.le(0.1), x.IsAtMost(0.1));
        AssertSame(x * 0.3, x.clone().TimesInPlace(0.3));
        AssertSame(x / 0.3, x.clone().DivideInPlace(0.3));
        AssertSame(x + x, x.clone().PlusInPlace(x));
        AssertSame(tensor(new long[] { 0, 1, 2, 3 }), ScalarArithmetic.Arange(4));
        AssertSame(tensor(new long[] { 2, 3 }), ScalarArithmetic.Arange(2, 4));
    }

    [Fact]
    public void Normal_draws_the_given_mean_and_spread()
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator(7);
        var samples = ScalarArithmetic.Normal(2.0, 0.5, [200_000], ScalarType.Float64, generator: generator);
        Assert.Equal(ScalarType.Float64, samples.dtype);
        Assert.Equal(2.0, samples.mean().item<double>(), 2);
        Assert.Equal(0.5, samples.std().item<double>(), 2);
    }

    static void AssertSame(Tensor expected, Tensor actual)
    {
        Assert.Equal(expected.dtype, actual.dtype);
        Assert.Equal(expected.shape, actual.shape);
        Assert.True(expected.eq(actual).all().item<bool>(), $"expected {expected.ToString(TorchSharp.TensorStringStyle.Julia)}, got {actual.ToString(TorchSharp.TensorStringStyle.Julia)}");
    }
}
