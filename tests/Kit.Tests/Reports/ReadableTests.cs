using Kit.Evaluation.Results;
using Kit.Reports;
using Microsoft.Data.Analysis;

namespace Kit.Tests.Reports;

public sealed class ReadableTests
{
    [Theory]
    [InlineData(0.02039896779925919, "0.0204")]
    [InlineData(20.4, "20.4")]
    [InlineData(1502.3, "1,502")]
    [InlineData(12.0, "12.0")]
    [InlineData(9.996, "10.0")]
    [InlineData(0.1, "0.100")]
    [InlineData(-3.14159, "-3.14")]
    [InlineData(0.0, "0")]
    [InlineData(3.1e-5, "3.10e-05")]
    [InlineData(1234567.0, "1,234,567")]
    public void Numbers_keep_three_significant_digits(double value, string expected) => Assert.Equal(expected, Readable.Number(value));

    [Fact]
    public void Missing_values_show_as_a_dash_not_NaN_or_null()
    {
        Assert.Equal("–", Readable.Number(double.NaN));
        Assert.Equal("–", Readable.Number(null));
        Assert.Equal("–", Readable.Milliseconds(double.NaN));
        Assert.Equal("–", Readable.Bytes(null));
        Assert.Equal("–", Readable.Percent(double.NaN));
        Assert.Equal("∞", Readable.Number(double.PositiveInfinity));
    }

    [Theory]
    [InlineData(96, "96 B")]
    [InlineData(512_000, "512 kB")]
    [InlineData(1_230_000_000, "1.23 GB")]
    [InlineData(991 * 1048576.0, "1.04 GB")]
    [InlineData(999_600, "1.00 MB")]
    [InlineData(4.4e12, "4.40 TB")]
    public void Bytes_use_decimal_units(double bytes, string expected) => Assert.Equal(expected, Readable.Bytes(bytes));

    [Fact]
    public void Units_follow_the_value_after_a_space()
    {
        Assert.Equal("20.4 ms", Readable.Milliseconds(20.3999));
        Assert.Equal("25.5 tok/s", Readable.TokensPerSecond(25.5));
        Assert.Equal("87.3 %", Readable.Percent(0.873));
        Assert.Equal("39.0 %", Readable.Percent(0.39));
        Assert.Equal("41.6 GB/s", Readable.BytesPerSecond(41.6e9));
        Assert.Equal("1.23 TFLOP/s", Readable.FlopsPerSecond(1.23e12));
        Assert.Equal("0.690×", Readable.Times(0.69));
        Assert.Equal("64.0 s", Readable.Seconds(64));
        Assert.Equal("12,345", Readable.Count(12345));
    }

    [Theory]
    [InlineData("/work/runs/notebook/eval-gptq-w4", "eval-gptq-w4")]
    [InlineData("../runs/notebook/eval-gptq-w4/", "eval-gptq-w4")]
    [InlineData("HuggingFaceTB/SmolLM2-135M", "HuggingFaceTB/SmolLM2-135M")]
    [InlineData("stories260K", "stories260K")]
    public void Models_show_their_folder_name_and_hub_ids_stay_whole(string model, string expected) => Assert.Equal(expected, Readable.Model(model));

    static EvaluationRecord Row(string run, string model, string task, string metric, double value, double stdErr, string? baseline = null) =>
        new(run, new DateTime(2026, 12, 4, 12, 0, 0, DateTimeKind.Utc), model, baseline, task, metric, value, stdErr, 922, null);

    [Fact]
    public void Results_table_shows_units_per_metric_and_drops_empty_columns()
    {
        var table = Tables.Results(
        [
            Row("r1", "/x/runs/eval-gptq-w4", "agreement", "kl_mean", 0.02039896779925919, 0.0011, "default"),
            Row("r1", "/x/runs/eval-gptq-w4", "agreement", "top1_agreement", 0.8947, 0.0101, "default"),
            Row("r1", "/x/runs/eval-gptq-w4", "perplexity", "perplexity", 19.7612, double.NaN),
            Row("r1", "/x/runs/eval-gptq-w4", "kit_stories", "acc_norm", 0.41666, 0.1028),
        ]);
        // One run: no run column; no limit and no BOS in any row: neither column.
        Assert.Equal(["model", "baseline", "task", "metric", "value", "± stderr", "n"], table.Columns.Select(c => c.Header));
        Assert.Equal(["eval-gptq-w4", "default", "agreement", "kl_mean", "0.0204 nats", "0.00110 nats", "922"], table.Rows[0]);
        Assert.Equal(["89.5 %", "1.01 %"], table.Rows[1].Skip(4).Take(2));
        Assert.Equal(["–", "19.8", "–"], [table.Rows[2][1], table.Rows[2][4], table.Rows[2][5]]);
        Assert.Equal("41.7 %", table.Rows[3][4]);
    }

    [Fact]
    public void Results_from_several_runs_name_the_run_and_render_without_wrapping()
    {
        var records = new[] { Row("20261204-171552-a1b2c3", "m", "perplexity", "perplexity", 4.0, double.NaN), Row("20261204-171700-d4e5f6", "m", "perplexity", "perplexity", 4.5, double.NaN) };
        var table = Tables.Results(ResultsTable.ToDataFrame(records));
        Assert.Equal("run", table.Columns[0].Header);
        string html = table.ToHtml();
        Assert.Contains("white-space:nowrap", html);
        Assert.Contains(">20261204-171552-a1b2c3<", html);
        Assert.DoesNotContain("null", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("NaN", html);
    }

    [Fact]
    public void Text_table_aligns_numbers_right_and_names_left()
    {
        var table = ReadableTable.Of(new[] { ("a", 1.5), ("longer", 1234.5) },
            (new TableColumn("name"), x => x.Item1), (new TableColumn("time", Numeric: true), x => Readable.Milliseconds(x.Item2)));
        Assert.Equal("name        time\n------  --------\na        1.50 ms\nlonger  1,235 ms\n".Replace("\n", Environment.NewLine), table.ToText());
        var lines = table.ToText().Split(Environment.NewLine);
        Assert.Equal(lines[2].Length, lines[3].Length);
        Assert.EndsWith(" 1.50 ms", lines[2]);
        Assert.Equal("| name | time |\n| --- | ---: |\n| a | 1.50 ms |\n| longer | 1,235 ms |\n".Replace("\n", Environment.NewLine), table.ToMarkdown());
    }

    [Fact]
    public void Data_frames_read_without_long_decimals_or_null_cells()
    {
        var frame = new DataFrame(
            new StringDataFrameColumn("module", ["q_proj", null!]),
            new DoubleDataFrameColumn("relative error", [0.02039896779925919, double.NaN]),
            new Int32DataFrameColumn("GPUs", [4, null]),
            new DoubleDataFrameColumn("sparsity fraction", [0.5, 0.25]));
        var table = Tables.Frame(frame);
        Assert.Equal(["q_proj", "0.0204", "4", "50.0 %"], table.Rows[0]);
        Assert.Equal(["–", "–", "–", "25.0 %"], table.Rows[1]);
        Assert.False(table.Columns[0].Numeric);
        Assert.True(table.Columns[1].Numeric);
    }

    [Fact]
    public void A_row_with_the_wrong_number_of_cells_is_refused_with_the_columns_named()
    {
        var e = Assert.Throws<ArgumentException>(() => new ReadableTable([new TableColumn("a"), new TableColumn("b")], [["1"]]));
        Assert.Contains("1 cells for 2 columns (a, b)", e.Message);
    }
}
