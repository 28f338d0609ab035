namespace Kit.Runtime;

/// <summary>
/// The process's memory as Linux accounts it in /proc/self/status. Resident memory (VmRSS) also counts pages of
/// memory-mapped checkpoints that were read, which the kernel drops whenever it needs the room; anonymous memory
/// (RssAnon) is what the process really holds: tensors, activations, Hessians, libtorch's pools.
/// </summary>
public static class ProcessMemory
{
    const string Status = "/proc/self/status";

    /// <summary>Anonymous resident bytes now (RssAnon), or the working set where /proc is unavailable.</summary>
    public static long AnonymousBytes() => Field("RssAnon") ?? Environment.WorkingSet;

    /// <summary>Resident bytes of mapped files now (RssFile), or 0 where /proc is unavailable.</summary>
    public static long FileBytes() => Field("RssFile") ?? 0;

    /// <summary>VmHWM: the peak resident set since start or since <see cref="ResetPeak"/>, in bytes; 0 where /proc is unavailable.</summary>
    public static long PeakResidentBytes() => Field("VmHWM") ?? 0;

    /// <summary>
    /// Resets VmHWM to the current resident set (writing 5 to /proc/self/clear_refs), so that several models
    /// measured one after another in one process each get their own peak. Returns false where that is refused.
    /// </summary>
    public static bool ResetPeak()
    {
        try { File.WriteAllText("/proc/self/clear_refs", "5"); return true; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return false; }
    }

    static long? Field(string name)
    {
        if (!File.Exists(Status)) return null;
        foreach (var line in File.ReadLines(Status))
        {
            if (!line.StartsWith(name + ":", StringComparison.Ordinal)) continue;
            // "VmHWM:\t    1968 kB": a tab, then padding spaces
            var parts = line[(name.Length + 1)..].Split((char[])[' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length != 2 || parts[1] != "kB" || !long.TryParse(parts[0], out long kib))
                throw new FormatException($"{Status}: field {name} reads '{line}', expected '<number> kB'");
            return kib * 1024;
        }
        return null;
    }
}

/// <summary>Keeps the largest anonymous-memory reading among the moments it is asked to sample.</summary>
public sealed class PeakMemory
{
    /// <summary>The largest sample so far.</summary>
    public long AnonymousBytes { get; private set; }

    /// <summary>Takes a reading.</summary>
    public void Sample() => AnonymousBytes = Math.Max(AnonymousBytes, ProcessMemory.AnonymousBytes());
}
