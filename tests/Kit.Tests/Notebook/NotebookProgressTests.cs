using Kit.Calibration;
using Kit.Notebook;

namespace Kit.Tests.Notebook;

public sealed class NotebookProgressTests
{
    sealed class FakeDisplay
    {
        public readonly List<string> Shown = [];
        public readonly List<string> Updates = [];

        public Action<object> Show(object value)
        {
            Shown.Add(((HtmlOutput)value).Html);
            return next => Updates.Add(((HtmlOutput)next).Html);
        }
    }

    [Fact]
    public void Compression_progress_is_one_output_updated_in_place_ending_at_all_layers()
    {
        var display = new FakeDisplay();
        var progress = NotebookProgress.Compression("GPTQ <W4A16>", display.Show, TimeSpan.FromHours(1));
        // Unthrottled here would be 2 layers × (start + 2 modules) + close = 7 reports; a fast loop shows the first and the last.
        progress.Report(new CompressionProgress(0, 2, null, null));
        progress.Report(new CompressionProgress(0, 2, "model.layers.0.self_attn.q_proj", 0.0123));
        progress.Report(new CompressionProgress(0, 2, "model.layers.0.mlp.down_proj", double.NaN));
        progress.Report(new CompressionProgress(1, 2, null, null));
        progress.Report(new CompressionProgress(2, 2, null, null));
        // The bar, then the outcome on its own line (a headless run keeps displays but not their updates).
        Assert.Equal(2, display.Shown.Count);
        Assert.Contains("layer 1/2", display.Shown[0]);
        Assert.Contains("GPTQ &lt;W4A16&gt;: 2 layers compressed in ", display.Shown[1]);
        Assert.Contains("GPTQ &lt;W4A16&gt;", display.Shown[0]);
        Assert.Contains("value=\"0\"", display.Shown[0]);
        string last = Assert.Single(display.Updates);
        Assert.Contains("value=\"1\"", last);
        Assert.Contains("100 %", last);
        Assert.Contains("2 layers compressed", last);
        Assert.Contains("done in", last);
    }

    [Fact]
    public void Updates_come_at_most_once_per_interval_except_the_last()
    {
        var display = new FakeDisplay();
        var progress = new NotebookProgress("scoring", display.Show, TimeSpan.FromHours(1));
        for (int i = 0; i <= 1000; i++) progress.Report(i / 1000.0, $"{i} of 1000");
        Assert.Equal(2, display.Shown.Count);
        Assert.Single(display.Updates);
        Assert.Contains("1000 of 1000", display.Updates[0]);

        var every = new FakeDisplay();
        var unthrottled = new NotebookProgress("scoring", every.Show, TimeSpan.Zero);
        for (int i = 0; i < 5; i++) unthrottled.Report(i / 10.0, "");
        Assert.Equal(4, every.Updates.Count);
        Assert.Contains("40.0 %", every.Updates[^1]);
    }

    [Fact]
    public void Outside_a_notebook_nothing_is_shown_and_nothing_fails()
    {
        NotebookProgress.Display = null;
        var progress = NotebookProgress.Fraction("perplexity");
        progress.Report(0.5);
        progress.Report(1);
    }

    [Theory]
    [InlineData(0, 8, null, 0.0)]
    [InlineData(3, 8, null, 0.375)]
    [InlineData(3, 8, "model.layers.3.mlp.down_proj", 0.4375)]
    [InlineData(8, 8, null, 1.0)]
    public void Compression_fraction_counts_layers_done(int layer, int layers, string? module, double fraction) =>
        Assert.Equal(fraction, new CompressionProgress(layer, layers, module, 0.01).Fraction, 12);

    [Fact]
    public void Compression_without_calibration_says_so_instead_of_NaN()
    {
        Assert.Equal("layer 1/4 · model.layers.0.mlp.up_proj (no calibration data: error not measured)",
            new CompressionProgress(0, 4, "model.layers.0.mlp.up_proj", null).Describe());
        Assert.Equal("layer 1/4 · model.layers.0.mlp.up_proj (relative error 0.0123)",
            new CompressionProgress(0, 4, "model.layers.0.mlp.up_proj", 0.012345).Describe());
    }
}
