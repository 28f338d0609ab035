using System.Diagnostics;
using TorchSharp;

namespace Kit.GpuCheck;

/// <summary>Which libtorch this process runs on, and what it sees.</summary>
/// <param name="LibTorchSharp">The libLibTorchSharp.so mapped into the process.</param>
/// <param name="LibTorchCpu">The libtorch_cpu.so mapped into the process (NuGet's or python's).</param>
/// <param name="LibTorchCuda">The libtorch_cuda.so mapped into the process, or null.</param>
/// <param name="CudaAvailable">torch.cuda.is_available().</param>
/// <param name="DeviceCount">CUDA devices libtorch sees.</param>
/// <param name="DeviceName">The first GPU's name from nvidia-smi (TorchSharp has no call for it), or null.</param>
public sealed record NativeTorch(string? LibTorchSharp, string? LibTorchCpu, string? LibTorchCuda, bool CudaAvailable,
    int DeviceCount, string? DeviceName)
{
    /// <summary>Loads TorchSharp's native library (CUDA first, as <c>--device auto</c> does) and reports what loaded.</summary>
    public static NativeTorch Probe()
    {
        bool cuda = torch.cuda.is_available();
        using (var probe = torch.ones(2)) probe.sum().Dispose();   // makes sure the CPU backend is loaded too
        var maps = File.Exists("/proc/self/maps") ? File.ReadAllLines("/proc/self/maps") : Array.Empty<string>();
        string? Mapped(string file) => maps.Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(f => f.Length >= 6 && Path.GetFileName(f[5]) == file).Select(f => f[5]).FirstOrDefault();
        return new NativeTorch(Mapped("libLibTorchSharp.so"), Mapped("libtorch_cpu.so"), Mapped("libtorch_cuda.so"), cuda,
            cuda ? torch.cuda.device_count() : 0, cuda ? NvidiaSmiName() : null);
    }

    static string? NvidiaSmiName()
    {
        try
        {
            using var smi = Process.Start(new ProcessStartInfo("nvidia-smi", "--query-gpu=name --format=csv,noheader")
            { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false });
            if (smi is null) return null;
            string name = smi.StandardOutput.ReadToEnd().Split('\n')[0].Trim();
            return smi.WaitForExit(5000) && smi.ExitCode == 0 && name.Length > 0 ? name : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;   // no nvidia-smi
        }
    }
}
