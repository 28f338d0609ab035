namespace Kit.Inference.Kernels;

/// <summary>
/// Where each input column sits in a packed row. Columns are gathered group by group (in increasing column
/// order within a group), and each group is padded with zero columns to a multiple of
/// <see cref="BlockColumns"/>, so that a 32-column block never straddles two scales. With identity g_idx
/// and groups that are multiples of 32 wide the packed order is the input order and
/// <see cref="ColumnOrder"/> is null; otherwise the kernels gather x into that order once per call.
/// </summary>
internal sealed class PackedLayout
{
    /// <summary>Columns per block: the unit of decoding, one scale per block.</summary>
    public const int BlockColumns = 32;

    /// <summary>Input columns of the unpacked weight.</summary>
    public int Columns { get; }
    /// <summary>Columns of a packed row, padding included (a multiple of <see cref="BlockColumns"/>).</summary>
    public int PaddedColumns { get; }
    /// <summary>Group g owns blocks [GroupBlocks[g], GroupBlocks[g + 1]); pinned, so the kernels read it by pointer.</summary>
    public int[] GroupBlocks { get; }
    /// <summary>The input column at each packed position (−1 for padding), or null when the two orders agree.</summary>
    public int[]? ColumnOrder { get; }

    /// <summary>Groups (scales per row).</summary>
    public int Groups => GroupBlocks.Length - 1;

    PackedLayout(int columns, int[] groupBlocks, int[]? columnOrder)
    {
        Columns = columns;
        GroupBlocks = groupBlocks;
        PaddedColumns = groupBlocks[^1] * BlockColumns;
        ColumnOrder = columnOrder;
    }

    /// <summary>The layout for input columns whose groups are <paramref name="gIdx"/> (each in [0, groups)).</summary>
    public static PackedLayout Create(ReadOnlySpan<int> gIdx, int groups)
    {
        var members = new List<int>[groups];
        for (int g = 0; g < groups; g++) members[g] = new List<int>();
        for (int j = 0; j < gIdx.Length; j++)
        {
            if ((uint)gIdx[j] >= (uint)groups)
                throw new ArgumentException($"QuantizedWeight.GIdx: column {j} names group {gIdx[j]}, but the scales have {groups} groups", "GIdx");
            members[gIdx[j]].Add(j);
        }
        var groupBlocks = GC.AllocateArray<int>(groups + 1, pinned: true);
        for (int g = 0; g < groups; g++)
            groupBlocks[g + 1] = groupBlocks[g] + (members[g].Count + BlockColumns - 1) / BlockColumns;
        var order = new int[groupBlocks[^1] * BlockColumns];
        Array.Fill(order, -1);
        bool identity = order.Length == gIdx.Length;
        for (int g = 0; g < groups; g++)
        {
            int at = groupBlocks[g] * BlockColumns;
            foreach (int j in members[g])
            {
                identity &= at == j;
                order[at++] = j;
            }
        }
        return new PackedLayout(gIdx.Length, groupBlocks, identity ? null : order);
    }

    /// <summary>Bytes the layout holds (what the per-call gather needs).</summary>
    public long Bytes => GroupBlocks.Length * sizeof(int) + (ColumnOrder?.Length ?? 0) * sizeof(int);
}
