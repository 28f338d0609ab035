using Kit.Calibration;
using Kit.Evaluation.Agreement;
using Kit.Evaluation.Results;
using ParquetSharp;

namespace Kit.Tests.Evaluation;

public sealed class ResultsTableTests
{
    static readonly DateTime T0 = new(2026, 11, 28, 10, 0, 0, 250, DateTimeKind.Utc);

    static EvaluationRecord[] Run(string id, string model) =>
    [
        new(id, T0, model, null, "perplexity", "perplexity", 12.5, double.NaN, 3000, null),
        new(id, T0.AddMinutes(1), model, "base, dense", "hellaswag", "acc_norm", 0.25, 0.0433, 100, 100, "auto:true"),
    ];

    [Fact]
    public void Appends_accumulate_and_read_back_exactly()
    {
        string runs = TestPaths.NewTempDir();
        ResultsTable.Append(runs, Run("a", "/m/dense"));
        var frame = ResultsTable.Append(runs, Run("b", "/m/w4a16"));
        Assert.Equal(4, frame.Rows.Count);
        Assert.Equal(Run("a", "/m/dense").Concat(Run("b", "/m/w4a16")), ResultsTable.Read(runs));
        Assert.Equal("run_id,time,model,baseline,task,metric,value,stderr,count,limit,add_bos_token,kind,batch,prompt_tokens,new_tokens", File.ReadLines(Path.Combine(runs, ResultsTable.CsvFile)).First());
        Assert.Empty(Directory.EnumerateFiles(runs, "*.tmp"));
    }

    [Fact]
    public void Parquet_file_holds_the_same_rows()
    {
        string runs = TestPaths.NewTempDir();
        ResultsTable.Append(runs, Run("a", "m1"));
        ResultsTable.Append(runs, Run("b", "m2"));
        using var file = new ParquetFileReader(Path.Combine(runs, ResultsTable.ParquetFile));
        Assert.Equal(4, file.FileMetaData.NumRows);
        using var group = file.RowGroup(0);
        Assert.Equal(new[] { "m1", "m1", "m2", "m2" }, group.Column(2).LogicalReader<string>().ReadAll(4));
        Assert.Equal(new string?[] { null, "base, dense", null, "base, dense" }, group.Column(3).LogicalReader<string?>().ReadAll(4));
        Assert.Equal(new[] { 12.5, 0.25, 12.5, 0.25 }, group.Column(6).LogicalReader<double>().ReadAll(4));
        Assert.Equal(new long?[] { null, 100, null, 100 }, group.Column(9).LogicalReader<long?>().ReadAll(4));
        Assert.Equal(new string?[] { null, "auto:true", null, "auto:true" }, group.Column(10).LogicalReader<string?>().ReadAll(4));
    }

    [Fact]
    public void A_table_from_before_the_bos_column_reads_and_grows_the_column()
    {
        string runs = TestPaths.NewTempDir();
        File.WriteAllText(Path.Combine(runs, ResultsTable.CsvFile), """
            run_id,time,model,baseline,task,metric,value,stderr,count,limit
            old,2026-11-28T10:00:00.250Z,m0,,piqa,acc,0.5,0.1,10,10

            """.Replace("\r", ""));
        var old = Assert.Single(ResultsTable.Read(runs));
        Assert.Equal(new EvaluationRecord("old", T0, "m0", null, "piqa", "acc", 0.5, 0.1, 10, 10), old);

        ResultsTable.Append(runs, Run("a", "m1"));
        Assert.Equal(new[] { old }.Concat(Run("a", "m1")), ResultsTable.Read(runs));
        Assert.EndsWith(",limit,add_bos_token,kind,batch,prompt_tokens,new_tokens", File.ReadLines(Path.Combine(runs, ResultsTable.CsvFile)).First());
    }

    [Fact]
    public void A_table_from_before_the_speed_columns_reads_as_accuracy_rows_and_takes_speed_rows()
    {
        string runs = TestPaths.NewTempDir();
        File.WriteAllText(Path.Combine(runs, ResultsTable.CsvFile), """
            run_id,time,model,baseline,task,metric,value,stderr,count,limit,add_bos_token
            old,2026-11-28T10:00:00.250Z,m0,,piqa,acc,0.5,0.1,10,10,auto:true

            """.Replace("\r", ""));
        var old = Assert.Single(ResultsTable.Read(runs));
        Assert.Equal(new EvaluationRecord("old", T0, "m0", null, "piqa", "acc", 0.5, 0.1, 10, 10, "auto:true"), old);
        Assert.Equal(ResultKinds.Accuracy, old.Kind);

        var speed = new EvaluationRecord("s", T0, "m0", null, "speed", "decode_tokens_per_s", 41.5, double.NaN, 3, null,
            Kind: ResultKinds.Speed, Batch: 4, PromptTokens: 128, NewTokens: 16);
        var frame = ResultsTable.Append(runs, [speed]);
        Assert.Equal(new[] { old, speed }, ResultsTable.Read(runs));
        Assert.Equal(new[] { "accuracy", "speed" }, frame.Columns["kind"].Cast<string>());
        Assert.Equal(new long?[] { null, 4 }, frame.Columns["batch"].Cast<long?>());
        using var file = new ParquetFileReader(Path.Combine(runs, ResultsTable.ParquetFile));
        using var group = file.RowGroup(0);
        Assert.Equal(new[] { "accuracy", "speed" }, group.Column(11).LogicalReader<string>().ReadAll(2));
        Assert.Equal(new long?[] { null, 128 }, group.Column(13).LogicalReader<long?>().ReadAll(2));
    }

    [Fact]
    public void A_foreign_csv_is_refused_and_left_alone()
    {
        string runs = TestPaths.NewTempDir();
        string csv = Path.Combine(runs, ResultsTable.CsvFile);
        File.WriteAllText(csv, "a,b\n1,2\n");
        var e = Assert.Throws<InvalidDataException>(() => ResultsTable.Append(runs, Run("a", "m")));
        Assert.Contains("results.csv", e.Message);
        Assert.Equal("a,b\n1,2\n", File.ReadAllText(csv));
    }

    [Fact]
    public void Layer_errors_come_from_the_compression_report()
    {
        string folder = TestPaths.NewTempDir();
        Assert.Empty(LayerErrors.Read(folder));
        File.WriteAllText(Path.Combine(folder, CompressionReportFile.FileName), """
            { "Modules": [
              { "Layer": 0, "Module": "model.layers.0.self_attn.q_proj", "Rows": 4, "Columns": 4, "ErrorPerToken": 0.5, "RelativeError": 0.01, "Sparsity": 0.5 },
              { "Layer": 1, "Module": "model.layers.1.mlp.down_proj", "Rows": 4, "Columns": 4, "ErrorPerToken": "NaN", "RelativeError": "NaN", "Sparsity": 0 } ] }
            """);
        var errors = LayerErrors.Read(folder);
        Assert.Equal(2, errors.Count);
        Assert.Equal(new LayerError(0, "model.layers.0.self_attn.q_proj", 0.01, 0.5, 0.5), errors[0]);
        Assert.True(double.IsNaN(errors[1].RelativeError));
        File.WriteAllText(Path.Combine(folder, CompressionReportFile.FileName), "{ \"modules\": 3 }");
        Assert.Contains("kit_compression.json", Assert.Throws<InvalidDataException>(() => LayerErrors.Read(folder)).Message);
    }
}
