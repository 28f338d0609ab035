using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Kit.Benchmarks;
using Kit.Quantization;

namespace Kit.GpuCheck;

/// <summary>What the GPTQ timing compares: one layer's shape and its calibration tokens.</summary>
/// <param name="Rows">Output features.</param>
/// <param name="Columns">Input features.</param>
/// <param name="Samples">Calibration sequences.</param>
/// <param name="SeqLen">Tokens per sequence.</param>
public sealed record GptqShape(int Rows, int Columns, int Samples, int SeqLen);

/// <summary>
/// Kit's GPTQ against the reference code (IST-DASLab/gptq) on the same device, the same shapes and the same input
/// distribution, Hessian accumulation and solve timed separately; the issue's target is Kit ≥ 2× faster in total.
/// </summary>
public static class GptqTiming
{
    /// <summary>
    /// Runs Kit's <see cref="GptqBenchmark"/>, then the reference through <c>python3 gptq_reference.py</c>
    /// (<paramref name="python"/>, with the reference's source in <paramref name="referenceDir"/>).
    /// </summary>
    public static CheckResult Compare(string device, GptqShape shape, string python, string referenceDir)
    {
        var kit = GptqBenchmark.Run(new GptqBenchmarkOptions
        {
            Rows = shape.Rows, Columns = shape.Columns, Samples = shape.Samples, SeqLen = shape.SeqLen, Device = device,
            Args = QuantizationPresets.W4A16, Gptq = new GptqOptions { ActOrder = ActOrder.None },
        });
        double kitTotal = kit.HessianSeconds + kit.GptqSeconds;
        var figures = new Dictionary<string, object?>
        {
            ["rows"] = shape.Rows, ["columns"] = shape.Columns, ["tokens"] = kit.Tokens, ["device"] = kit.Device,
            ["kit_hessian_seconds"] = kit.HessianSeconds, ["kit_gptq_seconds"] = kit.GptqSeconds, ["kit_relative_error"] = kit.GptqRelativeError,
        };
        string script = Path.Combine(AppContext.BaseDirectory, "gptq_reference.py");
        var inv = CultureInfo.InvariantCulture;
        var (exit, output) = RunProcess(python, string.Join(' ', Quote(script), Quote(referenceDir), "--device", device.StartsWith("cuda") ? "cuda" : "cpu",
            "--rows", shape.Rows.ToString(inv), "--columns", shape.Columns.ToString(inv), "--samples", shape.Samples.ToString(inv),
            "--seq-len", shape.SeqLen.ToString(inv)));
        string kitLine = $"Kit on {kit.Device}, [{shape.Rows} × {shape.Columns}], {kit.Tokens} tokens: H {kit.HessianSeconds:F3} s + solve {kit.GptqSeconds:F3} s";
        var last = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault() ?? "";
        if (exit != 0 || !last.StartsWith('{'))
            return new CheckResult("gptq-timing", false, $"{kitLine}; the reference failed (exit {exit}): {Tail(output)}", figures);
        using var json = JsonDocument.Parse(last);
        double refH = json.RootElement.GetProperty("hessian_seconds").GetDouble(), refSolve = json.RootElement.GetProperty("gptq_seconds").GetDouble();
        double speedup = (refH + refSolve) / kitTotal;
        figures["reference_hessian_seconds"] = refH;
        figures["reference_gptq_seconds"] = refSolve;
        figures["reference_torch"] = json.RootElement.GetProperty("torch").GetString();
        figures["speedup_total"] = speedup;
        figures["meets_2x_target"] = speedup >= 2;
        return new CheckResult("gptq-timing", true,
            $"{kitLine}; reference H {refH:F3} s + solve {refSolve:F3} s; Kit {speedup:F2}× the reference's speed in total " +
            $"(target ≥ 2×: {(speedup >= 2 ? "met" : "not met")})", figures);
    }

    static (int Exit, string Output) RunProcess(string file, string arguments)
    {
        try
        {
            using var p = Process.Start(new ProcessStartInfo(file, arguments)
            { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false })!;
            var stderr = p.StandardError.ReadToEndAsync();
            string stdout = p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            return (p.ExitCode, stdout + stderr.Result);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return (-1, $"cannot start {file}: {e.Message}");
        }
    }

    static string Quote(string s) => "\"" + s.Replace("\"", "\\\"") + "\"";
    static string Tail(string s) => s.Length <= 600 ? s.Trim() : "…" + s[^600..].Trim();
}
