using Kit.Evaluation.Agreement;
using Kit.Evaluation.Results;
using Kit.Evaluation.Tasks;
using Microsoft.Data.Analysis;

namespace Kit.Reports;

/// <summary>The tables Kit shows, built once here for reports, notebooks and the CLI.</summary>
public static class Tables
{
    /// <summary>
    /// Results-table rows as read: the model's short name, task, metric, the value in the metric's unit
    /// (accuracies and agreement as percentages, KL in nats), its standard error and the count it averages over.
    /// The run id column appears only when the rows come from more than one run; baseline, limit and BOS columns only when some row has them.
    /// </summary>
    public static ReadableTable Results(IEnumerable<EvaluationRecord> records)
    {
        var rows = records.ToList();
        bool severalRuns = rows.Select(r => r.RunId).Distinct().Count() > 1;
        return ReadableTable.Of(rows,
            (new TableColumn("run"), r => severalRuns ? r.RunId : ""),
            (new TableColumn("model"), r => Readable.Model(r.Model)),
            (new TableColumn("baseline"), r => r.Baseline is null ? "" : Readable.Model(r.Baseline)),
            (new TableColumn("task"), r => r.Task),
            (new TableColumn("metric"), r => r.Metric),
            (new TableColumn("value", Numeric: true), r => MetricValue(r.Metric, r.Value)),
            (new TableColumn("± stderr", Numeric: true), r => double.IsNaN(r.StdErr) ? "" : MetricValue(r.Metric, r.StdErr)),
            (new TableColumn("n", Numeric: true), r => Readable.Count(r.Count)),
            (new TableColumn("limit", Numeric: true), r => r.Limit is int l ? Readable.Count(l) : ""),
            (new TableColumn("BOS"), r => r.AddBosToken ?? ""));
    }

    /// <summary>The results table <paramref name="frame"/> (as <see cref="ResultsTable.Load"/> gives it) read the same way as <see cref="Results(IEnumerable{EvaluationRecord})"/>.</summary>
    /// <exception cref="ArgumentException">The frame lacks a results-table column.</exception>
    public static ReadableTable Results(DataFrame frame) => Results(ResultsTable.FromDataFrame(frame));

    /// <summary>A value in its metric's unit: accuracies and agreement as percentages, KL in nats, others as plain numbers.</summary>
    public static string MetricValue(string metric, double value) => metric switch
    {
        TaskMetrics.Acc or TaskMetrics.AccNorm or "top1_agreement" or "recovery" => Readable.Percent(value),
        "kl_mean" or "kl_max" => Readable.WithUnit(value, "nats"),
        _ => Readable.Number(value),
    };

    /// <summary>Per-module reconstruction errors, layer by layer, as recorded by compression.</summary>
    public static ReadableTable LayerErrors(IEnumerable<LayerError> errors) => ReadableTable.Of(errors,
        (new TableColumn("layer", Numeric: true), e => Readable.Count(e.Layer)),
        (new TableColumn("module"), e => e.Module),
        (new TableColumn("relative error", Numeric: true), e => Readable.Number(e.RelativeError)),
        (new TableColumn("error per token", Numeric: true), e => Readable.Number(e.ErrorPerToken)),
        (new TableColumn("sparsity", Numeric: true), e => e.Sparsity > 0 ? Readable.Percent(e.Sparsity) : ""));

    /// <summary>Speed rows: one per model, batch and prompt length, in units.</summary>
    public static ReadableTable Speed(IEnumerable<SpeedRow> points) => ReadableTable.Of(points,
        (new TableColumn("model"), p => Readable.Model(p.Model)),
        (new TableColumn("batch", Numeric: true), p => Readable.Count(p.Batch)),
        (new TableColumn("prompt", Numeric: true), p => Readable.Count(p.PromptTokens)),
        (new TableColumn("first token", Numeric: true), p => Readable.Milliseconds(p.TimeToFirstTokenMs)),
        (new TableColumn("prefill", Numeric: true), p => Readable.TokensPerSecond(p.PrefillTokensPerSecond)),
        (new TableColumn("decode / seq", Numeric: true), p => Readable.TokensPerSecond(p.DecodeTokensPerSecondPerSequence)),
        (new TableColumn("decode / batch", Numeric: true), p => Readable.TokensPerSecond(p.DecodeTokensPerSecond)),
        (new TableColumn("end to end", Numeric: true), p => Readable.TokensPerSecond(p.EndToEndTokensPerSecond)),
        (new TableColumn("peak memory", Numeric: true), p => Readable.Bytes(p.PeakMemoryBytes)),
        (new TableColumn("weights", Numeric: true), p => Readable.Bytes(p.WeightBytes)),
        (new TableColumn("of bandwidth", Numeric: true), p => Readable.Percent(p.BandwidthFraction)),
        (new TableColumn("of roofline", Numeric: true), p => Readable.Percent(p.RooflineFraction)));

    /// <summary>
    /// Serving load runs as a client saw them: one row per run (server, model, concurrent clients), latency percentiles
    /// and the throughput of all clients together.
    /// </summary>
    public static ReadableTable Serve(IEnumerable<Benchmarks.Serving.ServeLoadResult> runs) => ReadableTable.Of(runs,
        (new TableColumn("endpoint"), x => x.Endpoint),
        (new TableColumn("model"), x => Readable.Model(x.Model)),
        (new TableColumn("clients", Numeric: true), x => Readable.Count(x.Clients)),
        (new TableColumn("requests ok", Numeric: true), x => $"{Readable.Count(x.Succeeded)} / {Readable.Count(x.Requests)}"),
        (new TableColumn("first token p50 / p90 / p99", Numeric: true), x => Trio(x.TimeToFirstTokenMs)),
        (new TableColumn("between tokens p50 / p90 / p99", Numeric: true), x => Trio(x.InterTokenLatencyMs)),
        (new TableColumn("requests", Numeric: true), x => Readable.WithUnit(x.RequestsPerSecond, "req/s")),
        (new TableColumn("generated", Numeric: true), x => Readable.TokensPerSecond(x.GeneratedTokensPerSecond)),
        (new TableColumn("tokens / request", Numeric: true), x => Readable.Number(x.Succeeded > 0 ? x.GeneratedTokens / (double)x.Succeeded : null)),
        (new TableColumn("errors", Numeric: true), x => Readable.Count(x.Errors)));

    static string Trio(Benchmarks.Serving.Percentiles p) => p.Count == 0 ? Readable.Missing
        : $"{Readable.Number(p.P50)} / {Readable.Number(p.P90)} / {Readable.Number(p.P99)} ms";

    /// <summary>
    /// Batch-1 decode as measured here beside what each published GPU's bandwidth would allow for the same weights
    /// (bandwidth ÷ weight bytes, a ceiling computed from the datasheet, not a measurement): one row per model.
    /// </summary>
    public static ReadableTable GpuDecodeCeilings(IEnumerable<SpeedRow> points, IReadOnlyList<Planning.PublishedGpu> gpus)
    {
        var batchOne = points.Where(p => p.Batch == 1).GroupBy(p => p.Model).Select(g => g.First()).ToList();
        var columns = new List<(TableColumn, Func<SpeedRow, string>)>
        {
            (new TableColumn("model"), p => Readable.Model(p.Model)),
            (new TableColumn("weights", Numeric: true), p => Readable.Bytes(p.WeightBytes)),
            (new TableColumn("measured here", Numeric: true), p => Readable.TokensPerSecond(p.DecodeTokensPerSecondPerSequence)),
        };
        columns.AddRange(gpus.Select(gpu => (new TableColumn($"{gpu.Name} (computed)", Numeric: true),
            (Func<SpeedRow, string>)(p => "≤ " + Readable.TokensPerSecond(gpu.DecodeCeilingTokensPerSecond(p.WeightBytes))))));
        return ReadableTable.Of(batchOne, [.. columns]);
    }

    /// <summary>
    /// Any DataFrame, readable: numbers to three significant digits (a column whose name ends in a unit such as
    /// "ms", "GB" or "tok/s" keeps it in the header), percentages for columns named with "%" or "fraction", nulls and
    /// NaNs as a dash.
    /// </summary>
    public static ReadableTable Frame(DataFrame frame)
    {
        var columns = frame.Columns.ToList();
        var header = columns.Select(c => new TableColumn(c.Name, IsNumeric(c))).ToArray();
        var rows = new List<IReadOnlyList<string>>();
        for (long i = 0; i < frame.Rows.Count; i++)
            rows.Add(columns.Select(c => Cell(c, c[i])).ToArray());
        return new ReadableTable(header, rows);

        static bool IsNumeric(DataFrameColumn c) => c.DataType != typeof(string) && c.DataType != typeof(bool) && c.DataType != typeof(DateTime);

        static string Cell(DataFrameColumn column, object? value)
        {
            bool percent = column.Name.Contains('%') || column.Name.Contains("fraction", StringComparison.OrdinalIgnoreCase);
            return value switch
            {
                null => Readable.Missing,
                string s => s.Length == 0 ? Readable.Missing : s,
                double d => percent ? Readable.Percent(d) : Readable.Number(d),
                float f => percent ? Readable.Percent(f) : Readable.Number(f),
                int or long or short or byte or uint or ulong => Readable.Count(Convert.ToInt64(value)),
                DateTime t => t.ToString("yyyy-MM-dd HH:mm:ss"),
                _ => value.ToString() ?? Readable.Missing,
            };
        }
    }
}
