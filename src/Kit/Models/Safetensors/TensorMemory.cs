using TorchSharp;

namespace Kit.Models.Safetensors;

/// <summary>
/// Raw access to a CPU tensor's bytes. TorchSharp has no <c>data_ptr</c> and no reinterpreting
/// <c>view(dtype)</c>; its <c>bytes</c> span is a live view of native memory but is int-sized, so the
/// address is taken from a one-element view of the first element, which works for any tensor size.
/// </summary>
internal static unsafe class TensorMemory
{
    /// <summary>The address of the first element of a contiguous CPU tensor; null when it has no elements.</summary>
    public static byte* Address(torch.Tensor tensor)
    {
        if (tensor.device_type != DeviceType.CPU || !tensor.is_contiguous())
            throw new ArgumentException("raw access needs a contiguous CPU tensor", nameof(tensor));
        if (tensor.numel() == 0) return null;
        using var flat = tensor.view(-1);
        using var first = flat.narrow(0, 0, 1);
        fixed (byte* p = first.bytes) return p;
    }

    /// <summary>The number of bytes a contiguous tensor occupies.</summary>
    public static long ByteLength(torch.Tensor tensor) => tensor.numel() * tensor.ElementSize;
}
