using Kit.Planning;
using static Kit.Tests.Planning.PlanningFixtures;

namespace Kit.Tests.Planning;

public sealed class KvCacheTests
{
    static long? Kv(string fixture, long context, long batch, string? kvFormat = null, bool capWindows = true) =>
        DeploymentPlan.Create(Load(fixture), new PlanOptions { Context = context, Batch = batch, KvFormat = kvFormat, CapWindowedLayers = capWindows }).KvCacheBytes;

    [Fact]
    public void Kv_bytes_are_two_times_layers_heads_dim_tokens_and_bytes()
    {
        // tiny-llama: 2 (K and V) · 2 layers · 2 KV heads · 64 · 1000 tokens · 3 sequences · 2 bytes.
        Assert.Equal(2L * 2 * 2 * 64 * 1000 * 3 * 2, Kv(Tiny, 1000, 3));
        Assert.Equal(2L * 2 * 2 * 64 * 1000 * 3 * 1, Kv(Tiny, 1000, 3, "fp8"));
    }

    [Fact]
    public void Sliding_window_layers_keep_only_their_window()
    {
        // Mistral-7B-v0.1: 32 layers, 8 KV heads of 128, window 4096; 4096 bytes per token and layer in bf16.
        Assert.Equal(32L * 4096 * 4096 * 2, Kv(Mistral, 8192, 2));
        Assert.Equal(32L * 4096 * 8192 * 2, Kv(Mistral, 8192, 2, capWindows: false));
    }

    [Fact]
    public void Scout_chunked_layers_cap_at_8192_tokens_and_nope_layers_do_not()
    {
        // 12 NoPE layers hold all 32768 tokens, 36 chunked-attention layers 8192; 4096 bytes per token and layer.
        Assert.Equal((12L * 32768 + 36L * 8192) * 4096, Kv(Scout, 32768, 1));
        Assert.Equal(48L * 32768 * 4096, Kv(Scout, 32768, 1, capWindows: false));
    }

    [Fact]
    public void Params_without_a_layout_leave_the_kv_cache_unknown()
    {
        var plan = DeploymentPlan.Create(ModelFootprint.FromParameterCount(70_000_000_000));
        Assert.Null(plan.KvCacheBytes);
        Assert.Null(plan.KvRoomTokens);
        Assert.Contains(plan.Notes, n => n.StartsWith("KV cache unknown"));
        var known = DeploymentPlan.Create(ModelFootprint.FromParameterCount(70_000_000_000, AttentionLayout.Uniform(80, 8, 128)),
            new PlanOptions { Context = 4096 });
        Assert.Equal(2L * 80 * 8 * 128 * 4096 * 2, known.KvCacheBytes);
        Assert.Equal(140_000_000_000, known.WeightBytes);
    }
}
