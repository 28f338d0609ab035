using Kit.Cli.Commands;

namespace Kit.Tests.Cli;

public sealed class TerminalProgressTests
{
    [Fact]
    public void Redirected_progress_is_plain_lines_without_escapes_or_wrapping()
    {
        var output = new StringWriter();
        var progress = new TerminalProgress(output, isTerminal: false);
        string longDetail = "kit_stories (" + new string('x', 150) + ".jsonl; add_bos_token=auto:true)";
        int answer = progress.Run(scope =>
        {
            var line = scope.Line("scoring");
            for (int i = 0; i <= 20; i++) line.Report(i / 20.0, longDetail);
            scope.Log("layer 1/2 · model.layers.0.mlp.down_proj (relative error 0.0123)");
            var second = scope.Line("perplexity").Fractions("story.txt");
            second.Report(0.04);
            second.Report(0.05);
            second.Report(0.5);
            return 42;
        });
        Assert.Equal(42, answer);
        string text = output.ToString();
        Assert.DoesNotContain('\u001b', text);
        Assert.DoesNotContain('\r', text);
        var lines = text.Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
        // A line each time the bar passes a tenth (0 %, 10 %, ... 100 %), none for the steps in between.
        Assert.Equal(11, lines.Count(l => l.StartsWith("scoring ", StringComparison.Ordinal)));
        Assert.Equal($"scoring {longDetail}: 0%", lines[0]);
        Assert.Equal($"scoring {longDetail}: 100%", lines[10]);
        Assert.Equal("layer 1/2 · model.layers.0.mlp.down_proj (relative error 0.0123)", lines[11]);
        Assert.Equal(["perplexity story.txt: 4%", "perplexity story.txt: 50%"], lines[12..]);
    }
}
