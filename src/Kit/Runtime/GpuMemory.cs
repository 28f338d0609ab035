using System.Diagnostics;
using System.Globalization;

namespace Kit.Runtime;

/// <summary>
/// GPU memory this process holds, as the NVIDIA driver reports it through <c>nvidia-smi</c>: TorchSharp exposes no
/// CUDA allocator statistics, and the driver's figure is the one that decides whether a model fits (it includes the
/// CUDA context and the caching allocator's reserve, as <c>nvidia-smi</c> shows users).
/// </summary>
public static class GpuMemory
{
    /// <summary>Bytes this process holds on all NVIDIA GPUs, or null when <c>nvidia-smi</c> is missing or fails.</summary>
    public static long? ProcessBytes()
    {
        try
        {
            using var smi = Process.Start(new ProcessStartInfo("nvidia-smi", "--query-compute-apps=pid,used_memory --format=csv,noheader,nounits")
            {
                RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            });
            if (smi is null) return null;
            string output = smi.StandardOutput.ReadToEnd();
            if (!smi.WaitForExit(5000) || smi.ExitCode != 0) return null;
            return Parse(output, Environment.ProcessId);
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;   // no nvidia-smi on this machine
        }
    }

    /// <summary>
    /// The bytes <paramref name="pid"/> holds in <c>nvidia-smi --query-compute-apps=pid,used_memory --format=csv,noheader,nounits</c>
    /// output (one line per process and GPU, memory in MiB), summed over GPUs; 0 when the process is not listed.
    /// </summary>
    public static long Parse(string output, int pid)
    {
        long mib = 0;
        foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var fields = line.Split(',', StringSplitOptions.TrimEntries);
            if (fields.Length == 2 && int.TryParse(fields[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out int p) && p == pid
                && long.TryParse(fields[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out long used))
                mib += used;
        }
        return mib * 1024 * 1024;
    }
}

/// <summary>Reads a figure on a background thread at a fixed interval and keeps the largest, until disposed.</summary>
public sealed class PeakSampler : IDisposable
{
    readonly Func<long?> read;
    readonly CancellationTokenSource stop = new();
    readonly Thread thread;
    long peak = -1;

    /// <summary>Starts sampling <paramref name="read"/> (null readings are skipped) every <paramref name="interval"/>.</summary>
    public PeakSampler(Func<long?> read, TimeSpan interval)
    {
        this.read = read;
        Sample();
        thread = new Thread(() =>
        {
            while (!stop.Token.WaitHandle.WaitOne(interval)) Sample();
        }) { IsBackground = true, Name = "Kit peak sampler" };
        thread.Start();
    }

    /// <summary>The largest reading so far, or null when every reading was null.</summary>
    public long? Peak => Interlocked.Read(ref peak) is var p && p >= 0 ? p : null;

    void Sample()
    {
        if (read() is not long value) return;
        long seen;
        while (value > (seen = Interlocked.Read(ref peak)) && Interlocked.CompareExchange(ref peak, value, seen) != seen) { }
    }

    /// <summary>Takes a last reading and stops the thread.</summary>
    public void Dispose()
    {
        if (stop.IsCancellationRequested) return;
        stop.Cancel();
        thread.Join();
        Sample();
        stop.Dispose();
    }
}
