using System.Collections.Concurrent;
using TorchSharp;

namespace Kit.Runtime;

/// <summary>
/// Scalars that stay alive for the whole process. TorchSharp hands a Scalar's native handle to libtorch without
/// keeping the Scalar alive, so a temporary one (an implicit conversion from a number, or the alpha of 1 that
/// <c>Tensor + Tensor</c> makes inside TorchSharp) can be finalized by a garbage collection on another thread, its
/// native value freed, while libtorch still reads it, however short the call: runs failed with "INTERNAL ASSERT
/// FAILED at c10/core/Scalar.h" in masked_fill, pow and <c>int - Tensor</c>. Constants come from here; values
/// computed from data go through <see cref="ScalarArithmetic"/>, which disposes its Scalar after the call.
/// </summary>
internal static class HeldScalars
{
    static readonly ConcurrentDictionary<long, Scalar> Integers = new();
    static readonly ConcurrentDictionary<double, Scalar> Reals = new();

    /// <summary>The scalar 1, the alpha of a plain tensor sum.</summary>
    public static Scalar One { get; } = Of(1);

    /// <summary>
    /// The integer scalar of <paramref name="value"/>, made once; like TorchSharp's own conversion it keeps an
    /// integer tensor integer. For constants and grid bounds: every distinct value stays allocated.
    /// </summary>
    public static Scalar Of(long value) => Integers.GetOrAdd(value, v => v.ToScalar());

    /// <summary>The floating-point scalar of <paramref name="value"/>, made once. For constants only.</summary>
    public static Scalar Of(double value) => Reals.GetOrAdd(value, v => v.ToScalar());
}
