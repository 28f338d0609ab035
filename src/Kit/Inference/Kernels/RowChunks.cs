namespace Kit.Inference.Kernels;

/// <summary>
/// Splits a CPU kernel's output rows over the cores: contiguous ranges, a few per core so that a core slowed by
/// another process does not hold up the call. Small calls run on the calling thread.
/// </summary>
internal static class RowChunks
{
    // Below this many multiply-adds a call finishes before a second thread would start.
    const long ParallelThreshold = 1L << 18;
    // Fewer rows per chunk than this cost more in scheduling than they save.
    const int MinRowsPerChunk = 16;

    /// <summary>Calls <paramref name="body"/>(start, end) over [0, <paramref name="rows"/>), in parallel when <paramref name="multiplyAdds"/> make it worth it.</summary>
    public static void For(int rows, long multiplyAdds, Action<int, int> body)
    {
        int cores = Environment.ProcessorCount;
        if (cores == 1 || multiplyAdds < ParallelThreshold)
        {
            body(0, rows);
            return;
        }
        int chunks = Math.Min(cores * 4, Math.Max(1, rows / MinRowsPerChunk));
        Parallel.For(0, chunks, new ParallelOptions { MaxDegreeOfParallelism = cores }, c =>
            body((int)((long)rows * c / chunks), (int)((long)rows * (c + 1) / chunks)));
    }
}
