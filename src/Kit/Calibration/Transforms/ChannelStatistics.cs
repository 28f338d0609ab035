using Kit.Runtime;
using static TorchSharp.torch;

namespace Kit.Calibration.Transforms;

/// <summary>Per-channel statistics of a Linear's inputs over the calibration tokens: mean |x|, min and max.</summary>
public sealed class ChannelStatistics : IDisposable
{
    readonly Tensor sumAbs, min, max;
    long tokens;

    /// <summary>Statistics of <paramref name="channels"/> input channels, kept in float64 on <paramref name="device"/>.</summary>
    public ChannelStatistics(long channels, Device device)
    {
        sumAbs = zeros(channels, ScalarType.Float64, device).DetachFromDisposeScope();
        min = full(channels, HeldScalars.Of(double.PositiveInfinity), ScalarType.Float64, device).DetachFromDisposeScope();
        max = full(channels, HeldScalars.Of(double.NegativeInfinity), ScalarType.Float64, device).DetachFromDisposeScope();
    }

    /// <summary>Adds inputs [..., channels].</summary>
    public void Add(Tensor input)
    {
        using var scope = NewDisposeScope();
        var x = input.reshape(-1, input.shape[^1]).to(sumAbs.device).to_type(ScalarType.Float64);
        sumAbs.PlusInPlace(x.abs().sum(new long[] { 0 }));
        min.copy_(minimum(min, x.amin(new long[] { 0 })));
        max.copy_(maximum(max, x.amax(new long[] { 0 })));
        tokens += x.shape[0];
    }

    /// <summary>Mean |x| per channel (AWQ's x̄).</summary>
    public Tensor MeanAbs => tokens == 0 ? throw new InvalidOperationException("no inputs were seen") : sumAbs.DividedBy(tokens);

    /// <summary>Smallest input per channel.</summary>
    public Tensor Min => min;

    /// <summary>Largest input per channel.</summary>
    public Tensor Max => max;

    /// <summary>Frees the tensors.</summary>
    public void Dispose()
    {
        sumAbs.Dispose();
        min.Dispose();
        max.Dispose();
    }
}
