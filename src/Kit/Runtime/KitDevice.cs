using TorchSharp;

namespace Kit.Runtime;

/// <summary>Chooses where tensors live: CUDA when TorchSharp was built with it and a GPU is present, else the CPU.</summary>
public static class KitDevice
{
    /// <summary>The best device available in this process.</summary>
    public static torch.Device Default => torch.cuda.is_available() ? torch.CUDA : torch.CPU;

    /// <summary>Parses "cpu", "cuda", "cuda:1" or "auto" (the default device).</summary>
    public static torch.Device Parse(string? name)
    {
        if (string.IsNullOrWhiteSpace(name) || name.Equals("auto", StringComparison.OrdinalIgnoreCase)) return Default;
        if (name.StartsWith("cuda", StringComparison.OrdinalIgnoreCase) && !torch.cuda.is_available())
            throw new ArgumentException($"device '{name}' was asked for, but this build of TorchSharp sees no CUDA device " +
                "(build with -p:KitTorchBackend=cuda on a machine with an NVIDIA GPU, or run Kit on a CUDA PyTorch: scripts/torch-from-python.sh)");
        try { return torch.device(name.ToLowerInvariant()); }
        catch (Exception e) { throw new ArgumentException($"unknown device '{name}' (use cpu, cuda, cuda:N or auto)", e); }
    }
}
