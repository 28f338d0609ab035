using System.Diagnostics;
using System.Runtime.Intrinsics;
using System.Runtime.CompilerServices;
using Kit.Inference.Fp8;
using Kit.Quantization;
using Kit.Runtime;
using static TorchSharp.torch;

namespace Kit.Inference.Kernels;

/// <summary>The time of one kernel on one layer shape.</summary>
/// <param name="Name">What ran: "f32 torch", then the packed weight and its activations ("int4 W4A16 float32", "int4 W4A16 int8/block", ...).</param>
/// <param name="Seconds">Median seconds per call.</param>
/// <param name="WeightBytes">Bytes of weight the call reads.</param>
/// <param name="GBps">Weight bytes per second, in 10^9 bytes.</param>
/// <param name="GFlops">2 · rows · columns · batch per second, in 10^9.</param>
public sealed record KernelTiming(string Name, double Seconds, long WeightBytes, double GBps, double GFlops);

/// <summary>A micro-benchmark of one layer shape.</summary>
/// <param name="Rows">Output features.</param>
/// <param name="Columns">Input features.</param>
/// <param name="Batch">Rows of x.</param>
/// <param name="MemoryBandwidthGBps">A streaming read of 256 MB on all cores: the floor the kernels chase.</param>
/// <param name="InstructionSet">What the packed kernels ran on (<see cref="QuantizedMatmul.InstructionSet"/>).</param>
/// <param name="Timings">Float32 TorchSharp, then the packed kernels.</param>
public sealed record KernelBenchmarkResult(int Rows, int Columns, int Batch, double MemoryBandwidthGBps, string InstructionSet, IReadOnlyList<KernelTiming> Timings);

/// <summary>
/// Times y = x · Wᵀ for one layer shape: TorchSharp float32 against the packed int4 (W4A16, group 128) and
/// int8 (W8A16, group 128) kernels with float32 activations and with int8 activations per 32-column block,
/// the W8A8 kernel (per channel, int8 activations per token; the tiled int8 GEMM from 8 rows on), FP8_DYNAMIC
/// (E4M3 per channel, FP8 activations per token: the register-decode kernel up to 32 rows, decoded tiles and
/// libtorch's matmul above) and, for more than one row of x, the path that dequantizes the packed weights in
/// tiles and multiplies with libtorch in float32 (what <see cref="QuantizedLinear.ExactActivations"/> runs) and in bfloat16
/// (what <see cref="QuantizedLinear.BFloat16Prefill"/> runs); random weights. Also measures the machine's
/// memory bandwidth, the bound a batch-1 product cannot beat.
/// </summary>
public static class KernelBenchmark
{
    /// <summary>The timing whose speed the others are compared with: the float32-activation int4 kernel.</summary>
    public const string Baseline = "int4 W4A16 float32";

    /// <summary>
    /// Runs every kernel <paramref name="iterations"/> times (after two warm-up calls) on a [rows, columns]
    /// weight; <paramref name="bandwidthGBps"/> is measured when not given.
    /// </summary>
    public static KernelBenchmarkResult Run(int rows, int columns, int batch, int iterations, double? bandwidthGBps = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rows, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(columns, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(batch, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(iterations, 1);
        double bandwidth = bandwidthGBps ?? MemoryBandwidthGBps();
        long flops = 2L * rows * columns * batch;
        var timings = new List<KernelTiming>();
        var x = new float[batch * columns];
        var random = new Random(1);
        for (int i = 0; i < x.Length; i++) x[i] = random.NextSingle() * 2 - 1;
        var y = new float[batch * rows];

        using (var scope = NewDisposeScope())
        {
            var w = randn(rows, columns);
            var xt = tensor(x, new long[] { batch, columns });
            double seconds = Median(iterations, () => nn.functional.linear(xt, w).Dispose());
            timings.Add(Timing("f32 torch", seconds, 4L * rows * columns, flops));
        }
        foreach (var (name, args) in new[] { ("int4 W4A16", QuantizationPresets.W4A16), ("int8 W8A16", QuantizationPresets.W8A16) })
        {
            using var packed = RandomPacked(rows, columns, args);
            foreach (var (suffix, activations) in new[] { (" float32", KernelActivations.Float32), (" int8/block", KernelActivations.Int8PerBlock) })
            {
                double seconds = Median(iterations, () => QuantizedMatmul.Multiply(packed, x, batch, y, activations));
                timings.Add(Timing(name + suffix, seconds, packed.WeightBytes, flops));
            }
            if (batch == 1) continue;
            using var xt = tensor(x, new long[] { batch, columns });
            double tiled = Median(iterations, () =>
            {
                using var scope = NewDisposeScope();
                QuantizedLinear.Tiled(packed, xt);
            });
            timings.Add(Timing(name + " dequantize + torch", tiled, packed.WeightBytes, flops));
            double bfloat16 = Median(iterations, () =>
            {
                using var scope = NewDisposeScope();
                QuantizedLinear.TiledBFloat16(packed, xt);
            });
            timings.Add(Timing(name + " bfloat16 tiles + torch", bfloat16, packed.WeightBytes, flops));
        }
        using (var packed = RandomPacked(rows, columns, QuantizationPresets.W8A8))
        {
            double seconds = Median(iterations, () => QuantizedMatmul.Multiply(packed, x, batch, y, KernelActivations.Int8PerToken));
            timings.Add(Timing("int8 W8A8 int8/token", seconds, packed.WeightBytes, flops));
        }
        using (var scope = NewDisposeScope())
        {
            using var fp8 = Fp8Linear.From(Rtn.Quantize(randn(rows, columns).Times(0.05f), QuantizationPresets.Fp8Dynamic), quantizeActivations: true);
            var xt = tensor(x, new long[] { batch, columns });
            double seconds = Median(iterations, () => fp8.forward(xt).Dispose());
            timings.Add(Timing(batch <= Fp8Linear.KernelRows ? "fp8 FP8_DYNAMIC kernel" : "fp8 FP8_DYNAMIC tiles + torch", seconds, fp8.WeightBytes, flops));
            if (batch > Fp8Linear.KernelRows)
            {
                // What the prefill path spends decoding: every weight row once, into one float32 buffer.
                var decoded = new float[(long)rows * columns];
                var bits = fp8.Bits.data<byte>().ToArray();
                var scales = fp8.RowScales.data<float>().ToArray();
                double decode = Median(iterations, () => Fp8Matmul.DecodeRows(bits, scales, columns, 0, rows, decoded, KernelPaths.Best));
                timings.Add(Timing("fp8 decode only", decode, fp8.WeightBytes, flops));
                double round = Median(iterations, () => Fp8E4M3.Round(xt).Dispose());
                timings.Add(Timing("fp8 activation rounding only", round, fp8.WeightBytes, flops));
            }
        }
        return new KernelBenchmarkResult(rows, columns, batch, bandwidth, QuantizedMatmul.InstructionSet, timings);
    }

    /// <summary>
    /// GB/s (10^9 bytes) of a vectorised sum over a 256 MB array split across the cores: best of three passes,
    /// after one that faults the pages in.
    /// </summary>
    public static unsafe double MemoryBandwidthGBps()
    {
        const int length = 64 << 20;
        var data = GC.AllocateArray<float>(length, pinned: true);
        Array.Fill(data, 1f);
        int cores = Environment.ProcessorCount;
        double best = 0;
        fixed (float* p = data)
        {
            nint address = (nint)p;
            for (int pass = 0; pass < 4; pass++)
            {
                var watch = Stopwatch.StartNew();
                var sums = new float[cores];
                Parallel.For(0, cores, new ParallelOptions { MaxDegreeOfParallelism = cores }, c => sums[c] = Sum((float*)address + (long)length * c / cores, length / cores));
                double seconds = watch.Elapsed.TotalSeconds;
                if (sums.Sum() != length) throw new InvalidOperationException("the bandwidth probe misread its array");
                if (pass > 0) best = Math.Max(best, length * 4.0 / seconds / 1e9);
            }
        }
        return best;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static unsafe float Sum(float* p, int count)
    {
        Vector256<float> a = default, b = default, c = default, d = default;
        int i = 0;
        for (; i + 32 <= count; i += 32)
        {
            a += Vector256.Load(p + i);
            b += Vector256.Load(p + i + 8);
            c += Vector256.Load(p + i + 16);
            d += Vector256.Load(p + i + 24);
        }
        float sum = Vector256.Sum((a + b) + (c + d));
        for (; i < count; i++) sum += p[i];
        return sum;
    }

    /// <summary>A packed weight of random codes and scales on the grid of <paramref name="args"/>, for timing kernels.</summary>
    internal static PackedWeight RandomPacked(int rows, int columns, QuantizationArgs args)
    {
        using var scope = NewDisposeScope();
        int groups = args.ScalesPerRow(columns);
        var codes = randint(args.QMin, args.QMax + 1, new long[] { rows, columns }, ScalarType.Int8);
        var scale = rand(rows, groups).Times(0.01f).Plus(0.01f);
        var zero = zeros(rows, groups, ScalarType.Int8);
        var gIdx = QuantizedWeight.InOrderGroups(columns, args.ColumnsPerScale(columns)).to_type(ScalarType.Int32);
        return PackedWeight.From(new QuantizedWeight(codes, scale, zero, gIdx, args));
    }

    static double Median(int iterations, Action call)
    {
        call();
        call();
        var seconds = new double[iterations];
        for (int i = 0; i < iterations; i++)
        {
            var watch = Stopwatch.StartNew();
            call();
            seconds[i] = watch.Elapsed.TotalSeconds;
        }
        Array.Sort(seconds);
        return seconds[iterations / 2];
    }

    static KernelTiming Timing(string name, double seconds, long bytes, long flops) =>
        new(name, seconds, bytes, bytes / seconds / 1e9, flops / seconds / 1e9);
}
