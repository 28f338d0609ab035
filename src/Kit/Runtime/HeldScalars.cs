using System.Collections.Concurrent;
using TorchSharp;

namespace Kit.Runtime;

/// <summary>
/// Scalars for libtorch calls that run long enough to meet a garbage collection. TorchSharp hands a Scalar's native
/// handle to libtorch without keeping the Scalar alive, so a temporary one (an implicit conversion from a number)
/// can be finalized, and its native value freed, while libtorch still reads it: a test run failed with "INTERNAL
/// ASSERT FAILED at c10/core/Scalar.h" in masked_fill and in pow. The scalars here live as long as the process.
/// </summary>
internal static class HeldScalars
{
    static readonly ConcurrentDictionary<double, Scalar> Held = new();

    /// <summary>
    /// The scalar of <paramref name="value"/>, made once. For constants and grid bounds, not for values computed
    /// from data: every distinct value stays allocated.
    /// </summary>
    public static Scalar Of(double value) => Held.GetOrAdd(value, v => v.ToScalar());
}
