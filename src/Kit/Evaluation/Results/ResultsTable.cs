using System.Globalization;
using Microsoft.Data.Analysis;
using ParquetSharp;

namespace Kit.Evaluation.Results;

/// <summary>
/// The results table that every evaluation appends to: <c>results.csv</c> (the record kept) and
/// <c>results.parquet</c> (the same rows, for pandas, Polars or DuckDB) in a runs folder, one row per
/// <see cref="EvaluationRecord"/>, so that notebooks and <c>kit eval</c> compare variants across runs.
/// Both files are replaced atomically: an interrupted append leaves the previous table whole.
/// </summary>
public static class ResultsTable
{
    /// <summary>The CSV file's name in the runs folder.</summary>
    public const string CsvFile = "results.csv";
    /// <summary>The Parquet file's name in the runs folder.</summary>
    public const string ParquetFile = "results.parquet";

    static readonly string[] Columns = ["run_id", "time", "model", "baseline", "task", "metric", "value", "stderr", "count", "limit", "add_bos_token",
        "kind", "batch", "prompt_tokens", "new_tokens"];
    static readonly Type[] ColumnTypes = [typeof(string), typeof(string), typeof(string), typeof(string), typeof(string), typeof(string),
        typeof(double), typeof(double), typeof(long), typeof(long), typeof(string), typeof(string), typeof(long), typeof(long), typeof(long)];
    // Older tables hold a prefix of the columns: without the BOS policy (10), without the speed columns (11).
    static readonly int[] OlderWidths = [10, 11];

    /// <summary>Appends <paramref name="records"/> to the table in <paramref name="runsFolder"/> (created if needed) and returns the whole table.</summary>
    /// <exception cref="InvalidDataException">The folder's existing results.csv is not a Kit results table.</exception>
    public static DataFrame Append(string runsFolder, IEnumerable<EvaluationRecord> records)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(runsFolder);
        Directory.CreateDirectory(runsFolder);
        var all = Read(runsFolder).Concat(records).ToList();
        var frame = ToDataFrame(all);
        WriteAtomically(Path.Combine(runsFolder, CsvFile), path => DataFrame.SaveCsv(frame, path, cultureInfo: CultureInfo.InvariantCulture));
        WriteAtomically(Path.Combine(runsFolder, ParquetFile), path => WriteParquet(all, path));
        return frame;
    }

    /// <summary>The table in <paramref name="runsFolder"/> as a DataFrame (no rows when there is none yet).</summary>
    public static DataFrame Load(string runsFolder) => ToDataFrame(Read(runsFolder));

    /// <summary>The records in <paramref name="runsFolder"/>'s results.csv, oldest first (none when the file is absent).</summary>
    /// <exception cref="InvalidDataException">The file's columns are not the results table's.</exception>
    public static IReadOnlyList<EvaluationRecord> Read(string runsFolder)
    {
        string path = Path.Combine(runsFolder, CsvFile);
        if (!File.Exists(path)) return [];
        string header = File.ReadLines(path).FirstOrDefault() ?? "";
        int width = OlderWidths.Append(Columns.Length).FirstOrDefault(n => header == string.Join(',', Columns[..n]));
        if (width == 0) throw new InvalidDataException($"{path}: expected the columns {string.Join(',', Columns)}, found '{header}'");
        var frame = DataFrame.LoadCsv(path, columnNames: Columns[..width], dataTypes: ColumnTypes[..width], cultureInfo: CultureInfo.InvariantCulture);
        return FromDataFrame(frame);
    }

    /// <summary>The records of a DataFrame with the table's columns (as <see cref="Load"/> or <see cref="ToDataFrame"/> give it), in row order.</summary>
    /// <exception cref="ArgumentException">The frame lacks one of the table's columns (those added later, add_bos_token and the speed columns, may be absent).</exception>
    public static IReadOnlyList<EvaluationRecord> FromDataFrame(DataFrame frame)
    {
        var names = frame.Columns.Select(c => c.Name).ToHashSet();
        var missing = Columns[..OlderWidths[0]].Where(c => !names.Contains(c)).ToList();
        if (missing.Count > 0)
            throw new ArgumentException($"not a results table: the DataFrame lacks the column(s) {string.Join(", ", missing)} (it has {string.Join(", ", names)})");
        bool hasBos = names.Contains("add_bos_token"), hasSpeed = names.Contains("kind");
        var records = new List<EvaluationRecord>((int)frame.Rows.Count);
        foreach (var row in frame.Rows)
            records.Add(new EvaluationRecord((string)row["run_id"], DateTime.Parse((string)row["time"], CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind),
                (string)row["model"], NullIfEmpty(row["baseline"] as string), (string)row["task"], (string)row["metric"],
                Number(row["value"]), Number(row["stderr"]), Convert.ToInt64(row["count"], CultureInfo.InvariantCulture), Int(row["limit"]),
                hasBos ? NullIfEmpty(row["add_bos_token"] as string) : null,
                hasSpeed ? NullIfEmpty(row["kind"] as string) ?? ResultKinds.Accuracy : ResultKinds.Accuracy,
                hasSpeed ? Int(row["batch"]) : null, hasSpeed ? Int(row["prompt_tokens"]) : null, hasSpeed ? Int(row["new_tokens"]) : null));
        return records;
    }

    /// <summary>The records as a DataFrame with the table's columns.</summary>
    public static DataFrame ToDataFrame(IReadOnlyCollection<EvaluationRecord> records) => new(
        new StringDataFrameColumn("run_id", records.Select(r => r.RunId)),
        new StringDataFrameColumn("time", records.Select(r => Time(r.Time))),
        new StringDataFrameColumn("model", records.Select(r => r.Model)),
        new StringDataFrameColumn("baseline", records.Select(r => r.Baseline ?? "")),
        new StringDataFrameColumn("task", records.Select(r => r.Task)),
        new StringDataFrameColumn("metric", records.Select(r => r.Metric)),
        new DoubleDataFrameColumn("value", records.Select(r => r.Value)),
        new DoubleDataFrameColumn("stderr", records.Select(r => r.StdErr)),
        new Int64DataFrameColumn("count", records.Select(r => r.Count)),
        new Int64DataFrameColumn("limit", records.Select(r => (long?)r.Limit)),
        new StringDataFrameColumn("add_bos_token", records.Select(r => r.AddBosToken ?? "")),
        new StringDataFrameColumn("kind", records.Select(r => r.Kind)),
        new Int64DataFrameColumn("batch", records.Select(r => (long?)r.Batch)),
        new Int64DataFrameColumn("prompt_tokens", records.Select(r => (long?)r.PromptTokens)),
        new Int64DataFrameColumn("new_tokens", records.Select(r => (long?)r.NewTokens)));

    static string Time(DateTime t) => t.ToUniversalTime().ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);

    static string? NullIfEmpty(string? s) => string.IsNullOrEmpty(s) ? null : s;

    // Empty cells (a NaN written by an older writer, or a hand-edited file) read back as NaN.
    static double Number(object? cell) => cell is double d ? d : double.NaN;

    static int? Int(object? cell) => cell is null ? null : Convert.ToInt32(cell, CultureInfo.InvariantCulture);

    static void WriteParquet(IReadOnlyList<EvaluationRecord> records, string path)
    {
        var columns = new Column[]
        {
            new Column<string>("run_id"), new Column<string>("time"), new Column<string>("model"), new Column<string?>("baseline"),
            new Column<string>("task"), new Column<string>("metric"), new Column<double>("value"), new Column<double>("stderr"),
            new Column<long>("count"), new Column<long?>("limit"), new Column<string?>("add_bos_token"),
            new Column<string>("kind"), new Column<long?>("batch"), new Column<long?>("prompt_tokens"), new Column<long?>("new_tokens"),
        };
        using var file = new ParquetFileWriter(path, columns);
        using var group = file.AppendRowGroup();
        Write(group, records.Select(r => r.RunId));
        Write(group, records.Select(r => Time(r.Time)));
        Write(group, records.Select(r => r.Model));
        Write(group, records.Select(r => r.Baseline));
        Write(group, records.Select(r => r.Task));
        Write(group, records.Select(r => r.Metric));
        Write(group, records.Select(r => r.Value));
        Write(group, records.Select(r => r.StdErr));
        Write(group, records.Select(r => r.Count));
        Write(group, records.Select(r => (long?)r.Limit));
        Write(group, records.Select(r => r.AddBosToken));
        Write(group, records.Select(r => r.Kind));
        Write(group, records.Select(r => (long?)r.Batch));
        Write(group, records.Select(r => (long?)r.PromptTokens));
        Write(group, records.Select(r => (long?)r.NewTokens));
        file.Close();
    }

    static void Write<T>(RowGroupWriter group, IEnumerable<T> values)
    {
        using var writer = group.NextColumn().LogicalWriter<T>();
        writer.WriteBatch(values.ToArray());
    }

    static void WriteAtomically(string path, Action<string> write)
    {
        string temporary = path + $".{Environment.ProcessId}.tmp";
        try
        {
            write(temporary);
            File.Move(temporary, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temporary)) File.Delete(temporary);
        }
    }
}
