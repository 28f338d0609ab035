namespace Kit.Calibration;

/// <summary>Where the layer-by-layer pipeline keeps the calibration activations between layers.</summary>
public enum ActivationPlacement
{
    /// <summary>
    /// In memory when they take at most half of the machine's available memory (on the compute device for the CPU,
    /// in host memory when computing on a GPU), otherwise in a scratch file on disk.
    /// </summary>
    Auto,
    /// <summary>On the compute device (the GPU's memory when computing on one).</summary>
    Device,
    /// <summary>In host memory, each batch copied to the compute device and back.</summary>
    Host,
    /// <summary>
    /// In a memory-mapped scratch file beside the output, which the kernel pages to disk and back as memory allows:
    /// for calibration sets larger than memory.
    /// </summary>
    Disk,
}
