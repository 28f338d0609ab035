using Kit.Formats.CompressedTensors;
using Kit.Inference.Kernels;
using Kit.Models;
using Kit.Quantization;
using static TorchSharp.torch;

namespace Kit.Tests.Formats.CompressedTensors;

/// <summary>Packing compressed-tensors words straight into the kernels' layout gives what unpacking and then packing gives.</summary>
public sealed class PackedWeightReaderTests
{
    const string Module = "model.layers.0.mlp.down_proj";

    public static TheoryData<int, bool, int?, bool, int> Grids()
    {
        var data = new TheoryData<int, bool, int?, bool, int>();
        foreach (int bits in new[] { 4, 8 })
            foreach (bool symmetric in new[] { true, false })
            {
                data.Add(bits, symmetric, 32, false, 96);     // groups that tile 32-blocks: the input order is kept
                data.Add(bits, symmetric, null, false, 72);   // per channel, rows padded to 96 columns
                data.Add(bits, symmetric, 16, true, 64);      // act-order: columns gathered group by group
            }
        data.Add(4, false, 4, false, 12);                     // groups narrower than a block, a part word per row
        return data;
    }

    [Theory]
    [MemberData(nameof(Grids))]
    public void Words_packed_directly_equal_codes_unpacked_then_packed(int bits, bool symmetric, int? groupSize, bool actOrder, int columns)
    {
        using var scope = NewDisposeScope();
        var args = new QuantizationArgs
        {
            NumBits = bits, Symmetric = symmetric, GroupSize = groupSize,
            Strategy = groupSize is null ? QuantizationStrategy.Channel : QuantizationStrategy.Group,
        };
        var original = CtTestData.Make(args, rows: 7, columns, seed: bits * 100 + columns, regroup: actOrder);
        var recipe = new CompressionRecipe { Method = CompressionMethod.Gptq, Weights = args, ActOrder = ActOrders.Parse(actOrder ? "group" : "none") };
        var writer = new CompressedTensorsWriter(recipe, ScalarType.BFloat16);
        var dir = CtTestData.WriteModel(TestPaths.NewTempDir(), writer.ModuleTensors(Module, original), writer.Config.ToJson());

        using var reader = CompressedTensorsReader.Open(dir);
        Assert.True(reader.IsPackQuantized(Module));
        using var expected = PackedWeight.From(reader.Read(Module));
        using var direct = PackedWeightReader.Read(reader, Module);
        Assert.Equal(expected.Format, direct.Format);
        Assert.Equal(expected.Layout.ColumnOrder, direct.Layout.ColumnOrder);
        Assert.Equal(expected.Layout.GroupBlocks, direct.Layout.GroupBlocks);
        Assert.True(expected.Data.bytes.SequenceEqual(direct.Data.bytes), "codes differ");
        Assert.True(expected.Scale.bytes.SequenceEqual(direct.Scale.bytes), "scales differ");
        Assert.Equal(expected.ZeroPoint is null, direct.ZeroPoint is null);
        if (expected.ZeroPoint is not null) Assert.True(expected.ZeroPoint.bytes.SequenceEqual(direct.ZeroPoint!.bytes), "zero points differ");
    }

    [Fact]
    public void A_code_outside_the_grid_is_named_by_row_and_column()
    {
        var args = new QuantizationArgs { NumBits = 4, Symmetric = true, Strategy = QuantizationStrategy.Channel };
        using var scale = ones(3, 1);
        using var zero = zeros(3, 1, ScalarType.Int8);
        using var gIdx = zeros(40, ScalarType.Int32);
        var e = Assert.Throws<ArgumentException>(() => PackedWeight.FromRows(3, 40, scale, zero, gIdx, args, (r, codes) =>
        {
            codes.Clear();
            if (r >= 1) codes[r + 10] = 9;
        }));
        Assert.Contains("code 9 at [1, 11] lies outside", e.Message);
    }
}
