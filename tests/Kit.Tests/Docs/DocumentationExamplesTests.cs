using System.Diagnostics;

namespace Kit.Tests.Docs;

/// <summary>
/// Runs every shell example of README.md, docs/ and the other Markdown files as written there, from the
/// repository root, so that the documentation and the program cannot drift apart. Paths under /tmp/ are
/// moved into the test's own scratch folder; nothing else in the script changes.
/// </summary>
[Trait("Category", "Slow")]
public sealed class DocumentationExamplesTests
{
    static readonly TimeSpan Limit = TimeSpan.FromMinutes(2);   // "under a minute" on a quiet machine, with room for CI's noise

    public static TheoryData<string, int> Examples()
    {
        var data = new TheoryData<string, int>();
        foreach (var example in MarkdownShellExample.FindAll(TestPaths.RepoRoot)) data.Add(example.File, example.Line);
        return data;
    }

    [Theory]
    [MemberData(nameof(Examples))]
    public async Task Shell_example_runs_as_written(string file, int line)
    {
        var example = MarkdownShellExample.FindAll(TestPaths.RepoRoot).Single(e => e.File == file && e.Line == line);
        if (example.NotRunBecause is not null)
        {
            Assert.False(string.IsNullOrWhiteSpace(example.NotRunBecause), $"{file}:{line}: the not-run marker must say why");
            return;
        }
        string scratch = TestPaths.NewTempDir();
        var start = new ProcessStartInfo("bash")
        {
            WorkingDirectory = TestPaths.RepoRoot, RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true,
        };
        start.ArgumentList.Add("-euo");
        start.ArgumentList.Add("pipefail");
        start.ArgumentList.Add("-s");
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.StandardInput.Write(example.Script.Replace("/tmp/", scratch + "/", StringComparison.Ordinal));
        process.StandardInput.Close();
        using var timeout = new CancellationTokenSource(Limit);
        try { await process.WaitForExitAsync(timeout.Token); }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{file}:{line}: the example ran longer than {Limit.TotalMinutes} minutes; make it quicker or mark it "
                + "<!-- not run by the tests: REASON --> above its fence");
        }
        Assert.True(process.ExitCode == 0,
            $"{file}:{line}: the example exited with {process.ExitCode}\n--- stdout\n{await stdout}\n--- stderr\n{await stderr}");
    }

    [Fact]
    public void Documentation_has_examples_that_run()
    {
        var examples = MarkdownShellExample.FindAll(TestPaths.RepoRoot).ToList();
        Assert.Contains(examples, e => e.File == "README.md" && e.NotRunBecause is null && e.Script.Contains("./kit quantize"));
        Assert.Contains(examples, e => e.File == "README.md" && e.Script.Trim() == "./test.sh" && e.NotRunBecause is { Length: > 0 });
    }

    [Fact]
    public void Parser_finds_shell_scripts_and_their_markers_only()
    {
        string[] lines =
        [
            "text", "```bash", "echo one", "```",
            "<!-- not run by the tests: takes an hour -->", "", "```sh", "sleep 3600", "```",
            "```csharp", "var x = 1;", "```",
            "```console title", "$ ls", "```",
        ];
        var found = MarkdownShellExample.Parse("x.md", lines).ToList();

        Assert.Equal([new("x.md", 2, "echo one", null), new("x.md", 7, "sleep 3600", "takes an hour")], found);
        Assert.Throws<InvalidDataException>(() => MarkdownShellExample.Parse("y.md", ["```bash", "echo"]).ToList());
    }
}
