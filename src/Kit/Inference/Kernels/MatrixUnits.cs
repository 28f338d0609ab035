namespace Kit.Inference.Kernels;

/// <summary>
/// Whether this CPU has matrix units that libtorch's bfloat16 matmul uses (Intel AMX, Sapphire Rapids and later):
/// there a prefill multiplies several times faster in bfloat16 than in the integer kernels, while on CPUs without
/// them bfloat16 is slower than those kernels (measured in docs/BENCHMARKS.md).
/// </summary>
public static class MatrixUnits
{
    /// <summary>True where the CPU reports AMX-BF16 (Linux) and oneDNN is not limited below it by ONEDNN_MAX_CPU_ISA.</summary>
    public static bool BFloat16 { get; } = Detect();

    static bool Detect()
    {
        if (Environment.GetEnvironmentVariable("ONEDNN_MAX_CPU_ISA") is { Length: > 0 } isa && !isa.Contains("AMX", StringComparison.OrdinalIgnoreCase))
            return false;
        const string cpuInfo = "/proc/cpuinfo";
        if (!OperatingSystem.IsLinux() || !File.Exists(cpuInfo)) return false;
        foreach (var line in File.ReadLines(cpuInfo))
            if (line.StartsWith("flags", StringComparison.Ordinal))
                return line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Contains("amx_bf16");
        return false;
    }
}
