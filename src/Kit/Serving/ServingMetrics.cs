using System.Collections.Concurrent;
using System.Globalization;
using System.Text;

namespace Kit.Serving;

/// <summary>
/// The server's counters, gauges and histograms, rendered in Prometheus' text format for <c>GET /metrics</c>
/// (the names follow vLLM's with a <c>kit_</c> prefix). Safe to update from the scheduler loop and request threads.
/// </summary>
public sealed class ServingMetrics
{
    readonly ConcurrentDictionary<(string Route, int Status), long> requests = new();
    long promptTokens, generationTokens, cancelled;
    int running, waiting;

    /// <summary>Seconds from a request's arrival to its first token (queueing and prefill).</summary>
    public Histogram TimeToFirstToken { get; } = new([0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10]);
    /// <summary>Seconds between consecutive tokens of one request.</summary>
    public Histogram InterTokenLatency { get; } = new([0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2.5]);
    /// <summary>Sequences decoded together by each scheduler step.</summary>
    public Histogram BatchOccupancy { get; } = new([1, 2, 4, 8, 16, 32, 64, 128, 256]);

    /// <summary>Sequences in the running batch now.</summary>
    public int Running => Volatile.Read(ref running);
    /// <summary>Requests waiting for a place in the batch now.</summary>
    public int Waiting => Volatile.Read(ref waiting);
    /// <summary>Requests whose client went away before they finished.</summary>
    public long Cancelled => Interlocked.Read(ref cancelled);
    /// <summary>Prompt tokens of every admitted request.</summary>
    public long PromptTokens => Interlocked.Read(ref promptTokens);
    /// <summary>Tokens generated for every request.</summary>
    public long GenerationTokens => Interlocked.Read(ref generationTokens);

    internal void CountRequest(string route, int status) => requests.AddOrUpdate((route, status), 1, (_, n) => n + 1);
    internal void AddPromptTokens(int n) => Interlocked.Add(ref promptTokens, n);
    internal void AddGenerationTokens(int n) => Interlocked.Add(ref generationTokens, n);
    internal void CountCancelled() => Interlocked.Increment(ref cancelled);
    internal void SetQueues(int runningNow, int waitingNow)
    {
        Volatile.Write(ref running, runningNow);
        Volatile.Write(ref waiting, waitingNow);
    }

    /// <summary>All metrics in Prometheus' text exposition format (version 0.0.4).</summary>
    public string ToPrometheusText()
    {
        var w = new StringBuilder();
        w.Append("# HELP kit_requests_total HTTP requests by route and status code.\n# TYPE kit_requests_total counter\n");
        foreach (var ((route, status), n) in requests.OrderBy(r => r.Key.Route, StringComparer.Ordinal).ThenBy(r => r.Key.Status))
            w.Append($"kit_requests_total{{route=\"{route}\",status=\"{status}\"}} {n}\n");
        Counter(w, "kit_prompt_tokens_total", "Prompt tokens of admitted requests.", PromptTokens);
        Counter(w, "kit_generation_tokens_total", "Generated tokens.", GenerationTokens);
        Counter(w, "kit_requests_cancelled_total", "Requests whose client disconnected before they finished.", Cancelled);
        Gauge(w, "kit_num_requests_running", "Sequences in the running batch.", Running);
        Gauge(w, "kit_num_requests_waiting", "Requests waiting to join the batch.", Waiting);
        TimeToFirstToken.Write(w, "kit_time_to_first_token_seconds", "Seconds from a request's arrival to its first token.");
        InterTokenLatency.Write(w, "kit_inter_token_latency_seconds", "Seconds between consecutive tokens of a request.");
        BatchOccupancy.Write(w, "kit_batch_occupancy", "Sequences decoded together per scheduler step.");
        return w.ToString();
    }

    static void Counter(StringBuilder w, string name, string help, long value) =>
        w.Append($"# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}\n");

    static void Gauge(StringBuilder w, string name, string help, long value) =>
        w.Append($"# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}\n");
}

/// <summary>A Prometheus histogram: cumulative counts per upper bound, a sum and a count.</summary>
public sealed class Histogram
{
    readonly double[] bounds;
    readonly long[] counts;
    readonly object gate = new();
    double sum;
    long count;

    /// <summary>A histogram with the given ascending upper bounds (+Inf is implied).</summary>
    public Histogram(double[] bounds)
    {
        this.bounds = bounds;
        counts = new long[bounds.Length];
    }

    /// <summary>Observations so far.</summary>
    public long Count { get { lock (gate) return count; } }

    /// <summary>Records one observation.</summary>
    public void Observe(double value)
    {
        lock (gate)
        {
            int i = Array.FindIndex(bounds, b => value <= b);
            if (i >= 0) counts[i]++;
            sum += value;
            count++;
        }
    }

    internal void Write(StringBuilder w, string name, string help)
    {
        lock (gate)
        {
            w.Append($"# HELP {name} {help}\n# TYPE {name} histogram\n");
            long cumulative = 0;
            for (int i = 0; i < bounds.Length; i++)
            {
                cumulative += counts[i];
                w.Append($"{name}_bucket{{le=\"{bounds[i].ToString(CultureInfo.InvariantCulture)}\"}} {cumulative}\n");
            }
            w.Append($"{name}_bucket{{le=\"+Inf\"}} {count}\n{name}_sum {sum.ToString("R", CultureInfo.InvariantCulture)}\n{name}_count {count}\n");
        }
    }
}
