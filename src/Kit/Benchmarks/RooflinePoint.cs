namespace Kit.Benchmarks;

/// <summary>
/// One phase of generation (the prefill, or one decode step) placed on the roofline: the work it does, the bytes
/// it must move, how long it took, and the ceilings it ran under. Attainable speed at arithmetic intensity I
/// (FLOP per byte) is min(compute ceiling, I × bandwidth).
/// </summary>
/// <param name="Flops">Floating-point (or integer) operations: 2 per multiply-add of the Linears.</param>
/// <param name="Bytes">Bytes that must cross the memory bus: the weights read once, plus the KV cache read or written.</param>
/// <param name="Seconds">Measured time of the phase.</param>
/// <param name="CeilingGFlops">The compute ceiling that applies (float32 GEMM, or Kit's int8 GEMM for int8 activations).</param>
/// <param name="BandwidthGBps">The memory ceiling.</param>
public sealed record RooflinePoint(double Flops, double Bytes, double Seconds, double CeilingGFlops, double BandwidthGBps)
{
    /// <summary>FLOP per byte moved.</summary>
    public double ArithmeticIntensity => Flops / Bytes;
    /// <summary>Operations per second reached, in 10^9.</summary>
    public double AchievedGFlops => Flops / Seconds / 1e9;
    /// <summary>Bytes per second moved, in 10^9.</summary>
    public double AchievedGBps => Bytes / Seconds / 1e9;
    /// <summary>The roofline at this intensity: min(compute ceiling, intensity × bandwidth).</summary>
    public double AttainableGFlops => Math.Min(CeilingGFlops, ArithmeticIntensity * BandwidthGBps);
    /// <summary>Achieved ÷ attainable: 1 is on the roofline.</summary>
    public double FractionOfRoofline => AchievedGFlops / AttainableGFlops;
    /// <summary>"memory" when bandwidth sets the roof at this intensity, "compute" when the compute ceiling does.</summary>
    public string Bound => ArithmeticIntensity * BandwidthGBps < CeilingGFlops ? "memory" : "compute";
}
