namespace Kit.Formats.Gguf;

/// <summary>A tensor as a GGUF file describes it.</summary>
/// <param name="Name">The tensor's name.</param>
/// <param name="Dimensions">ggml's <c>ne</c>: the innermost (contiguous) dimension first.</param>
/// <param name="Type">How the values are stored.</param>
/// <param name="Offset">Where the data starts, relative to the data section.</param>
public sealed record GgufTensorInfo(string Name, IReadOnlyList<long> Dimensions, GgmlType Type, long Offset)
{
    /// <summary>The shape in PyTorch order, outermost first (a Linear weight is [out, in]).</summary>
    public long[] Shape => Dimensions.Reverse().ToArray();

    /// <summary>Number of values.</summary>
    public long ElementCount => Dimensions.Aggregate(1L, (a, b) => a * b);

    /// <summary>Bytes of the stored data.</summary>
    public long ByteCount => GgmlQuants.ByteCount(Type, ElementCount);
}
