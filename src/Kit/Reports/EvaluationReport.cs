using Kit.Evaluation;
using Kit.Evaluation.Results;
using Kit.Reports.Charts;

namespace Kit.Reports;

/// <summary>The HTML report of one <c>kit eval</c> run: its rows, charts of its scores, and the models of the whole results table side by side.</summary>
public static class EvaluationReport
{
    /// <summary>The report's file name inside the run's folder (<c>RUNS/eval-RUNID/</c>).</summary>
    public const string FileName = "report.html";

    /// <summary>
    /// Builds the report of <paramref name="run"/>; <paramref name="table"/> (every row of the results table the run
    /// appended to) adds a comparison of all models in it, latest score per model, task and metric.
    /// </summary>
    public static HtmlReport Build(EvaluationRun run, IReadOnlyList<EvaluationRecord>? table = null)
    {
        var models = run.Records.Select(r => Readable.Model(r.Model)).Distinct().ToList();
        var report = new HtmlReport($"Evaluation {run.RunId}");
        report.Paragraph($"{string.Join(", ", models)}: {run.Records.Count} results in {Readable.Seconds(run.Seconds)}.");
        report.Heading("Results").Table(Tables.Results(run.Records));
        report.Chart(AccuracyCharts.TaskScores(run.Records)).Chart(AccuracyCharts.Perplexity(run.Records));
        var measured = run.LayerErrors.Where(e => double.IsFinite(e.RelativeError)).ToList();
        if (measured.Count > 0)
        {
            report.Heading("Where the error comes from");
            report.Paragraph("Relative reconstruction error ‖WX − ŴX‖² / ‖WX‖² of each Linear on its calibration inputs, from the model's compression report; the five largest:");
            report.Table(Tables.LayerErrors(measured.OrderByDescending(e => e.RelativeError).Take(5)));
            report.Chart(AccuracyCharts.LayerErrors(measured));
        }
        // Earlier runs in the table: compare this run's models with theirs.
        if (table is not null && table.Any(r => r.RunId != run.RunId))
        {
            var latest = Latest(table);
            if (latest.Select(r => r.Model).Distinct().Count() > 1)
            {
                report.Heading("Every model in the results table");
                report.Paragraph("The latest score of each model on each task and metric, across all runs in the table.");
                report.Chart(AccuracyCharts.TaskScores(latest)).Chart(AccuracyCharts.Perplexity(latest));
                report.Table(Tables.Results(latest));
            }
        }
        return report;
    }

    /// <summary>Builds the report and writes it to <paramref name="runsFolder"/>/eval-RUNID/report.html; returns its path.</summary>
    public static string Write(EvaluationRun run, string runsFolder) =>
        Build(run, ResultsTable.Read(runsFolder)).Write(Path.Combine(runsFolder, "eval-" + run.RunId, FileName));

    // Rows of the same model, baseline, task and metric replace earlier ones.
    static List<EvaluationRecord> Latest(IEnumerable<EvaluationRecord> table) => table
        .GroupBy(r => (r.Model, r.Baseline, r.Task, r.Metric))
        .Select(g => g.MaxBy(r => r.Time)!)
        .OrderBy(r => r.Task).ThenBy(r => r.Metric).ThenBy(r => r.Model)
        .ToList();
}
