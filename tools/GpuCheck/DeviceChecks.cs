using Kit.Calibration;
using Kit.Data;
using Kit.Evaluation;
using Kit.Formats.CompressedTensors;
using Kit.Inference;
using Kit.Models;
using Kit.Quantization;
using Kit.Runtime;
using static TorchSharp.torch;

namespace Kit.GpuCheck;

/// <summary>
/// The checks of the GPU run (issue 12): each runs Kit on <c>device</c> and compares with the same work on the
/// CPU. On a machine without CUDA, <c>device</c> "cpu" runs the same code end to end (CPU against CPU).
/// </summary>
public static class DeviceChecks
{
    const string Prompt = "Once upon a time, there was a little girl";

    /// <summary>The TinyStories text that travels with Kit (calibration and perplexity).</summary>
    public static string TinyStories => KitFiles.Find(Path.Combine("text", "tinystories", "tinystories_validation_head.txt"));

    /// <summary>Greedy generation in float32 on <paramref name="device"/> gives the CPU's tokens.</summary>
    public static CheckResult GreedyGeneration(string model, string device, int newTokens = 48)
    {
        int[] Tokens(string on)
        {
            using var lm = LanguageModel.Load(model, new ModelLoadOptions { Device = on, DType = "float32" });
            return lm.Generate(Prompt, Greedy(newTokens)).TokenIds.ToArray();
        }
        var cpu = Tokens("cpu");
        var other = Tokens(device);
        int same = cpu.Zip(other).TakeWhile(p => p.First == p.Second).Count();
        bool passed = cpu.Length == newTokens && cpu.SequenceEqual(other);
        return new CheckResult($"greedy-{model}", passed,
            $"{newTokens} greedy tokens in float32 on {device}: {(passed ? "equal to the CPU's" : $"first {same} equal to the CPU's, then differ")}",
            new Dictionary<string, object?> { ["tokens"] = newTokens, ["leading_equal"] = same, ["cpu"] = cpu, [device] = other });
    }

    /// <summary>
    /// GPTQ (or SparseGPT 2:4 with 4-bit codes) on stories260K, once on the CPU and once on <paramref name="device"/>:
    /// the codes agree on at least 99.9 % of the weights and the perplexities (both scored on the CPU) within 0.5 %.
    /// </summary>
    public static CheckResult CompressionMatchesCpu(CompressionMethod method, string device, string workDir)
    {
        var args = PerChannel(QuantizationPresets.W4A16);
        var recipe = method == CompressionMethod.SparseGpt
            ? new CompressionRecipe { Method = method, Scheme = "W4A16", Weights = args, Sparsity = SparsityPattern.NOfM(2, 4), ActOrder = ActOrder.None }
            : new CompressionRecipe { Method = method, Scheme = "W4A16", Weights = args };
        var calibration = new CalibrationRequest(TinyStories, new CalibrationOptions { NumSamples = 32, SequenceLength = 128, Seed = 0 });
        string Run(string on)
        {
            var folder = Path.Combine(workDir, $"{method}-{on.Replace(':', '-')}".ToLowerInvariant());
            ModelCompression.Compress(Stories260K.Name, folder, recipe, calibration,
                new SequentialOptions { Device = on, Format = SaveFormat.CompressedTensors, Overwrite = true });
            return folder;
        }
        string cpuFolder = Run("cpu"), deviceFolder = Run(device);

        long equal = 0, total = 0;
        using (var a = CompressedTensorsReader.Open(cpuFolder))
        using (var b = CompressedTensorsReader.Open(deviceFolder))
            foreach (var module in a.QuantizedModules)
            {
                using var scope = NewDisposeScope();
                using var wa = a.Read(module, CPU);
                using var wb = b.Read(module, CPU);
                equal += wa.Codes.eq(wb.Codes).sum().item<long>();
                total += wa.Codes.numel();
            }
        double agreement = total == 0 ? 0 : (double)equal / total;
        string heldOut = File.ReadAllText(TinyStories)[^40_000..];
        double Perplexity(string folder)
        {
            using var lm = LanguageModel.Load(folder, new ModelLoadOptions { Device = "cpu", ExactActivations = true });
            return lm.Perplexity(heldOut, seqLen: 256).Value;
        }
        double pCpu = Perplexity(cpuFolder), pDevice = Perplexity(deviceFolder);
        double relative = Math.Abs(pDevice - pCpu) / pCpu;
        bool passed = total > 0 && agreement >= 0.999 && relative <= 0.005;
        return new CheckResult($"{method.ToString().ToLowerInvariant()}-codes", passed,
            $"{method} W4A16 per channel on {device} vs CPU: codes equal on {agreement:P3} of {total} weights (need ≥ 99.9 %), " +
            $"perplexity {pDevice:F4} vs {pCpu:F4} ({relative:P3}, need ≤ 0.5 %)",
            new Dictionary<string, object?>
            {
                ["weights"] = total, ["codes_equal"] = equal, ["agreement"] = agreement,
                ["perplexity_cpu"] = pCpu, ["perplexity_device"] = pDevice, ["perplexity_relative_difference"] = relative,
            });
    }

    /// <summary>
    /// Packed int4 and int8 (compressed-tensors), FP8 and 2:4 models, made on the CPU from stories260K, load on
    /// <paramref name="device"/> with their weights there and generate; whether their greedy tokens equal the CPU's
    /// (float32 activations on both) is recorded, not required: the CPU's kernels and CUDA's products round differently.
    /// </summary>
    public static IReadOnlyList<CheckResult> PackedModelsGenerate(string device, string workDir)
    {
        var variants = new (string Name, CompressionRecipe Recipe)[]
        {
            ("int4", new() { Method = CompressionMethod.Rtn, Scheme = "W4A16", Weights = PerChannel(QuantizationPresets.W4A16) }),
            ("int8", new() { Method = CompressionMethod.Rtn, Scheme = "W8A16", Weights = PerChannel(QuantizationPresets.W8A16) }),
            ("fp8", new() { Method = CompressionMethod.Rtn, Scheme = "FP8_DYNAMIC", Weights = QuantizationPresets.Parse("FP8_DYNAMIC"),
                InputActivations = QuantizationPresets.InputActivations("FP8_DYNAMIC") }),
            ("2of4", new() { Method = CompressionMethod.Magnitude, Sparsity = SparsityPattern.NOfM(2, 4) }),
        };
        var results = new List<CheckResult>();
        foreach (var (name, recipe) in variants)
        {
            var folder = Path.Combine(workDir, "packed-" + name);
            ModelCompression.Compress(Stories260K.Name, folder, recipe, null, new SequentialOptions
            {
                Device = "cpu", Overwrite = true,
                Format = recipe.Weights is null ? SaveFormat.Dense : SaveFormat.CompressedTensors,
            });
            int[] Tokens(string on, out string weightsOn, out string moduleType)
            {
                using var lm = LanguageModel.Load(folder, new ModelLoadOptions { Device = on, ExactActivations = true });
                var linear = lm.Model.DecoderLinears().First().Module;
                moduleType = linear.GetType().Name;
                weightsOn = WeightDevice(linear);
                return lm.Generate(Prompt, Greedy(16)).TokenIds.ToArray();
            }
            var cpu = Tokens("cpu", out _, out _);
            var other = Tokens(device, out var weightsOn, out var moduleType);
            var expected = KitDevice.Parse(device).ToString();
            bool passed = other.Length == 16 && weightsOn == expected;
            results.Add(new CheckResult($"packed-{name}", passed,
                $"{name} ({moduleType}) on {device}: weights on {weightsOn}, {other.Length} tokens, " +
                $"{(cpu.SequenceEqual(other) ? "same tokens as the CPU" : "tokens differ from the CPU's")}",
                new Dictionary<string, object?> { ["module"] = moduleType, ["weights_on"] = weightsOn, ["same_tokens_as_cpu"] = cpu.SequenceEqual(other), ["tokens"] = other }));
        }
        return results;
    }

    /// <summary>A model loaded with dtype auto is bfloat16 on CUDA (float32 on the CPU), every floating parameter, and generates.</summary>
    public static CheckResult Bf16Loads(string device)
    {
        var on = KitDevice.Parse(device);
        var expected = on.type == TorchSharp.DeviceType.CUDA ? ScalarType.BFloat16 : ScalarType.Float32;
        using var lm = LanguageModel.Load(Stories260K.Name, new ModelLoadOptions { Device = device });
        var dtypes = lm.Model.parameters().Select(p => p.dtype).Where(d => d is ScalarType.Float32 or ScalarType.Float16 or ScalarType.BFloat16 or ScalarType.Float64).Distinct().ToArray();
        int generated = lm.Generate(Prompt, Greedy(8)).TokenIds.Count;
        bool passed = dtypes.SequenceEqual(new[] { expected }) && generated == 8;
        return new CheckResult("dtype-auto", passed,
            $"stories260K with dtype auto on {on}: parameters {string.Join(",", dtypes)} (expected {expected}), {generated} tokens generated",
            new Dictionary<string, object?> { ["dtypes"] = dtypes.Select(d => d.ToString()).ToArray(), ["expected"] = expected.ToString() });
    }

    // Packed weights are not parameters: their devices are the weights' own.
    static string WeightDevice(TorchSharp.torch.nn.Module linear) => linear switch
    {
        QuantizedLinear q => q.Weight.Device.ToString(),
        Kit.Inference.Sparse.Sparse24Linear s => s.Weight.Device.ToString(),
        _ => string.Join(",", linear.parameters().Concat(linear.buffers()).Select(t => t.device.ToString()).Distinct()),
    };

    // stories260K's MLP is 172 wide, which no group size of 32 or more divides; compressed-tensors needs one that does.
    static QuantizationArgs PerChannel(QuantizationArgs args) => args with { Strategy = QuantizationStrategy.Channel, GroupSize = null };

    static GenerationOptions Greedy(int tokens) => new() { MaxNewTokens = tokens, Temperature = 0, StopOnEos = false };
}
