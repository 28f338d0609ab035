using Kit.Evaluation.Results;

namespace Kit.Benchmarks;

/// <summary>
/// A speed sweep as rows of the results table (<see cref="ResultsTable"/>), beside <c>kit eval</c>'s accuracy rows:
/// kind "speed", task "speed" for a point's figures (batch, prompt and new tokens in their columns) and task
/// "machine" for the ceilings it ran under. Values are medians over the repeats; count is the number of repeats.
/// </summary>
public static class SpeedRecords
{
    /// <summary>The task of a sweep point's rows.</summary>
    public const string SpeedTask = "speed";
    /// <summary>The task (and model) of the machine's ceilings.</summary>
    public const string MachineTask = "machine";

    /// <summary>The metric names of a point's rows, in the order they are written.</summary>
    public static readonly IReadOnlyList<string> Metrics =
    [
        "ttft_ms", "prefill_tokens_per_s", "decode_tokens_per_s", "batch_decode_tokens_per_s", "end_to_end_tokens_per_s",
        "peak_rss_bytes", "peak_anon_bytes", "weight_bytes",
        "prefill_flop_per_byte", "prefill_gflops", "prefill_roofline_fraction",
        "decode_flop_per_byte", "decode_gbps", "decode_roofline_fraction", "load_average",
    ];

    /// <summary>The rows of <paramref name="sweep"/> for run <paramref name="runId"/> started at <paramref name="time"/>.</summary>
    public static IReadOnlyList<EvaluationRecord> From(SpeedSweepResult sweep, string runId, DateTime time)
    {
        var m = sweep.Machine;
        var rows = new List<EvaluationRecord>
        {
            Machine("bandwidth_gbps", m.BandwidthGBps), Machine("f32_gflops", m.Float32GFlops), Machine("int8_gops", m.Int8GOps),
        };
        foreach (var p in sweep.Points)
        {
            var t = p.Timings;
            double[] values =
            [
                t.TimeToFirstTokenMs.Median, p.PrefillTokensPerSecond.Median, t.DecodeTokensPerSecond.Median, t.BatchDecodeTokensPerSecond.Median,
                t.EndToEndTokensPerSecond.Median, p.PeakResidentBytes, p.PeakAnonymousBytes, p.WeightBytes,
                p.Prefill.ArithmeticIntensity, p.Prefill.AchievedGFlops, p.Prefill.FractionOfRoofline,
                p.Decode.ArithmeticIntensity, p.Decode.AchievedGBps, p.Decode.FractionOfRoofline, p.LoadAverage,
            ];
            rows.AddRange(Metrics.Select((metric, i) => new EvaluationRecord(runId, time, p.Model, null, SpeedTask, metric, values[i], double.NaN,
                p.Repeats, null, Kind: ResultKinds.Speed, Batch: p.Batch, PromptTokens: p.PromptTokens, NewTokens: p.NewTokens)));
        }
        return rows;

        EvaluationRecord Machine(string metric, double value) => new(runId, time, MachineTask, null, MachineTask, metric, value, double.NaN, 1, null,
            Kind: ResultKinds.Speed);
    }

    /// <summary>
    /// One metric of the speed rows among <paramref name="records"/> as throughput points for <see cref="Crossover.Find"/>
    /// (by default the batch's decode tokens/s).
    /// </summary>
    public static IReadOnlyList<ThroughputPoint> Throughput(IEnumerable<EvaluationRecord> records, string metric = "batch_decode_tokens_per_s") =>
        records.Where(r => r.Kind == ResultKinds.Speed && r.Task == SpeedTask && r.Metric == metric && r.Batch is not null && r.PromptTokens is not null)
            .Select(r => new ThroughputPoint(r.Model, r.Batch!.Value, r.PromptTokens!.Value, r.Value)).ToArray();
}
