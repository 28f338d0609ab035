using Kit.Inference.Sparse;
using static TorchSharp.torch;

namespace Kit.Tests.Inference.Sparse;

public sealed class Sparse24WeightTests
{
    [Fact]
    public void Values_and_two_bit_positions_follow_the_documented_layout()
    {
        using var scope = NewDisposeScope();
        // Group 0 keeps columns 1 and 3 (nibble 1 + 3·4 = 13), group 1 columns 0 and 3 (nibble 12): byte 13 + 12·16.
        // Group 2 holds one non-zero at column 2; the leftmost zero fills the free slot (columns 0, 2: nibble 8), high nibble padding.
        var w = tensor(new float[,] { { 0, 1.5f, 0, -2, 3, 0, 0, 4, 0, 0, 5, 0 } });
        using var weight = Sparse24Weight.From(w);
        Assert.Equal(new float[] { 1.5f, -2, 3, 4, 0, 5 }, weight.Values.data<float>().ToArray());
        Assert.Equal(new byte[] { 13 + 12 * 16, 8 }, weight.Metadata.data<byte>().ToArray());
        Assert.Equal(new[] { true, false, true, false, false, true, true, false, false, true, false, true }, weight.Mask.data<bool>().ToArray());
        Assert.Equal(6 * 4 + 2, weight.WeightBytes);
    }

    [Fact]
    public void Dense_weight_comes_back_exactly_and_the_mask_prunes_two_of_every_four()
    {
        using var scope = NewDisposeScope();
        var w = Sparse24TestData.Weight(24, 72, seed: 3);
        var dense = Sparse24TestData.Tensor(w, ScalarType.Float64);
        using var weight = Sparse24Weight.From(dense);
        Assert.Equal(ScalarType.Float64, weight.Values.dtype);
        Assert.True(weight.ToDense(ScalarType.Float64).eq(dense).all().item<bool>());
        var mask = weight.Mask;
        Assert.Equal(new long[] { 24, 72 }, mask.shape);
        Assert.True(mask.reshape(24, 18, 4).sum(-1).eq(2).all().item<bool>());
        Assert.True(dense.masked_select(mask).eq(0).all().item<bool>());
        // float64: 36 values of 8 bytes and 9 metadata bytes per row.
        Assert.Equal(24 * (36 * 8 + 9), weight.WeightBytes);
    }

    [Fact]
    public void A_group_with_three_non_zeros_is_refused_naming_the_layer_row_and_columns()
    {
        var w = new float[3, 8];
        w[0, 0] = 1;
        w[2, 4] = 1;
        w[2, 5] = 2;
        w[2, 7] = 3;
        using var dense = tensor(w);
        var e = Assert.Throws<ArgumentException>(() => Sparse24Weight.From(dense, "model.layers.1.mlp.up_proj"));
        Assert.Contains("model.layers.1.mlp.up_proj: row 2, columns 4–7 hold 3 non-zeros", e.Message);
        Assert.False(Sparse24Weight.Fits(dense));
    }

    [Fact]
    public void Input_features_not_a_multiple_of_four_are_refused_naming_the_layer()
    {
        using var dense = zeros(2, 6);
        var e = Assert.Throws<ArgumentException>(() => Sparse24Weight.From(dense, "model.layers.0.self_attn.o_proj"));
        Assert.Contains("model.layers.0.self_attn.o_proj: in_features 6 is not a multiple of 4", e.Message);
        Assert.False(Sparse24Weight.Fits(dense));
    }
}
