using Plotly.NET;
using CSharpChart = Plotly.NET.CSharp.Chart;

namespace Kit.Reports.Charts;

/// <summary>The accuracy-versus-size-versus-speed frontier of a set of variants (a Pareto chart).</summary>
public static class FrontierChart
{
    /// <summary>
    /// The variants no other variant beats on all three at once: at least as accurate, at most as large and at least
    /// as fast, and strictly better on one. <paramref name="higherIsBetter"/> is false for perplexity-like accuracy.
    /// </summary>
    public static IReadOnlyList<FrontierPoint> Optimal(IEnumerable<FrontierPoint> points, bool higherIsBetter = true)
    {
        var list = points.ToList();
        return list.Where(p => !list.Any(q => Dominates(q, p, higherIsBetter))).ToList();
    }

    static bool Dominates(FrontierPoint q, FrontierPoint p, bool higherIsBetter)
    {
        double qa = higherIsBetter ? q.Accuracy : -q.Accuracy, pa = higherIsBetter ? p.Accuracy : -p.Accuracy;
        bool noWorse = qa >= pa && q.WeightBytes <= p.WeightBytes && q.TokensPerSecond >= p.TokensPerSecond;
        bool better = qa > pa || q.WeightBytes < p.WeightBytes || q.TokensPerSecond > p.TokensPerSecond;
        return noWorse && better;
    }

    /// <summary>
    /// Accuracy against weight size, marker area growing with speed; the Pareto-optimal variants (see <see cref="Optimal"/>)
    /// in one trace joined by a line in size order, the dominated ones in another.
    /// </summary>
    /// <param name="points">The variants.</param>
    /// <param name="accuracyTitle">The accuracy axis title, naming the metric (e.g. "kit_stories acc_norm (%)").</param>
    /// <param name="speedTitle">What the speed is (e.g. "decode tok/s at batch 1"), for the legend.</param>
    /// <param name="higherIsBetter">False when the accuracy is perplexity-like.</param>
    public static GenericChart Pareto(IEnumerable<FrontierPoint> points, string accuracyTitle, string speedTitle, bool higherIsBetter = true)
    {
        var list = points.ToList();
        var optimal = Optimal(list, higherIsBetter).OrderBy(p => p.WeightBytes).ToList();
        var dominated = list.Except(optimal).ToList();
        double fastest = list.Select(p => p.TokensPerSecond).DefaultIfEmpty(1).Max();
        var charts = new List<GenericChart>
        {
            Trace(optimal, "Pareto-optimal", showLine: true),
        };
        if (dominated.Count > 0) charts.Add(Trace(dominated, "dominated", showLine: false));
        return ChartStyle.Combine(charts).Styled($"Accuracy, size and speed (marker size: {speedTitle})", "weights (MB)", accuracyTitle);

        GenericChart Trace(IReadOnlyList<FrontierPoint> subset, string name, bool showLine)
        {
            var sizes = subset.Select(p => 10 + (int)Math.Round(30 * Math.Sqrt(Math.Max(0, p.TokensPerSecond) / Math.Max(fastest, 1e-12)))).ToArray();
            var labels = subset.Select(p => $"{p.Variant} ({Readable.TokensPerSecond(p.TokensPerSecond)})").ToArray();
            // Marker is a plotly.js attribute bag; its F# constructor has no C#-optional arguments, so set "size" directly.
            var marker = new Plotly.NET.TraceObjects.Marker();
            marker.SetProperty("size", sizes);
            var x = subset.Select(p => p.WeightBytes / 1e6);
            var y = subset.Select(p => p.Accuracy);
            return showLine
                ? CSharpChart.Line<double, double, string>(x: x, y: y, Name: name, ShowMarkers: true, MultiText: labels, TextPosition: StyleParam.TextPosition.TopCenter, Marker: marker)
                : CSharpChart.Point<double, double, string>(x: x, y: y, Name: name, MultiText: labels, TextPosition: StyleParam.TextPosition.TopCenter, Marker: marker);
        }
    }
}
