using Plotly.NET;
using CSharpChart = Plotly.NET.CSharp.Chart;

namespace Kit.Reports.Charts;

/// <summary>
/// Charts of speed: time to first token and tokens per second against batch size per model, memory, the roofline
/// and the batch size at which one format overtakes another.
/// </summary>
public static class SpeedCharts
{
    /// <summary>Time to first token against batch size (log axis), one line per model (and prompt length, when there are several).</summary>
    public static GenericChart TimeToFirstToken(IEnumerable<SpeedPoint> points) =>
        Lines(points, p => p.TimeToFirstTokenMs).Styled("Time to first token", "batch size", "time to first token (ms)", logX: true);

    /// <summary>Decode tokens per second of the whole batch against batch size (log axis), one line per model.</summary>
    public static GenericChart Throughput(IEnumerable<SpeedPoint> points) =>
        Lines(points, p => p.DecodeTokensPerSecond).Styled("Throughput", "batch size", "decode tokens/s (whole batch)", logX: true);

    /// <summary>Decode tokens per second one sequence sees against batch size: what an interactive user feels.</summary>
    public static GenericChart PerSequenceSpeed(IEnumerable<SpeedPoint> points) =>
        Lines(points, p => p.DecodeTokensPerSecondPerSequence).Styled("Speed per sequence", "batch size", "decode tokens/s per sequence", logX: true);

    /// <summary>Grouped bars per model: the weights' bytes and the peak memory of its largest batch, in GB.</summary>
    public static GenericChart Memory(IEnumerable<SpeedPoint> points)
    {
        var largest = points.GroupBy(p => p.Model).Select(g => g.MaxBy(p => (p.Batch, p.PromptTokens))!).ToList();
        var models = largest.Select(p => p.Model).ToArray();
        var weights = CSharpChart.Column<double, string, string>(values: largest.Select(p => p.WeightBytes / 1e9), Keys: models, Name: "weights");
        var withPeak = largest.Where(p => p.PeakMemoryBytes is not null).ToList();
        var charts = new List<GenericChart> { weights };
        if (withPeak.Count > 0)
            charts.Add(CSharpChart.Column<double, string, string>(values: withPeak.Select(p => p.PeakMemoryBytes!.Value / 1e9),
                Keys: withPeak.Select(p => p.Model).ToArray(), Name: "peak memory (largest batch)"));
        return ChartStyle.Combine(charts).Styled("Memory", "model", "GB");
    }

    /// <summary>
    /// The roofline: attainable operations per second against arithmetic intensity (both log axes) under each
    /// machine's bandwidth and compute ceilings, with every measured point that carries an intensity. Points
    /// under the sloped roof are bandwidth-bound, under the flat roof compute-bound.
    /// </summary>
    /// <exception cref="ArgumentException">No ceilings were given.</exception>
    public static GenericChart Roofline(IEnumerable<SpeedPoint> points, params MachineCeilings[] machines)
    {
        if (machines.Length == 0) throw new ArgumentException("a roofline needs at least one machine's ceilings", nameof(machines));
        var measured = points.Where(p => p.ArithmeticIntensity is > 0 && p.AchievedFlopsPerSecond is > 0).ToList();
        double low = Math.Min(measured.Select(p => p.ArithmeticIntensity!.Value).DefaultIfEmpty(1).Min(), machines.Min(m => m.RidgeIntensity)) / 4;
        double high = Math.Max(measured.Select(p => p.ArithmeticIntensity!.Value).DefaultIfEmpty(1).Max(), machines.Max(m => m.RidgeIntensity)) * 4;
        var charts = new List<GenericChart>();
        foreach (var machine in machines)
        {
            double[] x = [low, machine.RidgeIntensity, high];
            charts.Add(CSharpChart.Line<double, double, string>(x: x, y: x.Select(i => machine.Attainable(i) / 1e9), Name: "roof: " + machine.Label,
                LineDash: StyleParam.DrawingStyle.Dash));
        }
        foreach (var model in measured.GroupBy(p => p.Model))
            charts.Add(CSharpChart.Point<double, double, string>(x: model.Select(p => p.ArithmeticIntensity!.Value),
                y: model.Select(p => p.AchievedFlopsPerSecond!.Value / 1e9), Name: model.Key,
                MultiText: model.Select(p => $"batch {p.Batch}").ToArray(), TextPosition: StyleParam.TextPosition.TopCenter));
        return ChartStyle.Combine(charts).Styled("Roofline", "arithmetic intensity (operations per byte)", "GFLOP/s", logX: true, logY: true);
    }

    /// <summary>
    /// The smallest measured batch size (at <paramref name="promptTokens"/>, or the shortest prompt measured) from which
    /// on <paramref name="challenger"/>'s batch throughput exceeds <paramref name="incumbent"/>'s at every larger batch
    /// size both were measured at, or null when it is not ahead at the largest.
    /// </summary>
    public static int? CrossoverBatch(IEnumerable<SpeedPoint> points, string incumbent, string challenger, int? promptTokens = null)
    {
        var list = points.ToList();
        int prompt = promptTokens ?? list.Where(p => p.Model == incumbent || p.Model == challenger).Select(p => p.PromptTokens).DefaultIfEmpty(0).Min();
        var a = list.Where(p => p.Model == incumbent && p.PromptTokens == prompt).ToDictionary(p => p.Batch, p => p.DecodeTokensPerSecond);
        var b = list.Where(p => p.Model == challenger && p.PromptTokens == prompt).ToDictionary(p => p.Batch, p => p.DecodeTokensPerSecond);
        var batches = a.Keys.Intersect(b.Keys).Order().ToList();
        // The challenger must stay ahead from there on: a lead at one batch size that is lost again is no crossover.
        int? crossover = null;
        for (int i = batches.Count - 1; i >= 0 && b[batches[i]] > a[batches[i]]; i--) crossover = batches[i];
        return crossover;
    }

    /// <summary>
    /// Batch throughput of two formats against batch size with the crossover marked: where the format that wins
    /// busy batch jobs (<paramref name="challenger"/>, say W8A8) overtakes the one that wins at batch 1
    /// (<paramref name="incumbent"/>, say W4A16).
    /// </summary>
    public static GenericChart Crossover(IEnumerable<SpeedPoint> points, string incumbent, string challenger, int? promptTokens = null)
    {
        var list = points.ToList();
        int prompt = promptTokens ?? list.Where(p => p.Model == incumbent || p.Model == challenger).Select(p => p.PromptTokens).DefaultIfEmpty(0).Min();
        var pair = list.Where(p => (p.Model == incumbent || p.Model == challenger) && p.PromptTokens == prompt).ToList();
        var charts = new List<GenericChart> { Lines(pair, p => p.DecodeTokensPerSecond) };
        int? crossover = CrossoverBatch(pair, incumbent, challenger, prompt);
        if (crossover is int batch)
        {
            var at = pair.Single(p => p.Model == challenger && p.Batch == batch);
            charts.Add(CSharpChart.Point<double, double, string>(x: [batch], y: [at.DecodeTokensPerSecond], Name: $"crossover: batch {batch}",
                MarkerSymbol: StyleParam.MarkerSymbol.Star, MultiText: new[] { $"{challenger} overtakes {incumbent}" }, TextPosition: StyleParam.TextPosition.TopCenter));
        }
        string title = crossover is int c ? $"{challenger} overtakes {incumbent} at batch {c}" : $"{challenger} does not overtake {incumbent} at the measured batch sizes";
        return ChartStyle.Combine(charts).Styled(title, "batch size", "decode tokens/s (whole batch)", logX: true);
    }

    static GenericChart Lines(IEnumerable<SpeedPoint> points, Func<SpeedPoint, double> y)
    {
        var list = points.ToList();
        bool severalPrompts = list.Select(p => p.PromptTokens).Distinct().Count() > 1;
        var lines = list.GroupBy(p => (p.Model, p.PromptTokens)).Select(g =>
        {
            var ordered = g.OrderBy(p => p.Batch).ToList();
            string name = severalPrompts ? $"{g.Key.Model}, {g.Key.PromptTokens}-token prompt" : g.Key.Model;
            return CSharpChart.Line<double, double, string>(x: ordered.Select(p => (double)p.Batch), y: ordered.Select(y), Name: name, ShowMarkers: true);
        });
        return ChartStyle.Combine(lines);
    }
}
