using Kit.Planning;
using static Kit.Tests.Planning.PlanningFixtures;

namespace Kit.Tests.Planning;

public sealed class DeploymentPlanTests
{
    // Scout's KV cache at the default 8192 tokens: every layer holds all of them, 196,608 bytes per token in bf16.
    const long ScoutKv8192 = 8192L * 196_608;

    static DeploymentPlan Plan(string fixture, string format, PlanOptions? options = null) =>
        DeploymentPlan.Create(Load(fixture), (options ?? new PlanOptions()) with { Format = WeightFormat.Parse(format) });

    [Fact]
    public void Scout_bf16_fills_3_gpus_by_memory_but_runs_tensor_parallel_4()
    {
        var plan = Plan(Scout, "bf16");
        Assert.Equal(3, plan.MinimumGpus);
        Assert.Equal(4, plan.TensorParallel);
        Assert.Equal(4, plan.Gpus);
        Assert.Equal(1, plan.PipelineParallel);
        Assert.False(plan.MultiNode);
        Assert.Contains(plan.Notes, n => n.Contains("3 is not a power of two"));
        // Overhead rule: 10% of 80 GB left free plus 2 GB runtime reserve, on each of the 4 GPUs.
        Assert.Equal(10_000_000_000, plan.OverheadBytesPerGpu);
        Assert.Equal(2 * ScoutTotal + ScoutKv8192 + 4 * 10_000_000_000L, plan.TotalBytes);
        Assert.Equal(4 * 70_000_000_000L - 2 * ScoutTotal - ScoutKv8192, plan.KvRoomBytes);
    }

    [Fact]
    public void Scout_int8_fits_on_2_gpus()
    {
        var plan = Plan(Scout, "int8");
        Assert.Equal(2, plan.MinimumGpus);
        Assert.Equal(2, plan.TensorParallel);
        Assert.False(plan.Fits[0].Fits);
        Assert.True(plan.Fits[1].Fits);
    }

    [Fact]
    public void Scout_int4_fits_on_one_gpu_with_room_for_the_kv_cache()
    {
        var plan = Plan(Scout, "int4");
        long weights = ScoutQuantizable / 2 + ScoutQuantizable / 128 * 2 + (ScoutTotal - ScoutQuantizable) * 2;
        Assert.Equal(1, plan.MinimumGpus);
        Assert.Equal(1, plan.Gpus);
        Assert.Equal(70_000_000_000 - weights - ScoutKv8192, plan.KvRoomBytes);
        Assert.True(plan.KvRoomBytes > 5_000_000_000);
        Assert.Equal(plan.KvRoomBytes / 196_608, plan.KvRoomTokens);
    }

    [Fact]
    public void Maverick_fp16_needs_more_than_one_8_gpu_node()
    {
        var plan = Plan(Maverick, "fp16");
        Assert.InRange(plan.WeightBytes / 800e9, 0.98, 1.02);
        Assert.Equal(11, plan.MinimumGpus);                 // 803.2 GB / 80 GB
        Assert.All(plan.Fits, f => Assert.False(f.Fits));
        Assert.True(plan.MultiNode);
        Assert.Equal(2, plan.Nodes);
        Assert.Equal(8, plan.TensorParallel);
        Assert.Equal(2, plan.PipelineParallel);
        Assert.Equal(16, plan.Gpus);
        Assert.Equal("fp16", plan.KvFormat);
    }

    [Fact]
    public void Tensor_parallel_sizes_that_do_not_divide_the_heads_are_skipped()
    {
        // Qwen2-0.5B has 14 query heads: 4 and 8 GPUs cannot split them. 64 sequences of 100k tokens need
        // 2·24·2·64·2 = 12,288 bytes per token, 78.6 GB: more than one GPU's budget.
        var plan = Plan(Qwen2, "bf16", new PlanOptions { Context = 100_000, Batch = 64 });
        Assert.Equal(12_288L * 100_000 * 64, plan.KvCacheBytes);
        Assert.False(plan.Fits[2].ValidTensorParallel);
        Assert.False(plan.Fits[3].ValidTensorParallel);
        Assert.Equal(2, plan.TensorParallel);
    }

    [Fact]
    public void Kv_heads_are_replicated_when_tensor_parallel_exceeds_them()
    {
        // TinyLlama has 4 KV heads: on 8 GPUs each holds one head, so the cache is stored twice over.
        var plan = Plan(TinyLlama, "bf16", new PlanOptions { Context = 2048 });
        long kv = plan.KvCacheBytes!.Value;
        Assert.Equal(2L * 22 * 4 * 64 * 2048 * 2, kv);
        Assert.Equal(kv / 4, plan.Fits[2].KvBytesPerGpu);
        Assert.Equal(kv * 2 / 8, plan.Fits[3].KvBytesPerGpu);
    }

    [Fact]
    public void Bigger_gpus_change_the_count()
    {
        // 141 GB GPUs: Scout bf16 (217.3 GB) fits on 2 (2 · (126.9 − 2) = 249.8 GB usable).
        var plan = Plan(Scout, "bf16", new PlanOptions { GpuMemoryGb = 141 });
        Assert.Equal(2, plan.MinimumGpus);
        Assert.Equal(2, plan.Gpus);
    }

    [Theory]
    [InlineData(0.0, "PlanOptions.GpuMemoryUtilization")]
    [InlineData(1.5, "PlanOptions.GpuMemoryUtilization")]
    public void Bad_options_name_the_field(double utilization, string field)
    {
        var e = Assert.Throws<ArgumentException>(() => Plan(Tiny, "bf16", new PlanOptions { GpuMemoryUtilization = utilization }));
        Assert.Contains(field, e.Message);
    }

    [Fact]
    public void Text_shows_the_minimum_the_tensor_parallel_size_and_decimal_gb()
    {
        string text = Plan(Scout, "bf16").ToText();
        Assert.Contains("minimum by memory   3 GPUs", text);
        Assert.Contains("tensor parallel     4 = 4 GPUs on one node", text);
        Assert.Contains("decimal GB", text);
        Assert.Contains("217.28", text);
        Assert.Contains("multi-node", Plan(Maverick, "fp16").ToText());
    }
}
