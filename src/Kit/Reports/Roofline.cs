using Kit.Benchmarks;

namespace Kit.Reports;

/// <summary>
/// One roof of a roofline chart: what a machine can stream and compute at most, in the units the chart draws.
/// The measured ceilings themselves are <see cref="MachineCeilings"/>; this is their view, or a published machine's.
/// </summary>
/// <param name="Label">Where the figures come from ("float32, measured, this machine", "H100 SXM, published").</param>
/// <param name="BandwidthBytesPerSecond">Memory bandwidth, bytes per second.</param>
/// <param name="PeakFlopsPerSecond">Compute ceiling, operations per second.</param>
public sealed record Roofline(string Label, double BandwidthBytesPerSecond, double PeakFlopsPerSecond)
{
    /// <summary>The label's ending for roofs measured by <see cref="MachineCeilings.Measure"/>.</summary>
    public const string MeasuredHere = "measured, this machine";

    /// <summary>Operations per byte where the bandwidth roof meets the compute roof.</summary>
    public double RidgeIntensity => PeakFlopsPerSecond / BandwidthBytesPerSecond;

    /// <summary>The attainable operations per second at <paramref name="intensity"/> operations per byte: min(compute, bandwidth × intensity).</summary>
    public double Attainable(double intensity) => Math.Min(PeakFlopsPerSecond, BandwidthBytesPerSecond * intensity);

    /// <summary>
    /// The two roofs of measured <paramref name="machine"/>: float32 GEMM's and Kit's int8 GEMM's compute ceilings,
    /// each under the measured bandwidth (int8-activation models run under the second, everything else under the first).
    /// </summary>
    public static IReadOnlyList<Roofline> Measured(MachineCeilings machine) =>
    [
        new($"float32, {MeasuredHere}", machine.BandwidthGBps * 1e9, machine.Float32GFlops * 1e9),
        new($"int8, {MeasuredHere}", machine.BandwidthGBps * 1e9, machine.Int8GOps * 1e9),
    ];

    /// <summary>The label's ending for roofs taken from a datasheet.</summary>
    public const string PublishedComputed = "published, computed";

    /// <summary>The bf16 and int8 tensor-core roofs of <paramref name="gpu"/> under its published bandwidth, labelled as published.</summary>
    public static IReadOnlyList<Roofline> Published(Planning.PublishedGpu gpu) =>
    [
        new($"{gpu.Name} bf16, {PublishedComputed}", gpu.BandwidthBytesPerSecond, gpu.Bf16FlopsPerSecond),
        new($"{gpu.Name} int8, {PublishedComputed}", gpu.BandwidthBytesPerSecond, gpu.Int8OpsPerSecond),
    ];
}
