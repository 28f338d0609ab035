using Kit.Evaluation.Results;

namespace Kit.Benchmarks.Serving;

/// <summary>
/// A serving load run as rows of the results table (<see cref="ResultsTable"/>), beside <c>kit bench sweep</c>'s speed
/// rows: kind "speed", task "serve", the served model in the model column, the number of concurrent clients in the
/// batch column, the prompt length asked for and <c>max_tokens</c> in the prompt and new-token columns, and the
/// successful requests as the count.
/// </summary>
public static class ServeRecords
{
    /// <summary>The task of a serving run's rows.</summary>
    public const string ServeTask = "serve";

    /// <summary>The metric names of a run's rows, in the order they are written.</summary>
    public static readonly IReadOnlyList<string> Metrics =
    [
        "ttft_ms_p50", "ttft_ms_p90", "ttft_ms_p99", "itl_ms_p50", "itl_ms_p90", "itl_ms_p99", "request_ms_p50", "request_ms_p99",
        "requests_per_s", "generated_tokens_per_s", "generated_tokens", "errors",
    ];

    /// <summary>The rows of <paramref name="result"/> for run <paramref name="runId"/> started at <paramref name="time"/>.</summary>
    public static IReadOnlyList<EvaluationRecord> From(ServeLoadResult result, string runId, DateTime time)
    {
        var (t, i, r) = (result.TimeToFirstTokenMs, result.InterTokenLatencyMs, result.RequestLatencyMs);
        double[] values =
        [
            t.P50, t.P90, t.P99, i.P50, i.P90, i.P99, r.P50, r.P99,
            result.RequestsPerSecond, result.GeneratedTokensPerSecond, result.GeneratedTokens, result.Errors,
        ];
        return Metrics.Select((metric, k) => new EvaluationRecord(runId, time, result.Model, null, ServeTask, metric, values[k], double.NaN,
            result.Succeeded, null, Kind: ResultKinds.Speed, Batch: result.Clients, PromptTokens: result.PromptTokens, NewTokens: result.MaxTokens)).ToArray();
    }
}
