using Kit.Reports.Charts;

namespace Kit.Reports;

/// <summary>The HTML report of a speed sweep: the rows as a table, and time to first token, throughput, memory, roofline and crossover charts.</summary>
public static class SpeedReport
{
    /// <summary>
    /// Builds the report of <paramref name="points"/>. <paramref name="machine"/> adds the roofline (points need an
    /// arithmetic intensity to appear on it); <paramref name="crossover"/> names the format that wins at batch 1 and the
    /// one expected to overtake it at large batches, and adds their crossover in words and as a chart.
    /// </summary>
    /// <exception cref="ArgumentException">There are no points.</exception>
    public static HtmlReport Build(IReadOnlyList<SpeedPoint> points, MachineCeilings? machine = null,
        (string Incumbent, string Challenger)? crossover = null, string title = "Speed")
    {
        if (points.Count == 0) throw new ArgumentException("a speed report needs at least one measured point", nameof(points));
        var report = new HtmlReport(title);
        if (machine is not null)
            report.Paragraph($"{machine.Label}: memory bandwidth {Readable.BytesPerSecond(machine.BandwidthBytesPerSecond)}, " +
                $"compute ceiling {Readable.FlopsPerSecond(machine.PeakFlopsPerSecond)} (ridge at {Readable.Number(machine.RidgeIntensity)} operations per byte).");
        report.Heading("Measurements").Table(Tables.Speed(points));
        report.Heading("Interactive use: latency").Chart(SpeedCharts.TimeToFirstToken(points)).Chart(SpeedCharts.PerSequenceSpeed(points));
        report.Heading("Batch jobs: throughput").Chart(SpeedCharts.Throughput(points));
        if (crossover is var (incumbent, challenger))
        {
            int? batch = SpeedCharts.CrossoverBatch(points, incumbent, challenger);
            report.Paragraph(batch is int b
                ? $"{challenger} overtakes {incumbent} in batch throughput from batch {b} on."
                : $"{challenger} does not overtake {incumbent} at the batch sizes measured.");
            report.Chart(SpeedCharts.Crossover(points, incumbent, challenger));
        }
        report.Heading("Memory").Chart(SpeedCharts.Memory(points));
        if (machine is not null) report.Heading("Roofline").Chart(SpeedCharts.Roofline(points, machine));
        return report;
    }
}
