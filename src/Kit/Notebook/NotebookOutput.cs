using Kit.Benchmarks;
using Kit.Evaluation.Results;
using Kit.Reports;
using Microsoft.Data.Analysis;
using Plotly.NET;

namespace Kit.Notebook;

/// <summary>
/// What notebook cells show: charts that draw offline, and tables formatted for reading (see
/// <see cref="Readable"/>). Each is one call whose value the cell displays.
/// </summary>
public static class NotebookOutput
{
    /// <summary>
    /// plotly.js, inlined: kit-setup.dib displays this once, so that every chart of the notebook draws from the
    /// notebook itself (in Jupyter, in an HTML export, offline) rather than from plotly's CDN.
    /// </summary>
    public static HtmlOutput PlotlyScript() => new(PlotlyJs.ScriptTags());

    /// <summary>A chart that draws with the notebook's embedded plotly.js (see <see cref="PlotlyScript"/>).</summary>
    public static HtmlOutput Chart(GenericChart chart) => new(PlotlyJs.ChartFragment(chart));

    /// <summary>A formatted table.</summary>
    public static HtmlOutput Table(ReadableTable table) => new(Styled(table.ToHtml()));

    /// <summary>A DataFrame formatted for reading (<see cref="Tables.Frame"/>): rounded numbers, no nulls.</summary>
    public static HtmlOutput Table(DataFrame frame) => Table(Tables.Frame(frame));

    /// <summary>Results-table rows formatted for reading (<see cref="Tables.Results(IEnumerable{EvaluationRecord})"/>).</summary>
    public static HtmlOutput Results(IEnumerable<EvaluationRecord> records) => Table(Tables.Results(records));

    /// <summary>The results table <paramref name="frame"/> (as <see cref="ResultsTable.Load"/> gives it), formatted for reading.</summary>
    public static HtmlOutput Results(DataFrame frame) => Table(Tables.Results(frame));

    /// <summary>A speed sweep's points formatted for reading (<see cref="Tables.Speed"/>), one row per model, batch and prompt length.</summary>
    public static HtmlOutput Speed(SpeedSweepResult sweep) => Table(Tables.Speed(SpeedRow.From(sweep)));

    static string Styled(string table) => $"<style>{ReadableTable.Css}</style>{table}";
}
