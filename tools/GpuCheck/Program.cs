using System.Diagnostics;
using System.Text.Json;
using Kit.GpuCheck;
using Kit.Quantization;

// The GPU run's checks (issue 12), as one console program: the GPU machine has no .NET SDK for xunit.
//   GpuCheck --out DIR [--device auto|cpu|cuda] [--require-cuda] [--gptq-shape ROWS,COLUMNS,SAMPLES,SEQLEN]
//            [--gptq-reference DIR] [--python python3]
// Prints one line per check and writes DIR/summary.json; exits 1 when a check failed (or CUDA was required
// and is not available), 2 on bad arguments.
var options = new Dictionary<string, string>();
var flags = new HashSet<string>();
for (int i = 0; i < args.Length; i++)
{
    if (args[i] == "--require-cuda") flags.Add(args[i]);
    else if (args[i].StartsWith("--") && i + 1 < args.Length) options[args[i]] = args[++i];
    else return Usage($"unexpected argument '{args[i]}'");
}
if (!options.TryGetValue("--out", out var outDir)) return Usage("--out DIR is required");
string[] known = ["--out", "--device", "--gptq-shape", "--gptq-reference", "--python"];
if (options.Keys.FirstOrDefault(k => !known.Contains(k)) is { } unknown) return Usage($"unknown option {unknown}");
GptqShape? shape = null;
if (options.TryGetValue("--gptq-shape", out var s))
{
    var n = s.Split(',').Select(x => int.TryParse(x, out int v) && v > 0 ? v : -1).ToArray();
    if (n.Length != 4 || n.Any(v => v < 0)) return Usage($"--gptq-shape takes ROWS,COLUMNS,SAMPLES,SEQLEN, got '{s}'");
    shape = new GptqShape(n[0], n[1], n[2], n[3]);
}
Directory.CreateDirectory(outDir);
var work = Path.Combine(outDir, "models");
Directory.CreateDirectory(work);

var clock = Stopwatch.StartNew();
var native = NativeTorch.Probe();
Console.WriteLine($"libLibTorchSharp: {native.LibTorchSharp ?? "not mapped"}");
Console.WriteLine($"libtorch_cpu: {native.LibTorchCpu ?? "not mapped"}");
Console.WriteLine($"libtorch_cuda: {native.LibTorchCuda ?? "not mapped"}");
Console.WriteLine(native.CudaAvailable
    ? $"CUDA available: {native.DeviceCount} device(s), {native.DeviceName ?? "name unknown (no nvidia-smi)"}"
    : "CUDA not available: the checks run on the CPU against the CPU");
string device = options.GetValueOrDefault("--device", "auto") is "auto" ? (native.CudaAvailable ? "cuda" : "cpu") : options["--device"];

var results = new List<CheckResult>();
void Run(string name, Func<IEnumerable<CheckResult>> check)
{
    var t = Stopwatch.StartNew();
    try
    {
        foreach (var r in check()) { results.Add(r); Console.WriteLine($"{r}  [{t.Elapsed.TotalSeconds:F1} s]"); }
    }
    catch (Exception e)
    {
        var r = new CheckResult(name, false, $"threw {e.GetType().Name}: {e.Message}", new Dictionary<string, object?> { ["exception"] = e.ToString() });
        results.Add(r);
        Console.WriteLine($"{r}  [{t.Elapsed.TotalSeconds:F1} s]");
    }
}
if (flags.Contains("--require-cuda"))
    results.Add(new CheckResult("cuda-available", native.CudaAvailable,
        native.CudaAvailable ? $"{native.DeviceName}" : "CUDA was required but libtorch sees no CUDA device", new Dictionary<string, object?>()));
Run("greedy-stories260K", () => [DeviceChecks.GreedyGeneration("stories260K", device)]);
Run("greedy-default", () => [DeviceChecks.GreedyGeneration("default", device)]);
Run("gptq-codes", () => [DeviceChecks.CompressionMatchesCpu(CompressionMethod.Gptq, device, work)]);
Run("sparsegpt-codes", () => [DeviceChecks.CompressionMatchesCpu(CompressionMethod.SparseGpt, device, work)]);
Run("packed", () => DeviceChecks.PackedModelsGenerate(device, work));
Run("dtype-auto", () => [DeviceChecks.Bf16Loads(device)]);
if (shape is not null)
{
    if (!options.TryGetValue("--gptq-reference", out var reference)) return Usage("--gptq-shape needs --gptq-reference DIR (the reference's gptq.py)");
    Run("gptq-timing", () => [GptqTiming.Compare(device, shape, options.GetValueOrDefault("--python", "python3"), reference)]);
}

int failed = results.Count(r => !r.Passed);
Console.WriteLine($"{results.Count - failed} passed, {failed} failed on {device} in {clock.Elapsed.TotalSeconds:F0} s");
var summary = new Dictionary<string, object?>
{
    ["device"] = device, ["native"] = native, ["seconds"] = clock.Elapsed.TotalSeconds,
    ["passed"] = results.Count - failed, ["failed"] = failed, ["checks"] = results,
};
File.WriteAllText(Path.Combine(outDir, "summary.json"), JsonSerializer.Serialize(summary, new JsonSerializerOptions { WriteIndented = true }));
return failed == 0 ? 0 : 1;

static int Usage(string problem)
{
    Console.Error.WriteLine($"GpuCheck: {problem}");
    Console.Error.WriteLine("usage: GpuCheck --out DIR [--device auto|cpu|cuda] [--require-cuda] [--gptq-shape R,C,S,L --gptq-reference DIR] [--python python3]");
    return 2;
}
