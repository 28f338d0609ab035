using System.Net;
using System.Text;
using Plotly.NET;

namespace Kit.Reports;

/// <summary>
/// A self-contained HTML report: headings, text, <see cref="ReadableTable"/> tables and Plotly.NET charts, with
/// plotly.js inlined once, so that the file opens and draws anywhere, offline included. Build it in order, then
/// <see cref="Write"/> it.
/// </summary>
public sealed class HtmlReport
{
    /// <summary>Padding around the page and space under each chart, in pixels (the screenshot test lays charts out from these).</summary>
    internal const int PagePadding = 24, ChartGap = 16;

    readonly string title;
    readonly StringBuilder body = new();
    int charts;

    /// <summary>A report titled <paramref name="title"/> (the page title and first heading).</summary>
    public HtmlReport(string title)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(title);
        this.title = title;
    }

    /// <summary>Charts added so far.</summary>
    public int ChartCount => charts;

    /// <summary>A section heading.</summary>
    public HtmlReport Heading(string text)
    {
        body.Append("<h2>").Append(WebUtility.HtmlEncode(text)).AppendLine("</h2>");
        return this;
    }

    /// <summary>A paragraph of text.</summary>
    public HtmlReport Paragraph(string text)
    {
        body.Append("<p>").Append(WebUtility.HtmlEncode(text)).AppendLine("</p>");
        return this;
    }

    /// <summary>Preformatted text (a model summary, a generated continuation).</summary>
    public HtmlReport Preformatted(string text)
    {
        body.Append("<pre>").Append(WebUtility.HtmlEncode(text)).AppendLine("</pre>");
        return this;
    }

    /// <summary>A table.</summary>
    public HtmlReport Table(ReadableTable table)
    {
        body.AppendLine(table.ToHtml());
        return this;
    }

    /// <summary>A chart; a null chart (the builder had nothing to draw) adds nothing.</summary>
    public HtmlReport Chart(GenericChart? chart)
    {
        if (chart is null) return this;
        body.Append("<div class=\"kit-figure\">").Append(PlotlyJs.ChartFragment(chart, $"chart-{++charts}")).AppendLine("</div>");
        return this;
    }

    /// <summary>The whole page.</summary>
    public string ToHtml()
    {
        var page = new StringBuilder();
        page.AppendLine("<!DOCTYPE html>").AppendLine("<html lang=\"en\"><head><meta charset=\"utf-8\">");
        page.Append("<title>").Append(WebUtility.HtmlEncode(title)).AppendLine("</title>");
        page.Append("<style>").Append(Css).Append(ReadableTable.Css).AppendLine("</style>");
        // plotly.js only when a chart needs it: 3.5 MB is a lot for a page of tables.
        if (charts > 0) page.Append(PlotlyJs.ScriptTags());
        page.AppendLine("</head><body>");
        page.Append("<h1>").Append(WebUtility.HtmlEncode(title)).AppendLine("</h1>");
        page.Append(body);
        page.Append($"<footer>Written by Kit on {DateTime.Now:yyyy-MM-dd HH:mm}")
            .Append(charts > 0 ? $"; charts drawn by plotly.js {PlotlyJs.Version}, embedded in this file" : "").AppendLine(".</footer>");
        page.AppendLine("</body></html>");
        return page.ToString();
    }

    /// <summary>Writes the page to <paramref name="path"/> (its folder created if needed) and returns the full path.</summary>
    public string Write(string path)
    {
        string full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        File.WriteAllText(full, ToHtml(), new UTF8Encoding(false));
        return full;
    }

    static readonly string Css =
        $"body{{margin:0;padding:{PagePadding}px;font:14px/1.5 system-ui,sans-serif;color:#222;background:#fff}}" +
        "h1{margin:0 0 12px;font-size:22px}h2{margin:24px 0 8px;font-size:17px}" +
        "pre{background:#f6f6f6;padding:8px;white-space:pre-wrap}" +
        $".kit-figure{{margin:0 0 {ChartGap}px}}" +
        "footer{margin-top:24px;color:#777;font-size:12px}";
}
