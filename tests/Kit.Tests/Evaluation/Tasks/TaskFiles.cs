using ParquetSharp;
using ParquetSharp.Schema;

namespace Kit.Tests.Evaluation.Tasks;

/// <summary>Small task files laid out as the hub datasets store them.</summary>
internal static class TaskFiles
{
    /// <summary>A JSON Lines file of the given lines in a fresh folder.</summary>
    public static string Jsonl(string name, params string[] lines)
    {
        string path = Path.Combine(TestPaths.NewTempDir(), name);
        File.WriteAllLines(path, lines);
        return path;
    }

    static PrimitiveNode StringNode(string name) => new(name, Repetition.Optional, LogicalType.String(), PhysicalType.ByteArray);

    /// <summary>A pyarrow-style list of strings: optional LIST group, repeated "list" group, optional "element".</summary>
    static GroupNode StringList(string name)
    {
        using var element = StringNode("element");
        using var list = new GroupNode("list", Repetition.Repeated, [element]);
        return new GroupNode(name, Repetition.Optional, [list], LogicalType.List());
    }

    /// <summary>HellaSwag's hub layout: string columns and <c>endings</c> as a list of strings.</summary>
    public static string HellaSwagParquet(params (string Activity, string CtxA, string CtxB, string[] Endings, string Label)[] rows)
    {
        string path = Path.Combine(TestPaths.NewTempDir(), "validation-00000-of-00001.parquet");
        using var activity = StringNode("activity_label");
        using var ctxA = StringNode("ctx_a");
        using var ctxB = StringNode("ctx_b");
        using var endings = StringList("endings");
        using var label = StringNode("label");
        using var schema = new GroupNode("schema", Repetition.Required, [activity, ctxA, ctxB, endings, label]);
        using var properties = new WriterPropertiesBuilder().Build();
        using var writer = new ParquetFileWriter(path, schema, properties);
        using var group = writer.AppendRowGroup();
        using (var c = group.NextColumn().LogicalWriter<string?>()) c.WriteBatch(rows.Select(r => r.Activity).ToArray());
        using (var c = group.NextColumn().LogicalWriter<string?>()) c.WriteBatch(rows.Select(r => r.CtxA).ToArray());
        using (var c = group.NextColumn().LogicalWriter<string?>()) c.WriteBatch(rows.Select(r => r.CtxB).ToArray());
        using (var c = group.NextColumn().LogicalWriter<string?[]?>()) c.WriteBatch(rows.Select(r => (string?[]?)r.Endings).ToArray());
        using (var c = group.NextColumn().LogicalWriter<string?>()) c.WriteBatch(rows.Select(r => r.Label).ToArray());
        writer.Close();
        return path;
    }

    /// <summary>ARC's hub layout: <c>choices</c> is a struct of two lists of strings, <c>text</c> and <c>label</c>.</summary>
    public static string ArcParquet(params (string Question, string[] Texts, string[] Labels, string AnswerKey)[] rows)
    {
        string path = Path.Combine(TestPaths.NewTempDir(), "test-00000-of-00001.parquet");
        using var id = StringNode("id");
        using var question = StringNode("question");
        using var text = StringList("text");
        using var label = StringList("label");
        using var choices = new GroupNode("choices", Repetition.Optional, [text, label]);
        using var answerKey = StringNode("answerKey");
        using var schema = new GroupNode("schema", Repetition.Required, [id, question, choices, answerKey]);
        using var properties = new WriterPropertiesBuilder().Build();
        using var writer = new ParquetFileWriter(path, schema, properties);
        using var group = writer.AppendRowGroup();
        using (var c = group.NextColumn().LogicalWriter<string?>()) c.WriteBatch(rows.Select((_, i) => $"q{i}").ToArray());
        using (var c = group.NextColumn().LogicalWriter<string?>()) c.WriteBatch(rows.Select(r => r.Question).ToArray());
        using (var c = group.NextColumn().LogicalWriter<Nested<string?[]?>?>())
            c.WriteBatch(rows.Select(r => (Nested<string?[]?>?)new Nested<string?[]?>(r.Texts)).ToArray());
        using (var c = group.NextColumn().LogicalWriter<Nested<string?[]?>?>())
            c.WriteBatch(rows.Select(r => (Nested<string?[]?>?)new Nested<string?[]?>(r.Labels)).ToArray());
        using (var c = group.NextColumn().LogicalWriter<string?>()) c.WriteBatch(rows.Select(r => r.AnswerKey).ToArray());
        writer.Close();
        return path;
    }

    /// <summary>PIQA's hub layout: string columns and an int64 <c>label</c>.</summary>
    public static string PiqaParquet(params (string Goal, string Sol1, string Sol2, long Label)[] rows)
    {
        string path = Path.Combine(TestPaths.NewTempDir(), "validation-00000-of-00001.parquet");
        using var writer = new ParquetFileWriter(path,
            [new Column<string>("goal"), new Column<string>("sol1"), new Column<string>("sol2"), new Column<long>("label")]);
        using var group = writer.AppendRowGroup();
        using (var c = group.NextColumn().LogicalWriter<string>()) c.WriteBatch(rows.Select(r => r.Goal).ToArray());
        using (var c = group.NextColumn().LogicalWriter<string>()) c.WriteBatch(rows.Select(r => r.Sol1).ToArray());
        using (var c = group.NextColumn().LogicalWriter<string>()) c.WriteBatch(rows.Select(r => r.Sol2).ToArray());
        using (var c = group.NextColumn().LogicalWriter<long>()) c.WriteBatch(rows.Select(r => r.Label).ToArray());
        writer.Close();
        return path;
    }
}
