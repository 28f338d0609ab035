namespace Kit.Runtime;

/// <summary>The machine's memory as Linux reports it in /proc/meminfo.</summary>
public static class SystemMemory
{
    const string MemInfo = "/proc/meminfo";

    /// <summary>
    /// MemAvailable: what new allocations can take without swapping (free memory plus reclaimable page cache), in
    /// bytes; null where /proc/meminfo is unavailable.
    /// </summary>
    public static long? AvailableBytes()
    {
        if (!File.Exists(MemInfo)) return null;
        foreach (var line in File.ReadLines(MemInfo))
        {
            if (!line.StartsWith("MemAvailable:", StringComparison.Ordinal)) continue;
            var parts = line["MemAvailable:".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length != 2 || parts[1] != "kB" || !long.TryParse(parts[0], out long kib))
                throw new FormatException($"{MemInfo}: MemAvailable reads '{line}', expected '<number> kB'");
            return kib * 1024;
        }
        return null;
    }
}
