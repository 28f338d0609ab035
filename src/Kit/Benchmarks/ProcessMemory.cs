namespace Kit.Benchmarks;

/// <summary>
/// This process's memory as Linux reports it in /proc/self/status, and the machine's load. Figures are 0 where
/// /proc is missing (not Linux), so that benchmarks still run elsewhere.
/// </summary>
public static class ProcessMemory
{
    /// <summary>VmHWM: the peak resident set since start or since <see cref="ResetPeak"/>, in bytes.</summary>
    public static long PeakResidentBytes() => StatusField("VmHWM");

    /// <summary>
    /// RssAnon: resident anonymous memory (heap, tensors, libtorch's pools) in bytes. Unlike the resident set it
    /// leaves out pages of memory-mapped checkpoint files, which the kernel can drop at any time.
    /// </summary>
    public static long AnonymousResidentBytes() => StatusField("RssAnon");

    /// <summary>
    /// Resets VmHWM to the current resident set (writing 5 to /proc/self/clear_refs), so that several models
    /// measured one after another in one process each get their own peak. Returns false where that is refused.
    /// </summary>
    public static bool ResetPeak()
    {
        try { File.WriteAllText("/proc/self/clear_refs", "5"); return true; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return false; }
    }

    /// <summary>The one-minute load average from /proc/loadavg, or 0 where it cannot be read.</summary>
    public static double LoadAverage()
    {
        try
        {
            var first = File.ReadAllText("/proc/loadavg").Split(' ')[0];
            return double.Parse(first, System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException) { return 0; }
    }

    static long StatusField(string name)
    {
        const string path = "/proc/self/status";
        if (!File.Exists(path)) return 0;
        foreach (var line in File.ReadLines(path))
        {
            if (!line.StartsWith(name + ":", StringComparison.Ordinal)) continue;
            // "VmHWM:\t    1968 kB": a tab, then padding spaces
            var parts = line[(name.Length + 1)..].Split((char[])[' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length != 2 || parts[1] != "kB" || !long.TryParse(parts[0], out long kib))
                throw new FormatException($"{path}: field {name} reads '{line}', expected '<number> kB'");
            return kib * 1024;
        }
        return 0;
    }
}
