namespace Kit.Cli.Commands;

/// <summary>A progress line on stderr: redrawn in place on a terminal, a line every 10% otherwise.</summary>
internal sealed class ConsoleProgress
{
    readonly string label;
    int lastDecile = -1;
    string lastItem = "";

    public ConsoleProgress(string label) => this.label = label;

    public void Report(string item, double fraction)
    {
        int percent = (int)Math.Round(Math.Clamp(fraction, 0, 1) * 100);
        if (!Console.IsErrorRedirected)
        {
            Console.Error.Write($"\r{label} {item}: {Bar(fraction)} {percent,3}%");
            if (percent == 100) Console.Error.WriteLine();
            return;
        }
        int decile = percent / 10;
        if (decile == lastDecile && item == lastItem) return;
        (lastDecile, lastItem) = (decile, item);
        Console.Error.WriteLine($"{label} {item}: {percent}%");
    }

    public IProgress<double> For(string item) => new SyncProgress<double>(f => Report(item, f));

    static string Bar(double fraction)
    {
        int filled = (int)(Math.Clamp(fraction, 0, 1) * 30);
        return "[" + new string('#', filled) + new string('.', 30 - filled) + "]";
    }
}

/// <summary>Reports on the caller's thread (Progress&lt;T&gt; posts to the thread pool and would print out of order).</summary>
internal sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
