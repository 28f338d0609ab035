using Spectre.Console;

namespace Kit.Cli.Commands;

/// <summary>
/// Progress of long work on stderr, drawn by Spectre.Console: live bars with percentages and elapsed time on a
/// terminal; on a pipe or a CI log, plain lines (a line each time a bar passes a tenth, or its detail changes) with no
/// ANSI escapes and nothing redrawn. Standard output stays free for results and <c>--json</c>.
/// </summary>
internal sealed class TerminalProgress
{
    readonly IAnsiConsole console;
    readonly bool live;

    /// <summary>Progress on <paramref name="writer"/>; <paramref name="isTerminal"/> says whether it may animate.</summary>
    internal TerminalProgress(TextWriter writer, bool isTerminal)
    {
        console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(writer),
            Ansi = isTerminal ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = isTerminal ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = isTerminal ? InteractionSupport.Yes : InteractionSupport.No,
        });
        // A log has no width: Spectre would wrap long lines at its default of 80 columns.
        if (!isTerminal) console.Profile.Width = int.MaxValue / 2;
        live = isTerminal;
    }

    /// <summary>Progress on the process's stderr, live only when stderr is a terminal.</summary>
    public static TerminalProgress StandardError() => new(Console.Error, isTerminal: !Console.IsErrorRedirected);

    /// <summary>Runs <paramref name="work"/> with progress shown while it runs; the bars stay on screen afterwards.</summary>
    public T Run<T>(Func<ProgressScope, T> work)
    {
        if (!live) return work(new ProgressScope(console, null));
        T result = default!;
        console.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new SpinnerColumn())
            .Start(context => result = work(new ProgressScope(console, context)));
        return result;
    }
}

/// <summary>The progress display while <see cref="TerminalProgress.Run"/> runs: bars to report on, and lines to print above them.</summary>
internal sealed class ProgressScope(IAnsiConsole console, ProgressContext? context)
{
    /// <summary>A new bar labelled <paramref name="label"/>.</summary>
    public ProgressLine Line(string label) => new(console, context?.AddTask(Markup.Escape(label), maxValue: 100), label);

    /// <summary>Prints <paramref name="text"/> as a line (above the live bars on a terminal).</summary>
    public void Log(string text) => console.WriteLine(text);
}

/// <summary>One bar: a fraction done and what is being done.</summary>
internal sealed class ProgressLine
{
    readonly IAnsiConsole console;
    readonly ProgressTask? task;
    readonly string label;
    int lastTenth = -1;
    string lastDetail = "";

    internal ProgressLine(IAnsiConsole console, ProgressTask? task, string label) => (this.console, this.task, this.label) = (console, task, label);

    /// <summary>Sets the bar to <paramref name="fraction"/> done (0–1) with <paramref name="detail"/> beside the label.</summary>
    public void Report(double fraction, string detail = "")
    {
        fraction = Math.Clamp(double.IsFinite(fraction) ? fraction : 0, 0, 1);
        string text = detail.Length == 0 ? label : $"{label} {detail}";
        if (task is not null)
        {
            task.Description = Markup.Escape(text);
            task.Value = fraction * 100;
            if (fraction >= 1) task.StopTask();
            return;
        }
        int tenth = (int)Math.Floor(fraction * 10);
        if (tenth == lastTenth && detail == lastDetail) return;
        (lastTenth, lastDetail) = (tenth, detail);
        console.WriteLine($"{text}: {Math.Round(fraction * 100):0}%");
    }

    /// <summary>The bar as an <see cref="IProgress{T}"/> of a fraction, with a fixed detail.</summary>
    public IProgress<double> Fractions(string detail = "") => new SyncProgress<double>(f => Report(f, detail));
}

/// <summary>Reports on the caller's thread (Progress&lt;T&gt; posts to the thread pool and would print out of order).</summary>
internal sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
