using System.Diagnostics;
using System.Globalization;
using System.Net;
using Kit.Calibration;
using Kit.Reports;

namespace Kit.Notebook;

/// <summary>
/// Progress of long work as one notebook output that updates in place (a bar, a percentage and what is being
/// done), through the kernel's <c>display(...)</c> and <c>DisplayedValue.Update</c>, and a line with the outcome
/// once the work is complete. kit-setup.dib sets <see cref="Display"/>; updates are at most a few per second so that
/// a fast loop does not flood the front end.
/// </summary>
public sealed class NotebookProgress
{
    /// <summary>Shows a value as a new cell output and returns how to replace it: set by kit-setup.dib to the kernel's display.</summary>
    public static Func<object, Action<object>>? Display { get; set; }

    readonly string label;
    readonly Func<object, Action<object>>? show;
    readonly TimeSpan interval;
    readonly Stopwatch clock = Stopwatch.StartNew();
    Action<object>? update;
    TimeSpan lastUpdate = TimeSpan.MinValue;

    /// <summary>Progress titled <paramref name="label"/>, shown through <paramref name="show"/> (the kernel's display when null).</summary>
    /// <param name="label">What the work is ("GPTQ W4A16").</param>
    /// <param name="show">Shows a value and returns its updater; <see cref="Display"/> when null; nothing is shown when both are null (outside a notebook).</param>
    /// <param name="interval">Least time between two updates (the last one always shows); a quarter second when null.</param>
    public NotebookProgress(string label, Func<object, Action<object>>? show = null, TimeSpan? interval = null)
    {
        this.label = label;
        this.show = show ?? Display;
        this.interval = interval ?? TimeSpan.FromSeconds(0.25);
    }

    /// <summary>Shows <paramref name="fraction"/> done (0–1) with <paramref name="detail"/>; complete work always shows.</summary>
    public void Report(double fraction, string detail)
    {
        if (show is null) return;
        fraction = Math.Clamp(double.IsFinite(fraction) ? fraction : 0, 0, 1);
        bool done = fraction >= 1;
        var now = clock.Elapsed;
        if (update is not null && !done && now - lastUpdate < interval) return;
        lastUpdate = now;
        var html = new HtmlOutput(Render(label, fraction, detail, done ? now : null));
        if (update is null)
        {
            update = show(html);
            return;
        }
        update(html);
        // A headless run (nbconvert) keeps the first display and drops its updates, so the outcome also gets its own line.
        if (done) show(new HtmlOutput($"<div class=\"kit-progress-done\" style=\"font:13px system-ui,sans-serif\">{WebUtility.HtmlEncode(label)}: " +
            $"{WebUtility.HtmlEncode(detail.Length > 0 ? detail : "done")} in {Readable.Seconds(now.TotalSeconds)}</div>"));
    }

    /// <summary>The HTML of one state: a bar, the percentage, the detail, and the time taken once done.</summary>
    internal static string Render(string label, double fraction, string detail, TimeSpan? took) =>
        "<div class=\"kit-progress\" style=\"font:13px system-ui,sans-serif\">" +
        $"<b>{WebUtility.HtmlEncode(label)}</b> " +
        $"<progress value=\"{fraction.ToString("0.###", CultureInfo.InvariantCulture)}\" max=\"1\" style=\"width:240px;vertical-align:middle\"></progress> " +
        $"{Readable.Percent(fraction)} · {WebUtility.HtmlEncode(detail)}" +
        (took is TimeSpan t ? $" · done in {Readable.Seconds(t.TotalSeconds)}" : "") + "</div>";

    /// <summary>Layer-by-layer compression progress (what <see cref="ModelCompression.Compress"/> reports); see the constructor for the arguments.</summary>
    public static IProgress<CompressionProgress> Compression(string label, Func<object, Action<object>>? show = null, TimeSpan? interval = null)
    {
        var display = new NotebookProgress(label, show, interval);
        return new Reporter<CompressionProgress>(p => display.Report(p.Fraction, p.Describe()));
    }

    /// <summary>Progress of work that reports a fraction done (perplexity, task scoring); see the constructor for the arguments.</summary>
    public static IProgress<double> Fraction(string label, Func<object, Action<object>>? show = null, TimeSpan? interval = null)
    {
        var display = new NotebookProgress(label, show, interval);
        return new Reporter<double>(f => display.Report(f, ""));
    }

    /// <summary>Reports on the caller's thread (Progress&lt;T&gt; would post to the thread pool, out of order).</summary>
    sealed class Reporter<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
