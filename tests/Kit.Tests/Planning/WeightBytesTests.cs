using Kit.Planning;
using static Kit.Tests.Planning.PlanningFixtures;

namespace Kit.Tests.Planning;

public sealed class WeightBytesTests
{
    // tiny-llama's parts that stay at 16 bits: embeddings, lm_head and norms, (1,692,928 − 1,179,648) · 2 bytes.
    const long TinySixteenBit = (TinyTotal - TinyQuantizable) * 2;

    static long Weights(string fixture, WeightFormat format) =>
        DeploymentPlan.Create(Load(fixture), new PlanOptions { Format = format }).WeightBytes;

    [Fact]
    public void Int4_group_128_counts_packed_values_and_a_16_bit_scale_per_128_weights()
    {
        // 1,179,648 weights at 4 bits = 589,824 bytes; 1,179,648 / 128 = 9216 scales of 2 bytes (every input width
        // of tiny-llama, 256 or 512, is a multiple of 128).
        Assert.Equal(589_824 + 9216 * 2 + TinySixteenBit, Weights(Tiny, WeightFormat.Parse("int4")));
    }

    [Fact]
    public void Asymmetric_int4_adds_4_bit_zero_points_and_act_order_adds_g_idx()
    {
        var asymmetric = WeightFormat.Parse("int4") with { Symmetric = false };
        Assert.Equal(589_824 + 9216 * 2 + 9216 / 2 + TinySixteenBit, Weights(Tiny, asymmetric));
        // g_idx: an int32 per input column of each of the 14 matrices: per layer 6·256 + 512 = 2048 columns.
        var actOrder = WeightFormat.Parse("int4") with { ActOrder = true };
        Assert.Equal(589_824 + 9216 * 2 + 2 * 2048 * 4 + TinySixteenBit, Weights(Tiny, actOrder));
    }

    [Fact]
    public void Int8_per_channel_has_one_scale_per_output_row()
    {
        // Output rows per layer: q 256, k 128, v 128, o 256, gate 512, up 512, down 256 = 2048; two layers.
        Assert.Equal(TinyQuantizable + 2 * 2048 * 2 + TinySixteenBit, Weights(Tiny, WeightFormat.Parse("int8")));
    }

    [Fact]
    public void Fp8_per_tensor_has_one_scale_per_matrix_and_groups_are_configurable()
    {
        Assert.Equal(TinyQuantizable + 14 * 2 + TinySixteenBit, Weights(Tiny, WeightFormat.Parse("fp8", "tensor")));
        // int4 in groups of 64: twice the scales of groups of 128.
        Assert.Equal(589_824 + 2 * 9216 * 2 + TinySixteenBit, Weights(Tiny, WeightFormat.Parse("int4", "64")));
    }

    [Fact]
    public void Bf16_is_two_bytes_per_parameter() => Assert.Equal(2 * TinyTotal, Weights(Tiny, WeightFormat.Parse("bf16")));

    [Fact]
    public void Scout_sizes_match_the_deployment_figures()
    {
        var scout = Load(Scout);
        long sixteenBit = (ScoutTotal - ScoutQuantizable) * 2;
        Assert.Equal(2 * ScoutTotal, Weights(Scout, WeightFormat.Parse("bf16")));
        Assert.InRange(2 * ScoutTotal / 220e9, 0.98, 1.02);
        // int8: 18,137,088 output rows (per layer 12,288 attention + 17 · 21,504 expert rows) with one scale each.
        Assert.Equal(ScoutQuantizable + 48L * 377_856 * 2 + sixteenBit, Weights(Scout, WeightFormat.Parse("int8")));
        Assert.Equal(ScoutQuantizable / 2 + ScoutQuantizable / 128 * 2 + sixteenBit, Weights(Scout, WeightFormat.Parse("int4")));
        // The rule-of-thumb figures: every parameter at the format's width.
        var plan8 = DeploymentPlan.Create(scout, new PlanOptions { Format = WeightFormat.Parse("int8") });
        Assert.InRange(plan8.NominalWeightBytes / 109e9, 0.98, 1.02);
        var plan4 = DeploymentPlan.Create(scout, new PlanOptions { Format = WeightFormat.Parse("int4") });
        Assert.InRange(plan4.NominalWeightBytes / 55e9, 0.98, 1.02);
    }

    [Fact]
    public void Unquantized_components_stay_at_16_bits()
    {
        var plan = DeploymentPlan.Create(Load(Scout), new PlanOptions { Format = WeightFormat.Parse("int4") });
        var parts = plan.Components.ToDictionary(c => c.Component);
        Assert.Equal("bf16", parts["embeddings"].StoredAs);
        Assert.Equal("bf16", parts["lm_head"].StoredAs);
        Assert.Equal("bf16", parts["router"].StoredAs);
        Assert.Equal("bf16", parts["vision tower"].StoredAs);
        Assert.Equal(2 * ScoutVision, parts["vision tower"].Bytes);
        Assert.Equal("int4", parts["experts"].StoredAs);
    }

    [Theory]
    [InlineData("int3", null, "unknown weight format 'int3'")]
    [InlineData("int4", "0", "group size must be a positive number")]
    [InlineData("int4", "rows", "group size must be a positive number")]
    public void Bad_formats_are_refused(string name, string? group, string message)
    {
        var e = Assert.Throws<ArgumentException>(() => WeightFormat.Parse(name, group));
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void Act_order_without_groups_is_refused()
    {
        var e = Assert.Throws<ArgumentException>(() => (WeightFormat.Parse("int8") with { ActOrder = true }).Validated());
        Assert.Contains("WeightFormat.ActOrder", e.Message);
    }
}
