using Kit.Planning;
using Kit.Tests.Cli;
using static Kit.Tests.Planning.PlanningFixtures;

namespace Kit.Tests.Planning;

/// <summary><c>kit plan</c> prints the <c>vllm serve</c> line of the deployment it sized: its tensor-parallel size, stages and context.</summary>
public sealed class VllmServeCommandTests
{
    static DeploymentPlan Plan(string fixture, string location, string format, PlanOptions? options = null) =>
        DeploymentPlan.Create(Load(fixture) with { Location = location }, (options ?? new PlanOptions()) with { Format = WeightFormat.Parse(format) });

    [Fact]
    public void Scout_bf16_on_four_gpus_gets_tensor_parallel_4()
    {
        // 217.3 GB of weights fill 3 × 80 GB GPUs; 3 is not a power of two, so tensor parallel 4 (DeploymentPlanTests).
        var plan = Plan(Scout, "meta-llama/Llama-4-Scout-17B-16E-Instruct", "bf16");
        Assert.Equal("vllm serve meta-llama/Llama-4-Scout-17B-16E-Instruct --tensor-parallel-size 4 --pipeline-parallel-size 1 --max-model-len 8192",
            plan.VllmCommand);
        Assert.Contains("vLLM:\n  vllm serve meta-llama/Llama-4-Scout-17B-16E-Instruct --tensor-parallel-size 4", plan.ToText().ReplaceLineEndings("\n"));
    }

    [Fact]
    public void Maverick_fp16_spans_two_nodes_with_two_pipeline_stages()
    {
        // 803 GB of fp16 weights: more than 8 × (72 − 2) GB usable on one node, so 8-way tensor parallel × 2 stages.
        var plan = Plan(Maverick, "/models/maverick", "fp16");
        Assert.Equal("vllm serve /models/maverick --tensor-parallel-size 8 --pipeline-parallel-size 2 --max-model-len 8192", plan.VllmCommand);
        Assert.Contains("head node of a Ray cluster over the 2 nodes", plan.ToText());
    }

    [Fact]
    public void An_fp8_kv_cache_and_another_memory_fraction_are_passed_on()
    {
        // TinyLlama in int4 (≈ 0.7 GB) fits one GPU: tensor parallel 1, one stage.
        var plan = Plan(TinyLlama, "out/tiny llama-w4a16", "int4",
            new PlanOptions { Context = 2048, KvFormat = "fp8", GpuMemoryUtilization = 0.95 });
        Assert.Equal("vllm serve 'out/tiny llama-w4a16' --tensor-parallel-size 1 --pipeline-parallel-size 1 --max-model-len 2048 " +
            "--kv-cache-dtype fp8 --gpu-memory-utilization 0.95", plan.VllmCommand);
    }

    [Fact]
    public void A_bare_parameter_count_has_no_model_to_serve()
    {
        var plan = DeploymentPlan.Create(ModelFootprint.FromParameterCount(8_000_000_000));
        Assert.Null(plan.VllmCommand);
        Assert.DoesNotContain("vllm serve", plan.ToText());
    }

    [Fact]
    public void Kit_plan_prints_the_line_for_the_folder_it_was_given()
    {
        string work = TestPaths.NewTempDir();
        Directory.CreateDirectory(Path.Combine(work, "tinyllama"));
        File.Copy(FixturePath(TinyLlama), Path.Combine(work, "tinyllama", "config.json"));

        var text = KitProcess.Run(work, "plan", "--model", "tinyllama", "--format", "int4");
        var json = KitProcess.Run(work, "plan", "--model", "tinyllama", "--context", "1024", "--json");

        Assert.True(text.ExitCode == 0, text.Stderr);
        // TinyLlama's max_position_embeddings (2048) is below the default 8192, so the context is 2048.
        Assert.Contains("vllm serve tinyllama --tensor-parallel-size 1 --pipeline-parallel-size 1 --max-model-len 2048", text.Stdout);
        Assert.Equal("vllm serve tinyllama --tensor-parallel-size 1 --pipeline-parallel-size 1 --max-model-len 1024", json.Json["vllm_command"]!.GetValue<string>());
    }
}
