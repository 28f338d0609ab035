namespace Kit.Models.Safetensors;

/// <summary>One tensor's header entry.</summary>
/// <param name="Name">The tensor's name.</param>
/// <param name="DType">The stored element type.</param>
/// <param name="Shape">The dimensions; empty for a scalar.</param>
/// <param name="Begin">First byte, relative to the start of the data section (after the header).</param>
/// <param name="End">One past the last byte, relative to the start of the data section.</param>
public sealed record TensorInfo(string Name, DType DType, long[] Shape, long Begin, long End)
{
    /// <summary>The number of bytes the tensor occupies.</summary>
    public long ByteLength => End - Begin;

    /// <summary>The number of elements (1 for a scalar).</summary>
    public long ElementCount => Shape.Aggregate(1L, (n, d) => n * d);
}
