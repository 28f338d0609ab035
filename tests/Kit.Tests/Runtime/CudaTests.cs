using Kit.GpuCheck;
using Kit.Quantization;

namespace Kit.Tests.Runtime;

/// <summary>
/// Kit on CUDA equals Kit on the CPU (issue 12). The checks live in tools/GpuCheck, which the GPU run executes as a
/// console program (that machine has no .NET SDK); here they run under xunit wherever CUDA is available.
/// </summary>
[Trait("Device", "cuda")]
public sealed class CudaTests
{
    static void AssertPassed(CheckResult r) => Assert.True(r.Passed, r.ToString());

    [CudaFact]
    public void Greedy_generation_on_stories260K_equals_the_cpu() => AssertPassed(DeviceChecks.GreedyGeneration("stories260K", "cuda"));

    [CudaFact]
    public void Greedy_generation_on_the_default_model_equals_the_cpu() => AssertPassed(DeviceChecks.GreedyGeneration("default", "cuda"));

    [CudaFact]
    public void Gptq_codes_and_perplexity_match_the_cpu() =>
        AssertPassed(DeviceChecks.CompressionMatchesCpu(CompressionMethod.Gptq, "cuda", TestPaths.NewTempDir()));

    [CudaFact]
    public void Sparsegpt_codes_and_perplexity_match_the_cpu() =>
        AssertPassed(DeviceChecks.CompressionMatchesCpu(CompressionMethod.SparseGpt, "cuda", TestPaths.NewTempDir()));

    [CudaFact]
    public void Packed_int4_int8_fp8_and_2of4_models_load_and_generate_on_cuda()
    {
        foreach (var r in DeviceChecks.PackedModelsGenerate("cuda", TestPaths.NewTempDir())) AssertPassed(r);
    }

    [CudaFact]
    public void Models_load_in_bfloat16_on_cuda() => AssertPassed(DeviceChecks.Bf16Loads("cuda"));
}
