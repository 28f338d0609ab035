using System.Diagnostics;
using Kit.Inference.Kernels;
using Kit.Quantization;
using static TorchSharp.torch;

namespace Kit.Benchmarks;

/// <summary>
/// The ceilings of the roofline, measured on this machine: how fast memory streams and how fast the matrix
/// products Kit runs can go when they are not waiting on memory. All three are the CPU's: a sweep on CUDA is set
/// against them too, until GPU ceilings are measured.
/// </summary>
/// <param name="BandwidthGBps">A streaming read on all cores (<see cref="KernelBenchmark.MemoryBandwidthGBps"/>), 10^9 bytes/s.</param>
/// <param name="Float32GFlops">libtorch's float32 matmul on 1024 × 1024 × 1024, 10^9 multiply-adds × 2 per second.</param>
/// <param name="Int8GOps">
/// Kit's W8A8 kernel (int8 weights × int8 activations per token → int32) on a 2048 × 2048 weight and 64 rows,
/// 10^9 operations per second: what Kit's integer path reaches, not the processor's peak.
/// </param>
/// <param name="Threads">libtorch's intra-op threads.</param>
/// <param name="InstructionSet">What Kit's packed kernels ran on.</param>
public sealed record MachineCeilings(double BandwidthGBps, double Float32GFlops, double Int8GOps, int Threads, string InstructionSet)
{
    /// <summary>Measures the ceilings (a few seconds).</summary>
    public static MachineCeilings Measure() => new(KernelBenchmark.MemoryBandwidthGBps(), Float32GemmGFlops(), Int8GemmGOps(),
        get_num_threads(), QuantizedMatmul.InstructionSet);

    /// <summary>Float32 GEMM speed of libtorch: best of five n × n × n products after a warm-up.</summary>
    public static double Float32GemmGFlops(int n = 1024)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var a = randn(n, n);
        var b = randn(n, n);
        double seconds = Best(5, () => a.matmul(b).Dispose());
        return 2.0 * n * n * n / seconds / 1e9;
    }

    /// <summary>Kit's int8 × int8 GEMM speed: best of five products of a random W8A8 weight with <paramref name="batch"/> rows.</summary>
    public static double Int8GemmGOps(int rows = 2048, int columns = 2048, int batch = 64)
    {
        using var packed = KernelBenchmark.RandomPacked(rows, columns, QuantizationPresets.W8A8);
        var random = new Random(1);
        var x = new float[batch * columns];
        for (int i = 0; i < x.Length; i++) x[i] = random.NextSingle() * 2 - 1;
        var y = new float[batch * rows];
        double seconds = Best(5, () => QuantizedMatmul.Multiply(packed, x, batch, y, KernelActivations.Int8PerToken));
        return 2.0 * rows * columns * batch / seconds / 1e9;
    }

    // The best time rather than the median: the ceiling is what the machine can do when nothing else gets in the way.
    static double Best(int times, Action call)
    {
        call();
        double best = double.MaxValue;
        for (int i = 0; i < times; i++)
        {
            var watch = Stopwatch.StartNew();
            call();
            best = Math.Min(best, watch.Elapsed.TotalSeconds);
        }
        return best;
    }
}
