namespace Kit.Inference.Kernels;

/// <summary>
/// Raw pointers into a CPU <see cref="PackedWeight"/>: what the kernels read. Row r's codes start at
/// <c>Data + r · RowBytes</c>, its scales at <c>Scale + r · Groups</c>, its zero points (if any) at
/// <c>Zero + r · Groups</c>; group g covers blocks [GroupBlocks[g], GroupBlocks[g + 1]).
/// </summary>
internal readonly unsafe struct PackedView(
    byte* data, float* scale, sbyte* zero, int* groupBlocks, int groups, int paddedColumns, int rowBytes, int rows, int codeOffset)
{
    public readonly byte* Data = data;
    public readonly float* Scale = scale;
    /// <summary>Null when every zero point is 0.</summary>
    public readonly sbyte* Zero = zero;
    public readonly int* GroupBlocks = groupBlocks;
    public readonly int Groups = groups;
    public readonly int PaddedColumns = paddedColumns;
    public readonly int RowBytes = rowBytes;
    public readonly int Rows = rows;
    /// <summary>What a stored code exceeds the signed code by: 8 for int4 nibbles, 0 for int8.</summary>
    public readonly int CodeOffset = codeOffset;

    /// <summary>The stored code that stands for 0 in group <paramref name="g"/> of row <paramref name="r"/>.</summary>
    public int ZeroCode(int r, int g) => CodeOffset + (Zero == null ? 0 : Zero[(long)r * Groups + g]);
}
