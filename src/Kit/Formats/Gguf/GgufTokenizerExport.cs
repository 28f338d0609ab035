using System.Text.Json;
using Kit.Models.Tokenizers;

namespace Kit.Formats.Gguf;

/// <summary>The <c>tokenizer.*</c> metadata of a model folder and what was chosen.</summary>
/// <param name="Model">"llama" (SentencePiece) or "gpt2" (byte-level BPE).</param>
/// <param name="PreTokenizer">The <c>tokenizer.ggml.pre</c> name for byte-level BPE, else null.</param>
/// <param name="Entries">The metadata, in order.</param>
/// <param name="Notes">Tokenizer settings the GGUF keys cannot carry.</param>
internal sealed record GgufTokenizerMetadata(string Model, string? PreTokenizer, IReadOnlyList<KeyValuePair<string, GgufValue>> Entries,
    IReadOnlyList<string> Notes);

/// <summary>
/// Reads a model folder's tokenizer files the way llama.cpp's <c>convert_hf_to_gguf.py</c> does: a byte-level
/// BPE tokenizer.json becomes <c>tokenizer.ggml.model = "gpt2"</c> with tokens, merges and token types, a
/// SentencePiece tokenizer.model becomes <c>"llama"</c> with pieces, scores and types. Special ids and whether
/// BOS/EOS are added come from Kit's own tokenizer, which has already resolved them from the folder's files.
/// </summary>
internal static class GgufTokenizerExport
{
    public static GgufTokenizerMetadata FromFolder(string folder, KitTokenizer tokenizer, int vocabSize, string? preTokenizer)
    {
        var json = Path.Combine(folder, "tokenizer.json");
        var model = Path.Combine(folder, "tokenizer.model");
        GgufTokenizerMetadata metadata;
        if (File.Exists(json) && IsByteLevel(json)) metadata = ByteLevel(json, tokenizer, vocabSize, preTokenizer);
        else if (File.Exists(model)) metadata = SentencePiece(model, tokenizer, vocabSize);
        else if (File.Exists(json))
            throw new NotSupportedException($"{json}: a SentencePiece-style tokenizer.json without tokenizer.model beside it is not exported; " +
                "GGUF's \"llama\" tokenizer needs the SentencePiece pieces and scores");
        else throw new FileNotFoundException($"{folder} has no tokenizer.json or tokenizer.model to export", json);
        return metadata;
    }

    static bool IsByteLevel(string path)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        return HasByteLevel(doc.RootElement.TryGetProperty("pre_tokenizer", out var p) ? p : null)
            || HasByteLevel(doc.RootElement.TryGetProperty("decoder", out var d) ? d : null);
    }

    static bool HasByteLevel(JsonElement? e)
    {
        if (e is not { ValueKind: JsonValueKind.Object } o) return false;
        if (o.TryGetProperty("type", out var t) && t.GetString() == "ByteLevel") return true;
        foreach (var list in new[] { "pretokenizers", "decoders" })
            if (o.TryGetProperty(list, out var items) && items.ValueKind == JsonValueKind.Array && items.EnumerateArray().Any(i => HasByteLevel(i)))
                return true;
        return false;
    }

    static GgufTokenizerMetadata ByteLevel(string path, KitTokenizer tokenizer, int vocabSize, string? preOverride)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        var root = doc.RootElement;
        var model = root.GetProperty("model");
        var tokenOf = new Dictionary<int, string>();
        foreach (var entry in model.GetProperty("vocab").EnumerateObject()) tokenOf.TryAdd(entry.Value.GetInt32(), entry.Name);
        var added = new Dictionary<int, bool>();
        if (root.TryGetProperty("added_tokens", out var list) && list.ValueKind == JsonValueKind.Array)
            foreach (var t in list.EnumerateArray())
            {
                int id = t.GetProperty("id").GetInt32();
                tokenOf[id] = t.GetProperty("content").GetString()!;
                added[id] = t.TryGetProperty("special", out var s) && s.ValueKind == JsonValueKind.True;
            }
        int size = CheckSize(path, tokenOf.Keys.DefaultIfEmpty(-1).Max() + 1, vocabSize);
        var tokens = new string[size];
        var types = new int[size];
        for (int id = 0; id < size; id++)
        {
            // convert_hf_to_gguf.py's get_vocab_base: ids without a token become unused "[PAD{id}]" fillers.
            tokens[id] = tokenOf.TryGetValue(id, out var token) ? token : $"[PAD{id}]";
            types[id] = (int)(!tokenOf.ContainsKey(id) ? GgufTokenType.Unused
                : added.TryGetValue(id, out bool special) ? (special ? GgufTokenType.Control : GgufTokenType.UserDefined)
                : GgufTokenType.Normal);
        }
        var merges = new List<string>();
        foreach (var m in model.GetProperty("merges").EnumerateArray())
            merges.Add(m.ValueKind == JsonValueKind.String ? m.GetString()! : $"{m[0].GetString()} {m[1].GetString()}");

        var pre = preOverride ?? GgufPreTokenizers.Detect(root.TryGetProperty("pre_tokenizer", out var p) ? p : null)
            ?? throw new NotSupportedException($"{path}: the pre_tokenizer's split rules are not ones Kit maps to a llama.cpp name " +
                $"({string.Join(", ", GgufPreTokenizers.Names)}); pass GgufExportOptions.PreTokenizer to choose one");
        var entries = new List<KeyValuePair<string, GgufValue>>
        {
            new("tokenizer.ggml.model", GgufValue.String("gpt2")),
            new("tokenizer.ggml.pre", GgufValue.String(pre)),
            new("tokenizer.ggml.tokens", GgufValue.Strings(tokens)),
            new("tokenizer.ggml.token_type", GgufValue.Int32s(types)),
            new("tokenizer.ggml.merges", GgufValue.Strings(merges)),
        };
        entries.AddRange(Specials(tokenizer, size));
        return new GgufTokenizerMetadata("gpt2", pre, entries, []);
    }

    static GgufTokenizerMetadata SentencePiece(string path, KitTokenizer tokenizer, int vocabSize)
    {
        var proto = SentencePieceModelProto.Parse(File.ReadAllBytes(path), path);
        if (proto.ModelType != SentencePieceModelProto.Bpe)
            throw new NotSupportedException($"{path}: SentencePiece model_type {SentencePieceModelProto.ModelTypeName(proto.ModelType)} is not exported; llama.cpp's \"llama\" tokenizer is BPE");
        int size = CheckSize(path, proto.Pieces.Count, vocabSize);
        var tokens = new string[size];
        var scores = new float[size];
        var types = new int[size];
        for (int id = 0; id < size; id++)
        {
            // convert_hf_to_gguf.py pads a vocabulary smaller than the model's with unused pieces scored −1000.
            var piece = id < proto.Pieces.Count ? proto.Pieces[id] : new SentencePiece($"[PAD{id}]", -1000, SentencePieceType.Unused);
            (tokens[id], scores[id], types[id]) = (piece.Piece, piece.Score, (int)piece.Type);
        }
        var entries = new List<KeyValuePair<string, GgufValue>>
        {
            new("tokenizer.ggml.model", GgufValue.String("llama")),
            new("tokenizer.ggml.tokens", GgufValue.Strings(tokens)),
            new("tokenizer.ggml.scores", GgufValue.Float32s(scores)),
            new("tokenizer.ggml.token_type", GgufValue.Int32s(types)),
            new("tokenizer.ggml.add_space_prefix", GgufValue.Bool(proto.AddDummyPrefix)),
        };
        entries.AddRange(Specials(tokenizer, size));
        string[] notes = proto.RemoveExtraWhitespaces
            ? [$"{path} collapses runs of spaces (remove_extra_whitespaces); GGUF has no key for it and llama.cpp keeps them"]
            : [];
        return new GgufTokenizerMetadata("llama", null, entries, notes);
    }

    static int CheckSize(string path, int tokenizerSize, int vocabSize) =>
        tokenizerSize <= vocabSize ? vocabSize
        : throw new InvalidDataException($"{path}: the tokenizer has ids up to {tokenizerSize - 1}, beyond the model's vocab_size {vocabSize}");

    static IEnumerable<KeyValuePair<string, GgufValue>> Specials(KitTokenizer tokenizer, int size)
    {
        var entries = new List<KeyValuePair<string, GgufValue>>();
        void Id(string key, int? id)
        {
            if (id is int i && i >= 0 && i < size) entries.Add(new(key, GgufValue.UInt32((uint)i)));
        }
        Id("tokenizer.ggml.bos_token_id", tokenizer.BosId);
        Id("tokenizer.ggml.eos_token_id", tokenizer.EosIds.Count > 0 ? tokenizer.EosIds[0] : null);
        Id("tokenizer.ggml.unknown_token_id", tokenizer.UnkId);
        Id("tokenizer.ggml.padding_token_id", tokenizer.PadId);
        // What encoding adds is what the folder's post-processor or add_bos_token says; Kit's tokenizer has resolved it.
        var plain = tokenizer.Encode("a", addSpecialTokens: false);
        var full = tokenizer.Encode("a", addSpecialTokens: true);
        bool addBos = full.Count > plain.Count && tokenizer.BosId is int bos && full[0] == bos;
        bool addEos = full.Count > plain.Count && tokenizer.EosIds.Count > 0 && full[^1] == tokenizer.EosIds[0];
        entries.Add(new("tokenizer.ggml.add_bos_token", GgufValue.Bool(addBos)));
        entries.Add(new("tokenizer.ggml.add_eos_token", GgufValue.Bool(addEos)));
        if (tokenizer.ChatTemplateSource is { Length: > 0 } template) entries.Add(new("tokenizer.chat_template", GgufValue.String(template)));
        return entries;
    }
}
