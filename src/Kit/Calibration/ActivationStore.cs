using Kit.Models.Safetensors;
using Kit.Runtime;
using static TorchSharp.torch;

namespace Kit.Calibration;

/// <summary>
/// The calibration activations between decoder layers, [samples, tokens, hidden], kept in the model's dtype where
/// <see cref="ActivationPlacement"/> puts them: on the compute device, in host memory, or in a memory-mapped scratch
/// file. The pipeline reads them a batch at a time in its compute dtype and writes each layer's outputs back.
/// </summary>
internal sealed class ActivationStore : IDisposable
{
    /// <summary>Where <see cref="ActivationPlacement.Auto"/> stops keeping activations in memory: this fraction of the available memory.</summary>
    internal const double MemoryShare = 0.5;

    ActivationStore(Tensor values, ActivationPlacement placement)
    {
        Values = values;
        Placement = placement;
    }

    /// <summary>The activations, in the storage dtype, where <see cref="Placement"/> says.</summary>
    public Tensor Values { get; }

    /// <summary>Where they are (never <see cref="ActivationPlacement.Auto"/>).</summary>
    public ActivationPlacement Placement { get; }

    /// <summary>Calibration sequences held (0 for runs without calibration data).</summary>
    public long Count => Values.dim() < 3 ? 0 : Values.shape[0];

    /// <summary>
    /// Room for <paramref name="samples"/> × <paramref name="tokens"/> × <paramref name="width"/> values of
    /// <paramref name="dtype"/>, placed as <paramref name="placement"/> asks (resolved from the available memory
    /// when <see cref="ActivationPlacement.Auto"/>); a scratch file goes into <paramref name="scratchFolder"/>.
    /// </summary>
    public static ActivationStore Allocate(long samples, long tokens, long width, ScalarType dtype, ActivationPlacement placement,
        Device compute, string scratchFolder)
    {
        if (samples == 0) return new ActivationStore(empty(0, dtype: dtype, device: compute), ActivationPlacement.Device);
        long bytes;
        using (var probe = empty(0, dtype: dtype)) bytes = samples * tokens * width * probe.ElementSize;
        var resolved = Resolve(placement, bytes, compute.type == TorchSharp.DeviceType.CPU, SystemMemory.AvailableBytes(), OperatingSystem.IsLinux());
        long[] shape = [samples, tokens, width];
        var values = resolved switch
        {
            ActivationPlacement.Device => zeros(shape, dtype, compute),
            ActivationPlacement.Host => zeros(shape, dtype, CPU),
            _ => MappedTensor.CreateScratch(scratchFolder, shape, dtype),
        };
        return new ActivationStore(values.DetachFromDisposeScope(), resolved);
    }

    /// <summary>
    /// <paramref name="requested"/>, or for <see cref="ActivationPlacement.Auto"/>: memory when <paramref name="bytes"/>
    /// take at most <see cref="MemoryShare"/> of <paramref name="availableBytes"/> (or it is unknown, or there is no
    /// disk mapping), the device itself on a CPU and host memory beside a GPU; a scratch file otherwise.
    /// </summary>
    internal static ActivationPlacement Resolve(ActivationPlacement requested, long bytes, bool computeOnCpu, long? availableBytes, bool canMapFiles)
    {
        if (requested == ActivationPlacement.Disk && !canMapFiles)
            throw new PlatformNotSupportedException("activations on disk need Linux's memory maps; keep them in memory");
        if (requested != ActivationPlacement.Auto) return requested;
        bool fits = availableBytes is not { } available || bytes <= MemoryShare * available || !canMapFiles;
        return !fits ? ActivationPlacement.Disk : computeOnCpu ? ActivationPlacement.Device : ActivationPlacement.Host;
    }

    /// <summary>Sequences [<paramref name="start"/>, start + count) in <paramref name="dtype"/> on <paramref name="device"/> (a view when nothing changes).</summary>
    public Tensor Read(long start, long count, ScalarType dtype, Device device) =>
        Values.narrow(0, start, count).to(dtype, device);

    /// <summary>Replaces sequences [<paramref name="start"/>, start + values' count) by <paramref name="values"/>, rounded to the storage dtype.</summary>
    public void Write(long start, Tensor values) => Values.narrow(0, start, values.shape[0]).copy_(values);

    /// <summary>Frees the activations (a scratch file's space goes back to the file system).</summary>
    public void Dispose() => Values.Dispose();
}
