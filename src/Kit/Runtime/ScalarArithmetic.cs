using TorchSharp;
using static TorchSharp.torch;

namespace Kit.Runtime;

/// <summary>
/// Tensor arithmetic with numbers, each number's Scalar disposed only after libtorch has used it (see
/// <see cref="HeldScalars"/> for why TorchSharp's own operators are not safe). Integer overloads keep integer
/// tensors integer, as <c>tensor * 2</c> does.
/// </summary>
internal static class ScalarArithmetic
{
    /// <summary><paramref name="tensor"/> + <paramref name="other"/>.</summary>
    public static Tensor Plus(this Tensor tensor, Tensor other) => tensor.add(other, HeldScalars.One);

    /// <summary>Adds <paramref name="other"/> to <paramref name="tensor"/> in place.</summary>
    public static Tensor PlusInPlace(this Tensor tensor, Tensor other) => tensor.add_(other, HeldScalars.One);

    /// <summary><paramref name="tensor"/> + <paramref name="value"/>.</summary>
    public static Tensor Plus(this Tensor tensor, long value) => With(value.ToScalar(), s => tensor.add(s, HeldScalars.One));

    /// <inheritdoc cref="Plus(Tensor, long)"/>
    public static Tensor Plus(this Tensor tensor, double value) => With(value.ToScalar(), s => tensor.add(s, HeldScalars.One));

    /// <summary><paramref name="tensor"/> − <paramref name="value"/>.</summary>
    public static Tensor Minus(this Tensor tensor, long value) => With(value.ToScalar(), tensor.sub);

    /// <summary><paramref name="value"/> − <paramref name="tensor"/>.</summary>
    public static Tensor SubtractedFrom(this Tensor tensor, long value) =>
        With(value.ToScalar(), s => tensor.neg().add_(s, HeldScalars.One));

    /// <summary><paramref name="tensor"/> × <paramref name="value"/>.</summary>
    public static Tensor Times(this Tensor tensor, long value) => With(value.ToScalar(), tensor.mul);

    /// <inheritdoc cref="Times(Tensor, long)"/>
    public static Tensor Times(this Tensor tensor, double value) => With(value.ToScalar(), tensor.mul);

    /// <summary>Multiplies <paramref name="tensor"/> by <paramref name="value"/> in place.</summary>
    public static Tensor TimesInPlace(this Tensor tensor, double value) => With(value.ToScalar(), tensor.mul_);

    /// <summary><paramref name="tensor"/> ÷ <paramref name="value"/> (true division, as <c>/</c>).</summary>
    public static Tensor DividedBy(this Tensor tensor, double value) => With(value.ToScalar(), s => tensor.div(s));

    /// <summary>Divides <paramref name="tensor"/> by <paramref name="value"/> in place.</summary>
    public static Tensor DivideInPlace(this Tensor tensor, double value) => With(value.ToScalar(), s => tensor.div_(s));

    /// <summary>⌊<paramref name="tensor"/> ÷ <paramref name="value"/>⌋, integer for an integer tensor.</summary>
    public static Tensor FloorDividedBy(this Tensor tensor, long value) =>
        With(value.ToScalar(), s => tensor.div(s, RoundingMode.floor));

    /// <summary>Where <paramref name="tensor"/> ≤ <paramref name="value"/>.</summary>
    public static Tensor IsAtMost(this Tensor tensor, double value) => With(value.ToScalar(), tensor.le);

    /// <summary>0, 1, …, <paramref name="count"/> − 1.</summary>
    public static Tensor Arange(long count, ScalarType dtype = ScalarType.Int64, Device? device = null) =>
        With(count.ToScalar(), stop => arange(HeldScalars.Of(0), stop, HeldScalars.One, dtype, device));

    /// <summary><paramref name="start"/>, …, <paramref name="stop"/> − 1.</summary>
    public static Tensor Arange(long start, long stop, ScalarType dtype = ScalarType.Int64, Device? device = null) =>
        With(start.ToScalar(), first => With(stop.ToScalar(), end => arange(first, end, HeldScalars.One, dtype, device)));

    /// <summary>Normal samples of the given mean and standard deviation.</summary>
    public static Tensor Normal(double mean, double std, long[] shape, ScalarType dtype, Device? device = null, Generator? generator = null) =>
        With(std.ToScalar(), spread => With(mean.ToScalar(), centre =>
            randn(shape, dtype, device, generator: generator).mul_(spread).add_(centre, HeldScalars.One)));

    // The scalar is disposed, and so kept alive, only after the libtorch call has returned.
    static Tensor With(Scalar scalar, Func<Scalar, Tensor> call)
    {
        using (scalar) return call(scalar);
    }
}
