using Kit.Models.Tokenizers;
using ParquetSharp;
using ParquetSharp.Schema;

namespace Kit.Tests.Data;

/// <summary>The stories260K tokenizer, small data files, and Parquet files laid out as the hub stores datasets.</summary>
internal static class DataFixtures
{
    static readonly Lazy<KitTokenizer> Stories = new(() => TokenizerLoader.FromFolder(TestPaths.Stories260K));

    /// <summary>stories260K's SentencePiece tokenizer (BOS 1 added, EOS 2).</summary>
    public static KitTokenizer Tokenizer => Stories.Value;

    /// <summary>Writes <paramref name="content"/> to a new file named <paramref name="name"/> in a fresh folder.</summary>
    public static string WriteFile(string name, string content)
    {
        string path = Path.Combine(TestPaths.NewTempDir(), name);
        File.WriteAllText(path, content);
        return path;
    }

    /// <summary>A Parquet file with nullable string columns, each row group given as its own rows (as pyarrow writes).</summary>
    public static void WriteStrings(string path, string[] columns, params string?[][][] rowGroups)
    {
        var nodes = columns.Select(c => (Node)new PrimitiveNode(c, Repetition.Optional, LogicalType.String(), PhysicalType.ByteArray)).ToArray();
        using var schema = new GroupNode("schema", Repetition.Required, nodes);
        using var properties = new WriterPropertiesBuilder().Compression(Compression.Snappy).Build();
        using var writer = new ParquetFileWriter(path, schema, properties);
        foreach (var rows in rowGroups)
        {
            using var group = writer.AppendRowGroup();
            for (int c = 0; c < columns.Length; c++)
            {
                using var column = group.NextColumn().LogicalWriter<string?>();
                column.WriteBatch(rows.Select(r => r[c]).ToArray());
            }
        }
        writer.Close();
        foreach (var node in nodes) node.Dispose();
    }

    /// <summary>
    /// A Parquet file like ultrachat_200k: a <c>prompt</c> string column and <c>messages</c>, an optional list of
    /// optional structs {content, role}, which is how <c>datasets</c> (pyarrow) writes a list of dicts.
    /// </summary>
    public static void WriteChats(string path, string[] prompts, ChatMessage[]?[] chats)
    {
        using var prompt = new PrimitiveNode("prompt", Repetition.Optional, LogicalType.String(), PhysicalType.ByteArray);
        using var content = new PrimitiveNode("content", Repetition.Optional, LogicalType.String(), PhysicalType.ByteArray);
        using var role = new PrimitiveNode("role", Repetition.Optional, LogicalType.String(), PhysicalType.ByteArray);
        using var element = new GroupNode("element", Repetition.Optional, [content, role]);
        using var list = new GroupNode("list", Repetition.Repeated, [element]);
        using var messages = new GroupNode("messages", Repetition.Optional, [list], LogicalType.List());
        using var schema = new GroupNode("schema", Repetition.Required, [prompt, messages]);
        using var properties = new WriterPropertiesBuilder().Build();
        using var writer = new ParquetFileWriter(path, schema, properties);
        using var group = writer.AppendRowGroup();
        using (var column = group.NextColumn().LogicalWriter<string?>()) column.WriteBatch(prompts);
        using (var column = group.NextColumn().LogicalWriter<Nested<string?>?[]?>())
            column.WriteBatch(chats.Select(c => c?.Select(m => (Nested<string?>?)new Nested<string?>(m.Content)).ToArray()).ToArray());
        using (var column = group.NextColumn().LogicalWriter<Nested<string?>?[]?>())
            column.WriteBatch(chats.Select(c => c?.Select(m => (Nested<string?>?)new Nested<string?>(m.Role)).ToArray()).ToArray());
        writer.Close();
    }

    /// <summary>The documents of a source, as (kind, text) pairs that compare by value.</summary>
    public static List<string> Describe(IEnumerable<Kit.Data.CalibrationDocument> documents) =>
        documents.Select(d => d switch
        {
            Kit.Data.TextDocument t => "text:" + t.Text,
            Kit.Data.ChatDocument c => "chat:" + string.Join("|", c.Messages.Select(m => $"{m.Role}={m.Content}")),
            _ => throw new InvalidOperationException(),
        }).ToList();

    /// <summary>Index of the first occurrence of <paramref name="window"/> in <paramref name="stream"/>, or -1.</summary>
    public static int IndexOf(int[] stream, int[] window) => stream.AsSpan().IndexOf(window);
}
