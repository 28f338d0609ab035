using System.Runtime.InteropServices;
using TorchSharp;

namespace Kit.Models.Safetensors;

/// <summary>
/// Raw access to a CPU tensor's bytes. TorchSharp's API has no <c>data_ptr</c>, but its native library
/// exports one (<c>THSTensor_data</c>), which costs one call instead of the six of the managed route: a
/// one-element view of the first element and its int-sized <c>bytes</c> span. The kernels take addresses on
/// every decode step, so the export is used wherever the runtime can bind it (a program with TorchSharp's
/// native assets) and the managed route elsewhere (a notebook kernel, which cannot resolve the library by name).
/// </summary>
internal static unsafe class TensorMemory
{
    static bool nativeDataMissing;

    [DllImport("LibTorchSharp")]
    static extern IntPtr THSTensor_data(IntPtr handle);

    /// <summary>The address of the first element of a contiguous CPU tensor; null when it has no elements.</summary>
    public static byte* Address(torch.Tensor tensor)
    {
        if (tensor.device_type != DeviceType.CPU || !tensor.is_contiguous())
            throw new ArgumentException("raw access needs a contiguous CPU tensor", nameof(tensor));
        if (tensor.numel() == 0) return null;
        if (!nativeDataMissing)
        {
            try { return (byte*)THSTensor_data(tensor.Handle); }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { nativeDataMissing = true; }
        }
        using var flat = tensor.view(-1);
        using var first = flat.narrow(0, 0, 1);
        fixed (byte* p = first.bytes) return p;
    }

    /// <summary>The number of bytes a contiguous tensor occupies.</summary>
    public static long ByteLength(torch.Tensor tensor) => tensor.numel() * tensor.ElementSize;
}
