using System.Net;
using System.Text;

namespace Kit.Reports;

/// <summary>One column of a <see cref="ReadableTable"/>.</summary>
/// <param name="Header">What the column is called, with its unit where the cells carry none.</param>
/// <param name="Numeric">Right-aligned (numbers) rather than left-aligned (names).</param>
public sealed record TableColumn(string Header, bool Numeric = false);

/// <summary>
/// A table as a person reads it: formatted cells (see <see cref="Readable"/>), named columns, nothing left
/// to the viewer's default rendering of doubles and nulls. One table renders as aligned text (the CLI), HTML
/// (reports and notebooks) and Markdown (report.md).
/// </summary>
public sealed class ReadableTable
{
    /// <summary>A table of <paramref name="columns"/> and <paramref name="rows"/> of already formatted cells.</summary>
    /// <exception cref="ArgumentException">A row has a different number of cells than there are columns.</exception>
    public ReadableTable(IReadOnlyList<TableColumn> columns, IReadOnlyList<IReadOnlyList<string>> rows)
    {
        foreach (var row in rows)
            if (row.Count != columns.Count)
                throw new ArgumentException($"a table row has {row.Count} cells for {columns.Count} columns ({string.Join(", ", columns.Select(c => c.Header))})");
        Columns = columns;
        Rows = rows;
    }

    /// <summary>The columns, in order.</summary>
    public IReadOnlyList<TableColumn> Columns { get; }

    /// <summary>The rows, each one formatted cell per column.</summary>
    public IReadOnlyList<IReadOnlyList<string>> Rows { get; }

    /// <summary>
    /// A table of <paramref name="items"/>, one row each, with a cell per column from its formatter. Columns that
    /// are missing in every row (a baseline no row has) are left out.
    /// </summary>
    public static ReadableTable Of<T>(IEnumerable<T> items, params (TableColumn Column, Func<T, string> Cell)[] columns)
    {
        var rows = items.Select(item => columns.Select(c => Clean(c.Cell(item))).ToArray()).ToList();
        var kept = Enumerable.Range(0, columns.Length)
            .Where(i => rows.Count == 0 || rows.Any(r => r[i] != Readable.Missing))
            .ToArray();
        return new ReadableTable(kept.Select(i => columns[i].Column).ToArray(),
            rows.Select(r => (IReadOnlyList<string>)kept.Select(i => r[i]).ToArray()).ToList());
    }

    static string Clean(string? cell) => string.IsNullOrWhiteSpace(cell) ? Readable.Missing : cell.ReplaceLineEndings(" ");

    /// <summary>Aligned plain text: a header line, a rule, one line per row (no ANSI, no box drawing, so logs stay readable).</summary>
    public string ToText()
    {
        var widths = Columns.Select((c, i) => Rows.Select(r => r[i].Length).Prepend(c.Header.Length).Max()).ToArray();
        var sb = new StringBuilder();
        void Line(IEnumerable<string> cells) =>
            sb.AppendLine(string.Join("  ", cells.Select((cell, i) => Columns[i].Numeric ? cell.PadLeft(widths[i]) : cell.PadRight(widths[i]))).TrimEnd());
        Line(Columns.Select(c => c.Header));
        sb.AppendLine(string.Join("  ", widths.Select(w => new string('-', w))));
        foreach (var row in Rows) Line(row);
        return sb.ToString();
    }

    /// <summary>
    /// An HTML table with Kit's table class; cells do not wrap (a run id or a number stays on one line) and numbers
    /// align right. <see cref="HtmlReport"/> and the notebooks style it with <see cref="Css"/>.
    /// </summary>
    public string ToHtml()
    {
        var sb = new StringBuilder("<table class=\"kit-table\"><thead><tr>");
        foreach (var c in Columns) sb.Append(Cell("th", c.Header, c.Numeric));
        sb.Append("</tr></thead><tbody>");
        foreach (var row in Rows)
        {
            sb.Append("<tr>");
            for (int i = 0; i < row.Count; i++) sb.Append(Cell("td", row[i], Columns[i].Numeric));
            sb.Append("</tr>");
        }
        return sb.Append("</tbody></table>").ToString();

        static string Cell(string tag, string text, bool numeric) =>
            $"<{tag} style=\"white-space:nowrap;text-align:{(numeric ? "right" : "left")}\">{WebUtility.HtmlEncode(text)}</{tag}>";
    }

    /// <summary>A Markdown table, numbers right-aligned.</summary>
    public string ToMarkdown()
    {
        var sb = new StringBuilder();
        sb.AppendLine("| " + string.Join(" | ", Columns.Select(c => Escape(c.Header))) + " |");
        sb.AppendLine("|" + string.Join("|", Columns.Select(c => c.Numeric ? " ---: " : " --- ")) + "|");
        foreach (var row in Rows) sb.AppendLine("| " + string.Join(" | ", row.Select(Escape)) + " |");
        return sb.ToString();

        static string Escape(string s) => s.Replace("|", "\\|");
    }

    /// <summary>The style sheet for <see cref="ToHtml"/> tables.</summary>
    public const string Css =
        ".kit-table{border-collapse:collapse;font:13px/1.4 system-ui,sans-serif;margin:0.5em 0}" +
        ".kit-table th,.kit-table td{padding:3px 10px;border-bottom:1px solid #ddd}" +
        ".kit-table th{border-bottom:2px solid #999;font-weight:600}" +
        ".kit-table td{font-variant-numeric:tabular-nums}";
}
