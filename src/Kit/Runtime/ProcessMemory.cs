namespace Kit.Runtime;

/// <summary>
/// The process's memory as Linux accounts it. Resident memory (VmRSS) also counts pages of memory-mapped
/// checkpoints that were read, which the kernel drops whenever it needs the room; anonymous memory
/// (RssAnon) is what the process really holds: tensors, activations, Hessians.
/// </summary>
public static class ProcessMemory
{
    /// <summary>Anonymous resident bytes now (RssAnon), or the working set where /proc is unavailable.</summary>
    public static long AnonymousBytes() => Read("RssAnon:") ?? Environment.WorkingSet;

    /// <summary>Resident bytes of mapped files now (RssFile), or 0 where /proc is unavailable.</summary>
    public static long FileBytes() => Read("RssFile:") ?? 0;

    static long? Read(string field)
    {
        const string status = "/proc/self/status";
        if (!File.Exists(status)) return null;
        foreach (var line in File.ReadLines(status))
            if (line.StartsWith(field, StringComparison.Ordinal))
                return long.Parse(line[field.Length..].Trim().Split(' ')[0]) * 1024;
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
