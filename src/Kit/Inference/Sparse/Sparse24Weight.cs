using Kit.Models.Safetensors;
using Kit.Runtime;
using static TorchSharp.torch;

namespace Kit.Inference.Sparse;

/// <summary>
/// A 2:4 semi-structured sparse weight W [out, in]: in every group of 4 consecutive input columns at most 2
/// weights are non-zero, so only 2 values per group are held, with their positions (NVIDIA's
/// semi-structured layout idea, without its tile interleaving).
/// </summary>
/// <remarks>
/// <para><see cref="Values"/> [out, in/2], in the weight's dtype: the 2 kept weights of each group, in column
/// order. A group with fewer than 2 non-zeros keeps a zero in the free slot.</para>
/// <para><see cref="Metadata"/> uint8 [out, ceil(in/8)]: 4 bits per group, two groups per byte. Group g of a
/// row sits in byte g / 2, the low nibble for even g; in its nibble bits 0–1 are the column (0–3, within the
/// group) of the first kept value and bits 2–3 that of the second, which is larger. Read as little-endian
/// words this puts the position of kept value j at bits 2j..2j+1, which the CPU kernel shifts out of one
/// 32-bit word per 8 groups.</para>
/// <para>Held bytes: in/2 values plus in/8 metadata bytes per row: 53.1 % of dense float32, 56.25 % of
/// dense bfloat16.</para>
/// </remarks>
public sealed class Sparse24Weight : IDisposable
{
    /// <summary>The kept values [out, in/2], in the dtype the weight had.</summary>
    public Tensor Values { get; }
    /// <summary>The positions of the kept values, uint8 [out, ceil(in/8)] (layout in the remarks).</summary>
    public Tensor Metadata { get; }
    /// <summary>Input features (a multiple of 4).</summary>
    public int InFeatures { get; }
    /// <summary>Output features.</summary>
    public int OutFeatures { get; }
    /// <summary>Where the tensors live.</summary>
    public Device Device => Values.device;
    /// <summary>Bytes held: values and metadata.</summary>
    public long WeightBytes => TensorMemory.ByteLength(Values) + TensorMemory.ByteLength(Metadata);

    Sparse24Weight(Tensor values, Tensor metadata, int inFeatures)
    {
        Values = values.DetachFromDisposeScope();
        Metadata = metadata.DetachFromDisposeScope();
        InFeatures = inFeatures;
        OutFeatures = (int)values.shape[0];
    }

    /// <summary>
    /// Compresses a dense weight [out, in] (any device and floating dtype). Throws
    /// <see cref="ArgumentException"/> naming <paramref name="name"/> (the layer) when in is not a multiple of
    /// 4, or the row and columns of the first group with more than 2 non-zeros.
    /// </summary>
    public static Sparse24Weight From(Tensor weight, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(weight);
        string layer = name ?? "weight";
        if (weight.dim() != 2 || !weight.is_floating_point())
            throw new ArgumentException($"{layer}: expected a floating-point weight [out, in], got {weight.dtype} [{string.Join(", ", weight.shape)}]", nameof(weight));
        long rows = weight.shape[0], columns = weight.shape[1];
        if (columns % 4 != 0)
            throw new ArgumentException($"{layer}: in_features {columns} is not a multiple of 4, which 2:4 sparsity needs", nameof(weight));
        using var scope = NewDisposeScope();
        long groups = columns / 4;
        var grouped = weight.detach().reshape(rows, groups, 4);
        var nonZero = grouped.ne(HeldScalars.Of(0));
        var counts = nonZero.sum(-1);
        if (counts.gt(HeldScalars.Of(2)).any().item<bool>())
        {
            long first = counts.gt(HeldScalars.Of(2)).reshape(-1).to_type(ScalarType.Int64).argmax().item<long>();
            long row = first / groups, column = first % groups * 4;
            throw new ArgumentException($"{layer}: row {row}, columns {column}–{column + 3} hold {counts[row, first % groups].item<long>()} non-zeros; 2:4 allows at most 2", nameof(weight));
        }
        // Non-zeros first, then the leftmost zeros fill a group's free slots; the two chosen columns sorted.
        var score = nonZero.to_type(ScalarType.Int64).Times(4).Plus(ScalarArithmetic.Arange(4, ScalarType.Int64, weight.device).SubtractedFrom(3));
        var positions = score.topk(2, dim: -1).indexes.sort(-1).Values;                       // [out, groups, 2]
        var values = grouped.gather(-1, positions).reshape(rows, groups * 2).contiguous();
        var nibbles = positions.select(-1, 0).Plus(positions.select(-1, 1).Times(4));                  // [out, groups]
        if (groups % 2 == 1) nibbles = nn.functional.pad(nibbles, new long[] { 0, 1 });
        var pairs = nibbles.reshape(rows, -1, 2);
        var metadata = pairs.select(-1, 0).Plus(pairs.select(-1, 1).Times(16)).to_type(ScalarType.Byte).contiguous();
        return new Sparse24Weight(values, metadata, (int)columns);
    }

    /// <summary>
    /// Whether <paramref name="weight"/> [out, in] fits 2:4: in is a multiple of 4 and no group of 4 holds
    /// more than 2 non-zeros (a kept weight that happens to be zero is fine).
    /// </summary>
    public static bool Fits(Tensor weight)
    {
        ArgumentNullException.ThrowIfNull(weight);
        if (weight.dim() != 2 || weight.shape[1] % 4 != 0) return false;
        using var scope = NewDisposeScope();
        return !weight.reshape(weight.shape[0], -1, 4).ne(HeldScalars.Of(0)).sum(-1).gt(HeldScalars.Of(2)).any().item<bool>();
    }

    /// <summary>
    /// A new bool tensor [out, in]: true where the weight is pruned (not held), as
    /// <see cref="Kit.Quantization.CompressionResult.Mask"/>; exactly 2 of every 4 are true.
    /// </summary>
    public Tensor Mask
    {
        get
        {
            using var scope = NewDisposeScope();
            var (first, second) = Positions(0, OutFeatures);
            var columns = ScalarArithmetic.Arange(4, ScalarType.Byte, Device);
            return first.ne(columns).logical_and(second.ne(columns)).reshape(OutFeatures, InFeatures).MoveToOuterDisposeScope();
        }
    }

    /// <summary>The dense weight [out, in] in <paramref name="dtype"/>, on the weight's device.</summary>
    public Tensor ToDense(ScalarType dtype) => DenseRows(0, OutFeatures, dtype);

    /// <summary>Rows <paramref name="start"/> .. start + <paramref name="count"/> of the dense weight, in <paramref name="dtype"/>.</summary>
    public Tensor DenseRows(int start, int count, ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        var (first, second) = Positions(start, count);
        var columns = ScalarArithmetic.Arange(4, ScalarType.Byte, Device);
        var values = Values.narrow(0, start, count).to_type(dtype).reshape(count, -1, 2);
        var dense = where(first.eq(columns), values.narrow(2, 0, 1),
            where(second.eq(columns), values.narrow(2, 1, 1), zeros(1, dtype, Device)));
        return dense.reshape(count, InFeatures).MoveToOuterDisposeScope();
    }

    // The columns (0–3, within the group) of each group's two kept values, uint8 [count, in/4, 1] each,
    // unpacked from the metadata with byte-sized ops (int64 indices for a scatter would outweigh the weight).
    (Tensor First, Tensor Second) Positions(int start, int count)
    {
        var bytes = Metadata.narrow(0, start, count);
        var nibbles = stack(new[] { bytes.bitwise_and(Byte(15)), bytes.bitwise_right_shift(Byte(4)) }, -1)
            .reshape(count, -1).narrow(1, 0, InFeatures / 4).unsqueeze(-1);
        return (nibbles.bitwise_and(Byte(3)), nibbles.bitwise_right_shift(Byte(2)));
    }

    Tensor Byte(byte value) => tensor(value, device: Device);

    /// <summary>A copy on <paramref name="device"/>.</summary>
    public Sparse24Weight To(Device device)
    {
        using var scope = NewDisposeScope();
        return new Sparse24Weight(Values.to(device), Metadata.to(device), InFeatures);
    }

    /// <summary>A copy whose values are in <paramref name="dtype"/>.</summary>
    public Sparse24Weight ToType(ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        return new Sparse24Weight(Values.to_type(dtype), Metadata.clone(), InFeatures);
    }

    /// <summary>Frees the tensors.</summary>
    public void Dispose()
    {
        Values.Dispose();
        Metadata.Dispose();
    }
}
