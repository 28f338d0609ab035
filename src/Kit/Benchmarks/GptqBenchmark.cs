using System.Diagnostics;
using Kit.Calibration;
using Kit.Quantization;
using Kit.Runtime;
using static TorchSharp.torch;

namespace Kit.Benchmarks;

/// <summary>What to time: one Linear layer and its calibration inputs.</summary>
public sealed record GptqBenchmarkOptions
{
    /// <summary>Output features.</summary>
    public int Rows { get; init; } = 4096;
    /// <summary>Input features.</summary>
    public int Columns { get; init; } = 4096;
    /// <summary>Calibration sequences.</summary>
    public int Samples { get; init; } = 128;
    /// <summary>Tokens per sequence.</summary>
    public int SeqLen { get; init; } = 2048;
    /// <summary>The grid.</summary>
    public QuantizationArgs Args { get; init; } = QuantizationPresets.W4A16;
    /// <summary>GPTQ settings.</summary>
    public GptqOptions Gptq { get; init; } = new() { ActOrder = ActOrder.None };
    /// <summary>"cpu", "cuda" or "auto".</summary>
    public string Device { get; init; } = "auto";
    /// <summary>Seed of the random weight and inputs.</summary>
    public long Seed { get; init; }
}

/// <summary>Timings of one GPTQ benchmark run.</summary>
/// <param name="Device">Where it ran.</param>
/// <param name="Threads">libtorch's intra-op threads.</param>
/// <param name="Tokens">Calibration tokens (samples × sequence length).</param>
/// <param name="HessianSeconds">Accumulating H = 2/n Σ x xᵀ over all tokens.</param>
/// <param name="GptqSeconds">GPTQ on the layer given H (damping, Cholesky, column loop).</param>
/// <param name="RtnSeconds">RTN on the same grid, for scale.</param>
/// <param name="GptqRelativeError">‖ΔW X‖² / ‖W X‖² after GPTQ.</param>
/// <param name="RtnRelativeError">The same after RTN.</param>
/// <param name="PeakWorkingSetBytes">Peak resident memory of the process.</param>
public sealed record GptqBenchmarkResult(string Device, int Threads, long Tokens, double HessianSeconds, double GptqSeconds,
    double RtnSeconds, double GptqRelativeError, double RtnRelativeError, long PeakWorkingSetBytes);

/// <summary>
/// Times GPTQ on one layer with random weights and correlated random inputs (a shared low-rank part plus
/// noise, as real activations are correlated), generated sequence by sequence so that memory stays at one
/// sequence of inputs plus H.
/// </summary>
public static class GptqBenchmark
{
    /// <summary>Runs the benchmark.</summary>
    public static GptqBenchmarkResult Run(GptqBenchmarkOptions o, Action<string>? log = null)
    {
        var device = KitDevice.Parse(o.Device);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var generator = new Generator((ulong)o.Seed, device);
        var W = ScalarArithmetic.Normal(0, 0.02, [o.Rows, o.Columns], ScalarType.Float32, device, generator);
        int rank = Math.Max(1, o.Columns / 64);
        var mixing = ScalarArithmetic.Normal(0, 1, [rank, o.Columns], ScalarType.Float32, device, generator);

        var clock = Stopwatch.StartNew();
        using var hessian = new HessianAccumulator(o.Columns, device);
        for (int s = 0; s < o.Samples; s++)
        {
            using var sample = NewDisposeScope();
            var x = ScalarArithmetic.Normal(0, 1, [o.SeqLen, rank], ScalarType.Float32, device, generator).matmul(mixing)
                .Plus(ScalarArithmetic.Normal(0, 0.5, [o.SeqLen, o.Columns], ScalarType.Float32, device, generator));
            hessian.Add(x);
            if (device.type == TorchSharp.DeviceType.CUDA) cuda.synchronize();
        }
        double hessianSeconds = clock.Elapsed.TotalSeconds;
        log?.Invoke($"H over {o.Samples} × {o.SeqLen} tokens: {hessianSeconds:F1} s");

        clock.Restart();
        using var gptq = Gptq.Quantize(W, hessian.H, o.Args, o.Gptq);
        double gptqSeconds = clock.Elapsed.TotalSeconds;
        log?.Invoke($"GPTQ on [{o.Rows}, {o.Columns}]: {gptqSeconds:F2} s");

        clock.Restart();
        using var rtn = Rtn.Quantize(W, o.Args);
        using var rtnWeight = rtn.Dequantize();
        double rtnSeconds = clock.Elapsed.TotalSeconds;

        return new GptqBenchmarkResult(device.ToString(), get_num_threads(), (long)o.Samples * o.SeqLen, hessianSeconds, gptqSeconds,
            rtnSeconds, RelativeError(W, gptq.Weight, hessian.H), RelativeError(W, rtnWeight, hessian.H),
            Process.GetCurrentProcess().PeakWorkingSet64);
    }

    static double RelativeError(Tensor w, Tensor q, Tensor h)
    {
        using var scope = NewDisposeScope();
        var delta = (w - q).to_type(ScalarType.Float64);
        var H = h.to_type(ScalarType.Float64);
        var w64 = w.to_type(ScalarType.Float64);
        return (delta.matmul(H) * delta).sum().item<double>() / (w64.matmul(H) * w64).sum().item<double>();
    }
}
