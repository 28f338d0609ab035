using Kit.Benchmarks;
using Kit.Reports.Charts;

namespace Kit.Reports;

/// <summary>The HTML report of a speed sweep: the rows as a table, and time to first token, throughput, crossover, memory and roofline charts.</summary>
public static class SpeedReport
{
    /// <summary>The report's file name inside the run's folder (<c>RUNS/sweep-RUNID/</c>).</summary>
    public const string FileName = "report.html";

    /// <summary>
    /// Builds the report of <paramref name="rows"/>. <paramref name="roofs"/> add the roofline (rows need an arithmetic
    /// intensity to appear on it); each of <paramref name="crossovers"/> (<see cref="Crossover.Find"/>, or
    /// <see cref="SpeedRow.FindCrossover"/>) adds where its challenger overtakes its incumbent, in words and as a chart.
    /// </summary>
    /// <exception cref="ArgumentException">There are no rows.</exception>
    public static HtmlReport Build(IReadOnlyList<SpeedRow> rows, IReadOnlyList<Roofline>? roofs = null, IReadOnlyList<Crossover>? crossovers = null,
        string title = "Speed")
    {
        if (rows.Count == 0) throw new ArgumentException("a speed report needs at least one measured point", nameof(rows));
        var report = new HtmlReport(title);
        foreach (var roof in roofs ?? [])
            report.Paragraph($"{roof.Label}: memory bandwidth {Readable.BytesPerSecond(roof.BandwidthBytesPerSecond)}, " +
                $"compute ceiling {Readable.FlopsPerSecond(roof.PeakFlopsPerSecond)} (ridge at {Readable.Number(roof.RidgeIntensity)} operations per byte).");
        report.Heading("Measurements").Table(Tables.Speed(rows));
        report.Heading("Interactive use: latency").Chart(SpeedCharts.TimeToFirstToken(rows)).Chart(SpeedCharts.PerSequenceSpeed(rows));
        report.Heading("Batch jobs: throughput").Chart(SpeedCharts.Throughput(rows));
        foreach (var c in crossovers ?? [])
            report.Paragraph(Verdict(c)).Chart(SpeedCharts.Crossover(rows, c));
        report.Heading("Memory").Chart(SpeedCharts.Memory(rows));
        if (roofs is { Count: > 0 }) report.Heading("Roofline").Chart(SpeedCharts.Roofline(rows, [.. roofs]));
        return report;
    }

    /// <summary>Where the challenger overtakes the incumbent, in a sentence (the report's, and a notebook's).</summary>
    public static string Verdict(Crossover crossover)
    {
        string verdict = crossover.Batch is int b
            ? $"{Readable.Model(crossover.Challenger)} overtakes {Readable.Model(crossover.Incumbent)} in batch throughput from batch {b} on."
            : $"{Readable.Model(crossover.Challenger)} does not overtake {Readable.Model(crossover.Incumbent)} at the batch sizes measured.";
        string estimate = crossover.EstimatedBatch is double at ? $" Their throughputs are equal at batch ≈ {Readable.Number(at)} (interpolated)." : "";
        return $"{crossover.PromptTokens}-token prompts: {verdict}{estimate}";
    }

    /// <summary>The report of <paramref name="sweep"/>: its points under its machine's measured roofs, with <paramref name="crossovers"/>.</summary>
    public static HtmlReport Build(SpeedSweepResult sweep, IReadOnlyList<Crossover>? crossovers = null, string title = "Speed") =>
        Build(SpeedRow.From(sweep), Roofline.Measured(sweep.Machine), crossovers, title);

    /// <summary>Builds the report of sweep <paramref name="runId"/> and writes it to <paramref name="runsFolder"/>/sweep-RUNID/report.html; returns its path.</summary>
    public static string Write(SpeedSweepResult sweep, IReadOnlyList<Crossover> crossovers, string runsFolder, string runId) =>
        Build(sweep, crossovers, $"Speed sweep {runId}").Write(Path.Combine(runsFolder, "sweep-" + runId, FileName));
}
