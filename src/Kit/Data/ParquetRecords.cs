using System.Collections;
using System.Text.Json.Nodes;
using ParquetSharp;
using ParquetSharp.Schema;

namespace Kit.Data;

/// <summary>
/// The rows of a Parquet file as JSON objects, nested the way <c>datasets</c> (pyarrow) writes features: scalar
/// columns, structs (ARC's <c>choices</c>), and three-level lists (HellaSwag's <c>endings</c>) of either.
/// Columns of other shapes (maps, legacy two-level lists) are left out of the rows.
/// </summary>
internal static class ParquetRecords
{
    /// <summary>Each row with where it is (<c>file row N</c>).</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not a readable Parquet file.</exception>
    public static IEnumerable<(JsonObject Record, string Where)> Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Parquet file not found: {path}", path);
        return ReadRows(path);
    }

    static IEnumerable<(JsonObject Record, string Where)> ReadRows(string path)
    {
        ParquetFileReader file;
        try { file = new ParquetFileReader(path); }
        catch (ParquetException e) { throw new InvalidDataException($"{path} is not a readable Parquet file ({e.Message})", e); }
        using (file)
        {
            var schema = file.FileMetaData.Schema;
            var leaves = Enumerable.Range(0, schema.NumColumns).Select(i => (Index: i, Path: NodePath(schema.Column(i))))
                .Where(l => IsSupported(l.Path)).ToList();
            long firstRow = 0;
            for (int g = 0; g < file.FileMetaData.NumRowGroups; g++)
            {
                using var rowGroup = file.RowGroup(g);
                int rows = checked((int)rowGroup.MetaData.NumRows);
                var records = Enumerable.Range(0, rows).Select(_ => new JsonObject()).ToArray();
                foreach (var (index, nodes) in leaves)
                {
                    using var column = rowGroup.Column(index);
                    using var reader = column.LogicalReader(useNesting: false);
                    object?[] values = reader.Apply(new ReadAllVisitor(rows));
                    for (int r = 0; r < rows; r++)
                        Merge(records[r], new JsonObject { [nodes[0].Name] = Wrap(nodes, 0, values[r]) });
                }
                for (int r = 0; r < rows; r++) yield return (records[r], $"{path} row {firstRow + r}");
                firstRow += rows;
            }
        }
    }

    /// <summary>One schema node on the way from a top-level field down to a leaf column.</summary>
    sealed record PathNode(string Name, bool IsList, bool IsRepeated, bool IsGroup);

    static PathNode[] NodePath(ColumnDescriptor leaf)
    {
        var nodes = new List<PathNode>();
        for (Node? node = leaf.SchemaNode; node is not null;)
        {
            var parent = node.Parent;
            if (parent is not null)
                using (var logical = node.LogicalType)
                    nodes.Add(new PathNode(node.Name, logical is ListLogicalType, node.Repetition == Repetition.Repeated, node is GroupNode));
            node.Dispose();
            node = parent;
        }
        nodes.Reverse();
        return [.. nodes];
    }

    /// <summary>Repeated nodes only as the middle level of a LIST group (the Parquet spec's three-level list).</summary>
    static bool IsSupported(PathNode[] nodes)
    {
        for (int j = 0; j < nodes.Length; j++)
        {
            if (nodes[j].IsList && (j + 2 >= nodes.Length || !nodes[j + 1].IsRepeated || !nodes[j + 1].IsGroup)) return false;
            if (nodes[j].IsRepeated && (j == 0 || !nodes[j - 1].IsList)) return false;
        }
        return true;
    }

    /// <summary>
    /// The JSON for <paramref name="value"/>, the leaf's value as ParquetSharp reads it without Nested wrappers,
    /// seen from node <paramref name="j"/>: a list node maps its items through its element node (two levels down),
    /// a struct node becomes an object holding its child.
    /// </summary>
    static JsonNode? Wrap(PathNode[] nodes, int j, object? value)
    {
        if (j == nodes.Length - 1) return Scalar(value);
        if (nodes[j].IsList)
            return value is IEnumerable items ? new JsonArray(items.Cast<object?>().Select(item => Wrap(nodes, j + 2, item)).ToArray()) : null;
        return new JsonObject { [nodes[j + 1].Name] = Wrap(nodes, j + 1, value) };
    }

    static JsonNode? Scalar(object? value) => value switch
    {
        null => null,
        string s => JsonValue.Create(s),
        bool b => JsonValue.Create(b),
        long or int or short or sbyte or byte or ushort or uint => JsonValue.Create(Convert.ToInt64(value)),
        ulong u => JsonValue.Create(u),
        double d => JsonValue.Create(d),
        float f => JsonValue.Create((double)f),
        decimal m => JsonValue.Create(m),
        byte[] bytes => JsonValue.Create(Convert.ToBase64String(bytes)),
        _ => JsonValue.Create(Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture)),
    };

    /// <summary>Joins the per-leaf pieces of one row: objects by key, lists item by item.</summary>
    static void Merge(JsonObject into, JsonObject piece)
    {
        foreach (var name in piece.Select(p => p.Key).ToList())
        {
            var value = piece[name];
            piece.Remove(name);
            if (into[name] is JsonObject a && value is JsonObject b) Merge(a, b);
            else if (into[name] is JsonArray left && value is JsonArray right && left.Count == right.Count) MergeItems(left, right);
            else into[name] = value;
        }
    }

    static void MergeItems(JsonArray into, JsonArray piece)
    {
        for (int i = 0; i < into.Count; i++)
            if (into[i] is JsonObject a && piece[i] is JsonObject b) Merge(a, b);
    }

    sealed class ReadAllVisitor(int rows) : ILogicalColumnReaderVisitor<object?[]>
    {
        public object?[] OnLogicalColumnReader<TValue>(LogicalColumnReader<TValue> columnReader) =>
            columnReader.ReadAll(rows).Select(v => (object?)v).ToArray();
    }
}
