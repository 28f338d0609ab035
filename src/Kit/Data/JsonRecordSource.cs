using System.Text.Json;
using Kit.Models.Tokenizers;

namespace Kit.Data;

/// <summary>
/// JSON records, one document each: JSON Lines (<c>.jsonl</c>, or <c>.json</c> with one object per line, as the
/// hub stores many datasets) or a <c>.json</c> array of objects; <c>.gz</c> files are decompressed on the fly.
/// </summary>
public sealed class JsonRecordSource : RecordFileSource
{
    /// <summary>Creates the source; the file is read on each <see cref="ReadDocuments"/>.</summary>
    /// <param name="path">The JSON Lines or JSON file.</param>
    /// <param name="fields">Which fields hold the document; null means the defaults of <see cref="DocumentFields"/>.</param>
    public JsonRecordSource(string path, DocumentFields? fields = null) : base(path, fields)
    {
    }

    /// <inheritdoc/>
    public override IEnumerable<CalibrationDocument> ReadDocuments()
    {
        bool anyRecord = false;
        foreach (var (record, where) in JsonRecordFile.Read(Path))
        {
            anyRecord = true;
            if (ToDocument(record, where) is { } document) yield return document;
        }
        if (!anyRecord) throw new InvalidDataException($"{Path} is empty: it holds no JSON records");
    }

    CalibrationDocument? ToDocument(JsonElement record, string where)
    {
        if (record.ValueKind != JsonValueKind.Object)
            throw new InvalidDataException($"{where}: expected a JSON object, found {Kind(record)}");
        var names = record.EnumerateObject().Select(p => p.Name).ToList();
        switch (Fields.Resolve(names, where))
        {
            case DocumentLayout.Text:
                return StringField(record, Fields.Text, where) is { } text && !string.IsNullOrWhiteSpace(text) ? new TextDocument(text) : null;
            case DocumentLayout.Messages:
                var messages = Messages(record.GetProperty(Fields.Messages), where);
                return messages.Count == 0 ? null : new ChatDocument(messages);
            default:
                string? instruction = StringField(record, Fields.Instruction, where);
                return string.IsNullOrWhiteSpace(instruction) ? null : new TextDocument(DocumentFields.AlpacaText(
                    instruction, StringField(record, Fields.Input, where), StringField(record, Fields.Output, where)));
        }
    }

    List<ChatMessage> Messages(JsonElement list, string where)
    {
        if (list.ValueKind == JsonValueKind.Null) return [];
        if (list.ValueKind != JsonValueKind.Array)
            throw new InvalidDataException($"{where}: field '{Fields.Messages}' is {Kind(list)}, not a list of {{role, content}} objects");
        var messages = new List<ChatMessage>();
        int index = 0;
        foreach (var item in list.EnumerateArray())
        {
            string itemWhere = $"{where}, {Fields.Messages}[{index++}]";
            if (item.ValueKind != JsonValueKind.Object)
                throw new InvalidDataException($"{itemWhere}: expected a {{role, content}} object, found {Kind(item)}");
            string role = StringField(item, "role", itemWhere) ?? throw new InvalidDataException($"{itemWhere}: no 'role'");
            string content = StringField(item, "content", itemWhere) ?? throw new InvalidDataException($"{itemWhere}: no 'content'");
            messages.Add(new ChatMessage(role, content));
        }
        return messages;
    }

    static string? StringField(JsonElement record, string name, string where)
    {
        if (!record.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null) return null;
        if (value.ValueKind != JsonValueKind.String)
            throw new InvalidDataException($"{where}: field '{name}' is {Kind(value)}, not a string");
        return value.GetString();
    }

    static string Kind(JsonElement value) => JsonRecordFile.Kind(value.ValueKind);
}
