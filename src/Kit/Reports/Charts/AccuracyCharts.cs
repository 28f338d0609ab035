using Kit.Evaluation.Agreement;
using Kit.Evaluation.Results;
using Kit.Evaluation.Tasks;
using Plotly.NET;
using CSharpChart = Plotly.NET.CSharp.Chart;

namespace Kit.Reports.Charts;

/// <summary>Charts of accuracy: results-table rows across models, and where a compressed model's error comes from.</summary>
public static class AccuracyCharts
{
    /// <summary>Metrics that are fractions of documents or positions, charted as percentages.</summary>
    public static readonly IReadOnlyList<string> PercentMetrics = [TaskMetrics.Acc, TaskMetrics.AccNorm, "top1_agreement"];

    /// <summary>
    /// Grouped bars of the percentage metrics (acc, acc_norm, top-1 agreement): one group per task and metric, one
    /// bar per model, in percent. Null when the rows have none of them.
    /// </summary>
    public static GenericChart? TaskScores(IEnumerable<EvaluationRecord> records)
    {
        var rows = records.Where(r => PercentMetrics.Contains(r.Metric)).ToList();
        if (rows.Count == 0) return null;
        var keys = rows.Select(Key).Distinct().ToList();
        var traces = rows.GroupBy(r => Readable.Model(r.Model)).Select(model =>
        {
            var byKey = model.GroupBy(Key).ToDictionary(g => g.Key, g => g.Last().Value * 100);
            var present = keys.Where(byKey.ContainsKey).ToList();
            return CSharpChart.Column<double, string, string>(values: present.Select(k => byKey[k]), Keys: present.ToArray(), Name: model.Key);
        });
        return ChartStyle.Combine(traces).Styled("Task scores", "task · metric", "score (%)");

        static string Key(EvaluationRecord r) => $"{r.Task} · {r.Metric}";
    }

    /// <summary>Bars of perplexity per model (lower is better). Null when the rows have no perplexity.</summary>
    public static GenericChart? Perplexity(IEnumerable<EvaluationRecord> records)
    {
        var rows = records.Where(r => r.Task == "perplexity" && r.Metric == "perplexity")
            .GroupBy(r => Readable.Model(r.Model)).Select(g => (Model: g.Key, g.Last().Value)).ToList();
        if (rows.Count == 0) return null;
        return CSharpChart.Column<double, string, string>(values: rows.Select(r => r.Value), Keys: rows.Select(r => r.Model).ToArray(), Name: "perplexity")
            .Styled("Perplexity (lower is better)", "model", "perplexity");
    }

    /// <summary>
    /// The relative reconstruction error ‖WX − ŴX‖² / ‖WX‖² of every compressed Linear, in layer order, labelled
    /// L{layer}.{module}. Null when there are no finite errors (no compression report, or pruning only without calibration).
    /// </summary>
    public static GenericChart? LayerErrors(IEnumerable<LayerError> errors)
    {
        var measured = errors.Where(e => double.IsFinite(e.RelativeError)).ToList();
        if (measured.Count == 0) return null;
        return CSharpChart.Column<double, string, string>(values: measured.Select(e => e.RelativeError),
                Keys: measured.Select(e => ShortModule(e.Module)).ToArray(), Name: "relative error")
            .Styled("Reconstruction error per Linear", "module", "relative error");
    }

    /// <summary>The same chart from a compression run's own report (what <see cref="Calibration.ModelCompression.Compress"/> returns).</summary>
    public static GenericChart? LayerErrors(IEnumerable<Calibration.ModuleReport> modules) =>
        LayerErrors(modules.Select(m => new LayerError(m.Layer, m.Module, m.RelativeError ?? double.NaN, m.ErrorPerToken ?? double.NaN, m.Sparsity)));

    /// <summary><c>model.layers.3.mlp.down_proj</c> as <c>L3.mlp.down_proj</c>, so that axis labels stay short.</summary>
    public static string ShortModule(string module) => module.Replace("model.layers.", "L");

    /// <summary>Bars of the share of a naive method's perplexity gap each variant wins back, in percent (higher is better); variants without one are left out.</summary>
    public static GenericChart GapRecovered(IEnumerable<Evaluation.VariantRecovery> variants)
    {
        var rows = variants.Where(v => v.GapRecovered is not null).ToList();
        return CSharpChart.Column<double, string, string>(values: rows.Select(v => v.GapRecovered!.Value * 100), Keys: rows.Select(v => v.Name).ToArray(), Name: "gap recovered")
            .Styled("Share of RTN's perplexity gap recovered", "variant", "gap recovered (%)");
    }

    /// <summary>
    /// The largest |x| of every input channel of one Linear, one line per labelled profile: an outlier channel is a spike,
    /// which smoothing flattens and a rotation spreads over all channels.
    /// </summary>
    public static GenericChart ActivationProfiles(IEnumerable<(string Label, Evaluation.ActivationProfile Profile)> profiles)
    {
        var list = profiles.ToList();
        if (list.Count == 0) throw new ArgumentException("no activation profile to chart", nameof(profiles));
        var traces = list.Select(p => CSharpChart.Line<int, double, string>(x: Enumerable.Range(0, p.Profile.MaxAbs.Length), y: p.Profile.MaxAbs,
            Name: $"{p.Label} (max ÷ median {p.Profile.OutlierRatio:F1})"));
        return ChartStyle.Combine(traces).Styled($"Input magnitudes of {ShortModule(list[0].Profile.Module)} per channel", "input channel", "largest |x|");
    }
}
