using Kit.Models.Tokenizers;
using ParquetSharp;

namespace Kit.Data;

/// <summary>
/// A Parquet file as the Hugging Face hub stores dataset splits: a string column per row (<c>text</c> in wikitext
/// and c4), a list-of-struct <c>messages</c> column (ultrachat_200k), or <c>instruction</c>/<c>input</c>/<c>output</c>
/// columns (open_platypus). Row groups are read one at a time.
/// </summary>
public sealed class ParquetSource : RecordFileSource
{
    /// <summary>Creates the source; the file is read on each <see cref="ReadDocuments"/>.</summary>
    /// <param name="path">The Parquet file.</param>
    /// <param name="fields">Which fields hold the document; null means the defaults of <see cref="DocumentFields"/>.</param>
    public ParquetSource(string path, DocumentFields? fields = null) : base(path, fields)
    {
    }

    /// <inheritdoc/>
    public override IEnumerable<CalibrationDocument> ReadDocuments()
    {
        if (!File.Exists(Path)) throw new FileNotFoundException($"Parquet file not found: {Path}", Path);
        using var file = Open();
        var schema = file.FileMetaData.Schema;
        var columns = TopLevelNames(schema);
        var layout = Fields.Resolve(columns, Path);
        if (file.FileMetaData.NumRows == 0) throw new InvalidDataException($"{Path} is empty: it has no rows");

        long firstRow = 0;
        for (int g = 0; g < file.FileMetaData.NumRowGroups; g++)
        {
            using var rowGroup = file.RowGroup(g);
            int rows = checked((int)rowGroup.MetaData.NumRows);
            IEnumerable<CalibrationDocument?> documents = layout switch
            {
                DocumentLayout.Text => Strings(rowGroup, schema, Fields.Text, rows)
                    .Select(t => string.IsNullOrWhiteSpace(t) ? null : new TextDocument(t)),
                DocumentLayout.Messages => Chats(rowGroup, schema, rows, firstRow),
                _ => Instructions(rowGroup, schema, columns, rows),
            };
            foreach (var document in documents)
                if (document is not null) yield return document;
            firstRow += rows;
        }
    }

    ParquetFileReader Open()
    {
        try { return new ParquetFileReader(Path); }
        catch (ParquetException e) { throw new InvalidDataException($"{Path} is not a readable Parquet file ({e.Message})", e); }
    }

    IEnumerable<CalibrationDocument?> Instructions(RowGroupReader rowGroup, SchemaDescriptor schema, List<string> columns, int rows)
    {
        string?[] instruction = Strings(rowGroup, schema, Fields.Instruction, rows);
        string?[] input = columns.Contains(Fields.Input) ? Strings(rowGroup, schema, Fields.Input, rows) : new string?[rows];
        string?[] output = columns.Contains(Fields.Output) ? Strings(rowGroup, schema, Fields.Output, rows) : new string?[rows];
        for (int r = 0; r < rows; r++)
            yield return string.IsNullOrWhiteSpace(instruction[r]) ? null
                : new TextDocument(DocumentFields.AlpacaText(instruction[r]!, input[r], output[r]));
    }

    IEnumerable<CalibrationDocument?> Chats(RowGroupReader rowGroup, SchemaDescriptor schema, int rows, long firstRow)
    {
        string?[]?[] roles = MessageLeaf(rowGroup, schema, "role", rows);
        string?[]?[] contents = MessageLeaf(rowGroup, schema, "content", rows);
        for (int r = 0; r < rows; r++)
        {
            if (roles[r] is not { Length: > 0 } role || contents[r] is not { } content) { yield return null; continue; }
            var messages = new ChatMessage[role.Length];
            for (int m = 0; m < role.Length; m++)
                messages[m] = new ChatMessage(
                    role[m] ?? throw new InvalidDataException($"{Path} row {firstRow + r}: {Fields.Messages}[{m}].role is null"),
                    content[m] ?? "");
            yield return new ChatDocument(messages);
        }
    }

    /// <summary>A top-level string column.</summary>
    string?[] Strings(RowGroupReader rowGroup, SchemaDescriptor schema, string name, int rows)
    {
        int index = FindLeaf(schema, path => path.Length == 1 && path[0] == name, 0)
            ?? throw new InvalidDataException($"{Path}: column '{name}' is not a plain string column (its type is {Describe(schema, name)})");
        using var column = rowGroup.Column(index);
        using var reader = column.LogicalReader<string?>();
        return reader.ReadAll(rows);
    }

    /// <summary>One field of the list-of-struct messages column: a list of strings per row.</summary>
    string?[]?[] MessageLeaf(RowGroupReader rowGroup, SchemaDescriptor schema, string field, int rows)
    {
        int index = FindLeaf(schema, path => path.Length > 1 && path[0] == Fields.Messages && path[^1] == field, 1)
            ?? throw new InvalidDataException(
                $"{Path}: column '{Fields.Messages}' is not a list of {{role, content}} strings (its type is {Describe(schema, Fields.Messages)})");
        using var column = rowGroup.Column(index);
        using var reader = column.LogicalReader<string?[]?>();
        return reader.ReadAll(rows);
    }

    static List<string> TopLevelNames(SchemaDescriptor schema)
    {
        using var root = schema.GroupNode;
        var names = new List<string>();
        foreach (var field in root.Fields)
            using (field) names.Add(field.Name);
        return names;
    }

    static string[] LeafPath(ColumnDescriptor leaf)
    {
        using var path = leaf.Path;
        return path.ToDotVector();
    }

    static int? FindLeaf(SchemaDescriptor schema, Func<string[], bool> matches, int repetition)
    {
        for (int i = 0; i < schema.NumColumns; i++)
        {
            var leaf = schema.Column(i);
            if (matches(LeafPath(leaf)) && leaf.PhysicalType == PhysicalType.ByteArray && leaf.MaxRepetitionLevel == repetition)
                return i;
        }
        return null;
    }

    static string Describe(SchemaDescriptor schema, string name)
    {
        var leaves = Enumerable.Range(0, schema.NumColumns).Select(schema.Column)
            .Select(c => (Path: LeafPath(c), c.PhysicalType, c.MaxRepetitionLevel))
            .Where(c => c.Path[0] == name)
            .Select(c => $"{string.Join('.', c.Path)} {c.PhysicalType}{(c.MaxRepetitionLevel > 0 ? $" in {c.MaxRepetitionLevel} nested list(s)" : "")}");
        return string.Join(", ", leaves);
    }
}
