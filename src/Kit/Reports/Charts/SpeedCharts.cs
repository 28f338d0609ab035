using Kit.Benchmarks;
using Plotly.NET;
using BatchCrossover = Kit.Benchmarks.Crossover;
using CSharpChart = Plotly.NET.CSharp.Chart;

namespace Kit.Reports.Charts;

/// <summary>
/// Charts of speed: time to first token and tokens per second against batch size per model, memory, the roofline
/// and the batch size at which one format overtakes another. Each takes <see cref="SpeedRow"/>s, or a whole
/// <see cref="SpeedSweepResult"/> so that a notebook cell is <c>SpeedCharts.Throughput(sweep)</c>.
/// </summary>
public static class SpeedCharts
{
    /// <summary>Time to first token against batch size (log axis), one line per model (and prompt length, when there are several).</summary>
    public static GenericChart TimeToFirstToken(IEnumerable<SpeedRow> points) =>
        Lines(points, p => p.TimeToFirstTokenMs).Styled("Time to first token", "batch size", "time to first token (ms)", logX: true);

    /// <summary>Decode tokens per second of the whole batch against batch size (log axis), one line per model.</summary>
    public static GenericChart Throughput(IEnumerable<SpeedRow> points) =>
        Lines(points, p => p.DecodeTokensPerSecond).Styled("Throughput", "batch size", "decode tokens/s (whole batch)", logX: true);

    /// <summary>Decode tokens per second one sequence sees against batch size: what an interactive user feels.</summary>
    public static GenericChart PerSequenceSpeed(IEnumerable<SpeedRow> points) =>
        Lines(points, p => p.DecodeTokensPerSecondPerSequence).Styled("Speed per sequence", "batch size", "decode tokens/s per sequence", logX: true);

    /// <summary>Grouped bars per model: the weights' bytes and the peak memory of its largest batch, in GB.</summary>
    public static GenericChart Memory(IEnumerable<SpeedRow> points)
    {
        var largest = points.GroupBy(p => p.Model).Select(g => g.MaxBy(p => (p.Batch, p.PromptTokens))!).ToList();
        var models = largest.Select(p => Readable.Model(p.Model)).ToArray();
        var weights = CSharpChart.Column<double, string, string>(values: largest.Select(p => p.WeightBytes / 1e9), Keys: models, Name: "weights");
        var withPeak = largest.Where(p => p.PeakMemoryBytes is not null).ToList();
        var charts = new List<GenericChart> { weights };
        if (withPeak.Count > 0)
            charts.Add(CSharpChart.Column<double, string, string>(values: withPeak.Select(p => p.PeakMemoryBytes!.Value / 1e9),
                Keys: withPeak.Select(p => Readable.Model(p.Model)).ToArray(), Name: "peak memory (largest batch)"));
        return ChartStyle.Combine(charts).Styled("Memory", "model", "GB");
    }

    /// <summary>
    /// The roofline: attainable operations per second against arithmetic intensity (both log axes) under each
    /// machine's bandwidth and compute ceilings, with every measured point that carries an intensity. Points
    /// under the sloped roof are bandwidth-bound, under the flat roof compute-bound.
    /// </summary>
    /// <exception cref="ArgumentException">No roofs were given.</exception>
    public static GenericChart Roofline(IEnumerable<SpeedRow> points, params Roofline[] roofs)
    {
        if (roofs.Length == 0) throw new ArgumentException("a roofline needs at least one roof", nameof(roofs));
        var measured = points.Where(p => p.ArithmeticIntensity is > 0 && p.AchievedFlopsPerSecond is > 0).ToList();
        double low = Math.Min(measured.Select(p => p.ArithmeticIntensity!.Value).DefaultIfEmpty(1).Min(), roofs.Min(m => m.RidgeIntensity)) / 4;
        double high = Math.Max(measured.Select(p => p.ArithmeticIntensity!.Value).DefaultIfEmpty(1).Max(), roofs.Max(m => m.RidgeIntensity)) * 4;
        var charts = new List<GenericChart>();
        foreach (var machine in roofs)
        {
            double[] x = [low, machine.RidgeIntensity, high];
            charts.Add(CSharpChart.Line<double, double, string>(x: x, y: x.Select(i => machine.Attainable(i) / 1e9), Name: "roof: " + machine.Label,
                LineDash: StyleParam.DrawingStyle.Dash));
        }
        foreach (var model in measured.GroupBy(p => p.Model))
            charts.Add(CSharpChart.Point<double, double, string>(x: model.Select(p => p.ArithmeticIntensity!.Value),
                y: model.Select(p => p.AchievedFlopsPerSecond!.Value / 1e9), Name: Readable.Model(model.Key),
                MultiText: model.Select(p => $"batch {p.Batch}").ToArray(), TextPosition: StyleParam.TextPosition.TopCenter));
        return ChartStyle.Combine(charts).Styled("Roofline", "arithmetic intensity (operations per byte)", "GFLOP/s", logX: true, logY: true);
    }

    /// <summary>
    /// Batch throughput of two formats against batch size with the crossover marked: where the format that wins
    /// busy batch jobs (<paramref name="challenger"/>, say W8A8) overtakes the one that wins at batch 1
    /// (<paramref name="incumbent"/>, say W4A16), found by <see cref="SpeedRow.FindCrossover"/> at
    /// <paramref name="promptTokens"/> or the shortest prompt measured.
    /// </summary>
    /// <exception cref="ArgumentException">Either model has no row at that prompt length, or they share no batch size.</exception>
    public static GenericChart Crossover(IEnumerable<SpeedRow> points, string challenger, string incumbent, int? promptTokens = null)
    {
        var list = points.ToList();
        return Crossover(list, SpeedRow.FindCrossover(list, challenger, incumbent, promptTokens));
    }

    /// <summary>
    /// Batch throughput of <paramref name="crossover"/>'s two models at its prompt length against batch size, the
    /// batch from which the challenger stays ahead marked.
    /// </summary>
    public static GenericChart Crossover(IEnumerable<SpeedRow> points, BatchCrossover crossover)
    {
        var (challenger, incumbent) = (crossover.Challenger, crossover.Incumbent);
        var (challengerName, incumbentName) = (Readable.Model(challenger), Readable.Model(incumbent));
        var pair = points.Where(p => (p.Model == incumbent || p.Model == challenger) && p.PromptTokens == crossover.PromptTokens).ToList();
        var charts = new List<GenericChart> { Lines(pair, p => p.DecodeTokensPerSecond) };
        if (crossover.Batch is int batch)
        {
            // Repeated rows (several runs) count by their median, as in the crossover itself.
            double at = Spread.Of(pair.Where(p => p.Model == challenger && p.Batch == batch).Select(p => p.DecodeTokensPerSecond)).Median;
            charts.Add(CSharpChart.Point<double, double, string>(x: [batch], y: [at], Name: $"crossover: batch {batch}",
                MarkerSymbol: StyleParam.MarkerSymbol.Star, MultiText: new[] { $"{challengerName} overtakes {incumbentName}" }, TextPosition: StyleParam.TextPosition.TopCenter));
        }
        string title = crossover.Batch is int c ? $"{challengerName} overtakes {incumbentName} at batch {c}" : $"{challengerName} does not overtake {incumbentName} at the measured batch sizes";
        return ChartStyle.Combine(charts).Styled(title, "batch size", "decode tokens/s (whole batch)", logX: true);
    }

    /// <summary><see cref="TimeToFirstToken(IEnumerable{SpeedRow})"/> of every point of <paramref name="sweep"/>.</summary>
    public static GenericChart TimeToFirstToken(SpeedSweepResult sweep) => TimeToFirstToken(SpeedRow.From(sweep));

    /// <summary><see cref="Throughput(IEnumerable{SpeedRow})"/> of every point of <paramref name="sweep"/>.</summary>
    public static GenericChart Throughput(SpeedSweepResult sweep) => Throughput(SpeedRow.From(sweep));

    /// <summary><see cref="PerSequenceSpeed(IEnumerable{SpeedRow})"/> of every point of <paramref name="sweep"/>.</summary>
    public static GenericChart PerSequenceSpeed(SpeedSweepResult sweep) => PerSequenceSpeed(SpeedRow.From(sweep));

    /// <summary><see cref="Memory(IEnumerable{SpeedRow})"/> of every point of <paramref name="sweep"/>.</summary>
    public static GenericChart Memory(SpeedSweepResult sweep) => Memory(SpeedRow.From(sweep));

    /// <summary>The roofline of <paramref name="sweep"/>: its points under its machine's measured float32 and int8 roofs (<see cref="Reports.Roofline.Measured"/>).</summary>
    public static GenericChart Roofline(SpeedSweepResult sweep) => Roofline(SpeedRow.From(sweep), [.. Reports.Roofline.Measured(sweep.Machine)]);

    /// <summary>The crossover chart of <paramref name="challenger"/> against <paramref name="incumbent"/> in <paramref name="sweep"/>.</summary>
    public static GenericChart Crossover(SpeedSweepResult sweep, string challenger, string incumbent, int? promptTokens = null) =>
        Crossover(SpeedRow.From(sweep), challenger, incumbent, promptTokens);

    static GenericChart Lines(IEnumerable<SpeedRow> points, Func<SpeedRow, double> y)
    {
        var list = points.ToList();
        bool severalPrompts = list.Select(p => p.PromptTokens).Distinct().Count() > 1;
        var lines = list.GroupBy(p => (p.Model, p.PromptTokens)).Select(g =>
        {
            var ordered = g.OrderBy(p => p.Batch).ToList();
            string name = severalPrompts ? $"{Readable.Model(g.Key.Model)}, {g.Key.PromptTokens}-token prompt" : Readable.Model(g.Key.Model);
            return CSharpChart.Line<double, double, string>(x: ordered.Select(p => (double)p.Batch), y: ordered.Select(y), Name: name, ShowMarkers: true);
        });
        return ChartStyle.Combine(lines);
    }
}
