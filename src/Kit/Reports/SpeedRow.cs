using Kit.Benchmarks;
using Kit.Evaluation.Results;

namespace Kit.Reports;

/// <summary>
/// One measured speed point as the speed charts and tables read it: a model (or variant) at one batch size and
/// prompt length, medians only, in plain units. The measurement itself is <see cref="SpeedPoint"/>; a sweep's points
/// (<see cref="From(SpeedPoint)"/>) and its rows in the results table (<see cref="From(IEnumerable{EvaluationRecord})"/>)
/// map onto it one to one.
/// </summary>
/// <param name="Model">The model or variant, as the charts label it (float32, W4A16, ...).</param>
/// <param name="Batch">Sequences decoded together.</param>
/// <param name="PromptTokens">Prompt length per sequence.</param>
/// <param name="TimeToFirstTokenMs">Time to first token (the prefill of the whole batch), milliseconds.</param>
/// <param name="PrefillTokensPerSecond">Prompt tokens processed per second during prefill, whole batch.</param>
/// <param name="DecodeTokensPerSecondPerSequence">Generated tokens per second that one sequence sees.</param>
/// <param name="DecodeTokensPerSecond">Generated tokens per second of the whole batch.</param>
/// <param name="EndToEndTokensPerSecond">Generated tokens of the batch divided by the whole time, prefill included.</param>
/// <param name="PeakMemoryBytes">Peak memory of the run, or null when not measured.</param>
/// <param name="WeightBytes">Bytes the weights hold in memory.</param>
/// <param name="ArithmeticIntensity">Operations per byte moved by one decode step, for the roofline; null when unknown.</param>
/// <param name="AchievedFlopsPerSecond">Operations per second one decode step achieved, for the roofline; null when unknown.</param>
/// <param name="BandwidthFraction">The fraction of the machine's memory bandwidth decode used, or null.</param>
/// <param name="RooflineFraction">Decode's operations per second over what the roofline allows at its intensity (1 is on the roof), or null.</param>
public sealed record SpeedRow(string Model, int Batch, int PromptTokens, double TimeToFirstTokenMs, double PrefillTokensPerSecond,
    double DecodeTokensPerSecondPerSequence, double DecodeTokensPerSecond, double EndToEndTokensPerSecond, long? PeakMemoryBytes,
    long WeightBytes, double? ArithmeticIntensity = null, double? AchievedFlopsPerSecond = null, double? BandwidthFraction = null,
    double? RooflineFraction = null)
{
    /// <summary>The medians of sweep point <paramref name="p"/>, its decode step placed on the roofline.</summary>
    public static SpeedRow From(SpeedPoint p)
    {
        var t = p.Timings;
        return new SpeedRow(p.Model, p.Batch, p.PromptTokens, t.TimeToFirstTokenMs.Median, p.PrefillTokensPerSecond.Median,
            t.DecodeTokensPerSecond.Median, t.BatchDecodeTokensPerSecond.Median, t.EndToEndTokensPerSecond.Median, p.PeakResidentBytes, p.WeightBytes,
            p.Decode.ArithmeticIntensity, p.Decode.AchievedGFlops * 1e9, p.Decode.AchievedGBps / p.Decode.BandwidthGBps, p.Decode.FractionOfRoofline);
    }

    /// <summary>Every point of <paramref name="sweep"/>, in its order.</summary>
    public static IReadOnlyList<SpeedRow> From(SpeedSweepResult sweep) => sweep.Points.Select(From).ToArray();

    /// <summary>
    /// The speed points among results-table rows (<see cref="SpeedRecords"/>; other rows are skipped): one per run, model,
    /// batch and prompt length, in table order. The bandwidth fraction comes from the run's machine rows when it has them.
    /// </summary>
    /// <exception cref="ArgumentException">A point lacks one of the metrics a row needs; the message names the run, model and metric.</exception>
    public static IReadOnlyList<SpeedRow> From(IEnumerable<EvaluationRecord> records)
    {
        var speed = records.Where(r => r.Kind == ResultKinds.Speed).ToList();
        var bandwidth = speed.Where(r => r.Task == SpeedRecords.MachineTask && r.Metric == "bandwidth_gbps")
            .GroupBy(r => r.RunId).ToDictionary(g => g.Key, g => g.Last().Value);
        return speed.Where(r => r.Task == SpeedRecords.SpeedTask && r.Batch is not null && r.PromptTokens is not null)
            .GroupBy(r => (r.RunId, r.Model, Batch: r.Batch!.Value, PromptTokens: r.PromptTokens!.Value))
            .Select(g =>
            {
                var metrics = g.GroupBy(r => r.Metric).ToDictionary(m => m.Key, m => m.Last().Value);
                double Need(string metric) => metrics.TryGetValue(metric, out double v) ? v
                    : throw new ArgumentException($"run {g.Key.RunId}, {g.Key.Model} at batch {g.Key.Batch}, prompt {g.Key.PromptTokens}: no '{metric}' speed row");
                double? Maybe(string metric) => metrics.TryGetValue(metric, out double v) && double.IsFinite(v) ? v : null;
                double? intensity = Maybe("decode_flop_per_byte"), gbps = Maybe("decode_gbps");
                return new SpeedRow(g.Key.Model, g.Key.Batch, g.Key.PromptTokens, Need("ttft_ms"), Need("prefill_tokens_per_s"),
                    Need("decode_tokens_per_s"), Need("batch_decode_tokens_per_s"), Need("end_to_end_tokens_per_s"),
                    Maybe("peak_rss_bytes") is double peak ? (long)peak : null, (long)Need("weight_bytes"),
                    intensity, intensity * gbps * 1e9, bandwidth.TryGetValue(g.Key.RunId, out double bw) ? gbps / bw : null,
                    Maybe("decode_roofline_fraction"));
            }).ToArray();
    }

    /// <summary>
    /// Where <paramref name="challenger"/>'s batch throughput overtakes <paramref name="incumbent"/>'s among <paramref name="rows"/>
    /// (<see cref="Crossover.Find"/>), at <paramref name="promptTokens"/> or else the shortest prompt either was measured at.
    /// </summary>
    /// <exception cref="ArgumentException">Either model has no row at that prompt length, or they share no batch size.</exception>
    public static Crossover FindCrossover(IEnumerable<SpeedRow> rows, string challenger, string incumbent, int? promptTokens = null)
    {
        var list = rows.ToList();
        int prompt = promptTokens ?? list.Where(r => r.Model == challenger || r.Model == incumbent).Select(r => r.PromptTokens).DefaultIfEmpty(0).Min();
        return Crossover.Find(list.Select(r => new ThroughputPoint(r.Model, r.Batch, r.PromptTokens, r.DecodeTokensPerSecond)), challenger, incumbent, prompt);
    }
}
