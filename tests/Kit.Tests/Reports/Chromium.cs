using System.Diagnostics;

namespace Kit.Tests.Reports;

/// <summary>Headless Chromium (Debian's <c>chromium</c>, installed by setup.sh) taking screenshots with the network cut off.</summary>
internal static class Chromium
{
    /// <summary>The browser's path, or null when none is installed.</summary>
    public static string? Path { get; } = new[] { "chromium", "chromium-browser" }
        .SelectMany(name => (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Select(dir => System.IO.Path.Combine(dir, name)))
        .FirstOrDefault(File.Exists);

    /// <summary>Opens <paramref name="html"/> and writes a <paramref name="width"/>×<paramref name="height"/> screenshot; returns its path.</summary>
    public static string Screenshot(string html, int width, int height)
    {
        string work = TestPaths.NewTempDir(), png = System.IO.Path.Combine(work, "screenshot.png");
        var start = new ProcessStartInfo(Path ?? throw new InvalidOperationException("chromium is not installed"))
        {
            RedirectStandardOutput = true, RedirectStandardError = true,
        };
        foreach (var arg in new[]
        {
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--hide-scrollbars", $"--user-data-dir={System.IO.Path.Combine(work, "profile")}",
            // No network: every host fails to resolve and any proxied request goes to a closed port.
            "--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=127.0.0.1:9",
            // Lets the page's scripts run to completion before the screenshot.
            "--virtual-time-budget=10000",
            $"--screenshot={png}", $"--window-size={width},{height}", new Uri(System.IO.Path.GetFullPath(html)).AbsoluteUri,
        })
            start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(TimeSpan.FromSeconds(90)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"chromium did not finish a screenshot of {html} in 90 s");
        }
        if (!File.Exists(png)) throw new InvalidOperationException($"chromium wrote no screenshot (exit {process.ExitCode}): {stderr.Result}");
        return png;
    }
}

/// <summary>A test that needs Chromium: skipped, saying why, where none is installed.</summary>
internal sealed class ChromiumFactAttribute : FactAttribute
{
    public ChromiumFactAttribute()
    {
        if (Chromium.Path is null) Skip = "chromium is not installed (./setup.sh installs Debian's chromium); the offline chart test needs it";
    }
}
