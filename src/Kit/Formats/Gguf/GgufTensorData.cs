namespace Kit.Formats.Gguf;

/// <summary>One tensor to write to a GGUF file.</summary>
/// <param name="Name">The tensor's name (at most 63 UTF-8 bytes, as ggml's GGML_MAX_NAME allows).</param>
/// <param name="Shape">The shape in PyTorch order, outermost first (a Linear is [out, in]); the file stores it reversed, ggml's <c>ne</c>.</param>
/// <param name="Type">How the values are stored.</param>
/// <param name="Data">
/// Produces the encoded bytes, called once, when the writer reaches this tensor, so that only one tensor's
/// bytes are in memory at a time.
/// </param>
public sealed record GgufTensorData(string Name, IReadOnlyList<long> Shape, GgmlType Type, Func<byte[]> Data)
{
    /// <summary>Number of values.</summary>
    public long ElementCount => Shape.Aggregate(1L, (a, b) => a * b);

    /// <summary>Bytes of the encoded data.</summary>
    public long ByteCount => GgmlQuants.ByteCount(Type, ElementCount);
}
