using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Kit.Models.Tokenizers;

/// <summary>
/// Loads a Hugging Face <c>tokenizer.json</c> whose model is BPE, in one of two shapes: byte-level
/// (a <c>ByteLevel</c> pre-tokenizer or decoder) or SentencePiece-style ('▁' from a Prepend/Replace
/// normalizer or a Metaspace pre-tokenizer, usually with <c>byte_fallback</c>).
/// </summary>
internal static class HfTokenizerJsonLoader
{
    public static KitTokenizer Load(string path, TokenizerFolderConfig config)
    {
        using var doc = JsonConfigFile.Read(path);
        var root = doc.RootElement;
        var model = JsonConfigFile.Required(root, "model", JsonValueKind.Object, path, "model");
        var type = JsonConfigFile.OptionalString(model, "type", path, "model.type")
            ?? (JsonConfigFile.Optional(model, "merges") is not null ? "BPE" : null)
            ?? throw new InvalidDataException($"{path}: missing field 'model.type'");
        if (type != "BPE")
            throw new NotSupportedException(
                $"{path}: model.type '{type}' is not supported; Kit reads BPE tokenizers (byte-level or SentencePiece-style)");

        var vocab = ReadVocab(model, path);
        var merges = ReadMerges(model, path);
        var added = ReadAddedTokens(root, path);
        var normalizer = JsonConfigFile.Optional(root, "normalizer");
        var preTokenizer = JsonConfigFile.Optional(root, "pre_tokenizer");
        var decoder = JsonConfigFile.Optional(root, "decoder");
        bool byteFallback = JsonConfigFile.OptionalBool(model, "byte_fallback", path) ?? false;

        var idOfAdded = added.GroupBy(t => t.Content).ToDictionary(g => g.Key, g => g.First().Id);
        var tokenOfId = added.GroupBy(t => t.Id).ToDictionary(g => g.Key, g => g.First().Content);
        foreach (var (token, id) in vocab) tokenOfId.TryAdd(id, token);
        int? IdOf(string token) => idOfAdded.TryGetValue(token, out int a) ? a : vocab.TryGetValue(token, out int v) ? v : null;
        var (prefix, suffix) = ReadPostProcessor(JsonConfigFile.Optional(root, "post_processor"), path);
        var specials = SpecialTokenResolver.Resolve(config, added, IdOf, id => tokenOfId.GetValueOrDefault(id), prefix, suffix,
            defaults: (null, null, JsonConfigFile.OptionalString(model, "unk_token", path, "model.unk_token")),
            folder: Path.GetDirectoryName(path) ?? ".");

        if (HasType(preTokenizer, "ByteLevel") || HasType(decoder, "ByteLevel"))
            return new ByteLevelBpeTokenizer(vocab, merges,
                new PreTokenizerSplits(ReadSplits(preTokenizer, path, "pre_tokenizer")),
                ReadNormalization(normalizer, path, "normalizer"),
                ignoreMerges: JsonConfigFile.OptionalBool(model, "ignore_merges", path) ?? false,
                specials);

        if (ReadMetaspaceRules(normalizer, preTokenizer, path) is { } rules)
        {
            var sentencePiece = BuildSentencePieceModel(vocab, merges, added, byteFallback,
                JsonConfigFile.OptionalString(model, "unk_token", path, "model.unk_token"), specials);
            return new SentencePieceBpeTokenizer(sentencePiece.ToBytes(), sentencePiece, rules, StripsLeadingSpace(decoder), specials);
        }

        throw new NotSupportedException(
            $"{path}: a BPE tokenizer without a ByteLevel pre-tokenizer/decoder or a '▁' (Metaspace) scheme is not supported");
    }

    static Dictionary<string, int> ReadVocab(JsonElement model, string path)
    {
        var vocab = new Dictionary<string, int>();
        foreach (var entry in JsonConfigFile.Required(model, "vocab", JsonValueKind.Object, path, "model.vocab").EnumerateObject())
        {
            if (entry.Value.ValueKind != JsonValueKind.Number || !entry.Value.TryGetInt32(out int id) || id < 0)
                throw new InvalidDataException($"{path}: model.vocab['{entry.Name}'] should be a non-negative integer id");
            vocab[entry.Name] = id;
        }
        return vocab;
    }

    /// <summary>Merges are "left right" strings in older files and [left, right] pairs in newer ones.</summary>
    static List<(string, string)> ReadMerges(JsonElement model, string path)
    {
        var merges = new List<(string, string)>();
        foreach (var m in JsonConfigFile.Required(model, "merges", JsonValueKind.Array, path, "model.merges").EnumerateArray())
        {
            if (m.ValueKind == JsonValueKind.String)
            {
                var s = m.GetString()!;
                int space = s.IndexOf(' ', 1);
                if (space < 0) throw new InvalidDataException($"{path}: model.merges entry '{s}' is not two tokens separated by a space");
                merges.Add((s[..space], s[(space + 1)..]));
            }
            else if (m.ValueKind == JsonValueKind.Array && m.GetArrayLength() == 2
                     && m[0].ValueKind == JsonValueKind.String && m[1].ValueKind == JsonValueKind.String)
                merges.Add((m[0].GetString()!, m[1].GetString()!));
            else
                throw new InvalidDataException($"{path}: model.merges entry {m} should be \"a b\" or [\"a\", \"b\"]");
        }
        return merges;
    }

    static List<AddedToken> ReadAddedTokens(JsonElement root, string path)
    {
        var tokens = new List<AddedToken>();
        if (JsonConfigFile.Optional(root, "added_tokens") is not { } list) return tokens;
        foreach (var t in list.EnumerateArray())
        {
            var idElement = JsonConfigFile.Required(t, "id", JsonValueKind.Number, path, "added_tokens[].id");
            var content = JsonConfigFile.OptionalString(t, "content", path, "added_tokens[].content")
                ?? throw new InvalidDataException($"{path}: missing field 'added_tokens[].content'");
            tokens.Add(new AddedToken(idElement.GetInt32(), content, JsonConfigFile.OptionalBool(t, "special", path) ?? false));
        }
        return tokens;
    }

    /// <summary>Prefix and suffix ids from a <c>TemplateProcessing</c> post-processor (its "single" template).</summary>
    static (IReadOnlyList<int>, IReadOnlyList<int>) ReadPostProcessor(JsonElement? processor, string path)
    {
        if (processor is not { } p) return ([], []);
        var type = JsonConfigFile.OptionalString(p, "type", path, "post_processor.type");
        switch (type)
        {
            case "ByteLevel": return ([], []);
            case "Sequence":
                foreach (var inner in JsonConfigFile.Required(p, "processors", JsonValueKind.Array, path, "post_processor.processors").EnumerateArray())
                    if (ReadPostProcessor(inner, path) is var (pre, post) && (pre.Count > 0 || post.Count > 0)) return (pre, post);
                return ([], []);
            case "TemplateProcessing":
                var specialIds = new Dictionary<string, List<int>>();
                if (JsonConfigFile.Optional(p, "special_tokens") is { ValueKind: JsonValueKind.Object } map)
                    foreach (var entry in map.EnumerateObject())
                        specialIds[entry.Name] = JsonConfigFile.IdList(entry.Value, "ids", path);
                var prefix = new List<int>();
                var suffix = new List<int>();
                bool seenText = false;
                foreach (var item in JsonConfigFile.Required(p, "single", JsonValueKind.Array, path, "post_processor.single").EnumerateArray())
                {
                    if (JsonConfigFile.Optional(item, "Sequence") is not null) { seenText = true; continue; }
                    var name = JsonConfigFile.Optional(item, "SpecialToken") is { } st
                        ? JsonConfigFile.OptionalString(st, "id", path, "post_processor.single[].SpecialToken.id") : null;
                    if (name is null || !specialIds.TryGetValue(name, out var ids))
                        throw new InvalidDataException($"{path}: post_processor.single entry {item} names no token of post_processor.special_tokens");
                    (seenText ? suffix : prefix).AddRange(ids);
                }
                return (prefix, suffix);
            default:
                throw new NotSupportedException($"{path}: post_processor.type '{type}' is not supported");
        }
    }

    static bool HasType(JsonElement? element, string type)
    {
        if (element is not { ValueKind: JsonValueKind.Object } e) return false;
        if (e.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String && t.GetString() == type) return true;
        foreach (var list in new[] { "pretokenizers", "decoders", "normalizers" })
            if (e.TryGetProperty(list, out var items) && items.ValueKind == JsonValueKind.Array
                && items.EnumerateArray().Any(i => HasType(i, type)))
                return true;
        return false;
    }

    /// <summary>The byte-level pre-tokenizer as regex steps.</summary>
    static List<Regex> ReadSplits(JsonElement? element, string path, string field)
    {
        var steps = new List<Regex>();
        if (element is not { } e) return steps;
        var type = JsonConfigFile.OptionalString(e, "type", path, field + ".type");
        switch (type)
        {
            case "Sequence":
                foreach (var inner in JsonConfigFile.Required(e, "pretokenizers", JsonValueKind.Array, path, field + ".pretokenizers").EnumerateArray())
                    steps.AddRange(ReadSplits(inner, path, field + ".pretokenizers[]"));
                break;
            case "ByteLevel":
                if (JsonConfigFile.OptionalBool(e, "add_prefix_space", path) == true)
                    throw new NotSupportedException($"{path}: {field}.add_prefix_space = true is not supported");
                if (JsonConfigFile.OptionalBool(e, "use_regex", path) ?? true)
                    steps.Add(PreTokenizerSplits.Compile(PreTokenizerSplits.Gpt2Pattern));
                break;
            case "Split":
                var behavior = JsonConfigFile.OptionalString(e, "behavior", path, field + ".behavior");
                if (behavior != "Isolated" || JsonConfigFile.OptionalBool(e, "invert", path) == true)
                    throw new NotSupportedException($"{path}: {field} Split with behavior '{behavior}' (or invert) is not supported; only Isolated");
                var pattern = JsonConfigFile.Required(e, "pattern", JsonValueKind.Object, path, field + ".pattern");
                steps.Add(PreTokenizerSplits.Compile(
                    JsonConfigFile.OptionalString(pattern, "Regex", path, field + ".pattern.Regex")
                    ?? Regex.Escape(JsonConfigFile.OptionalString(pattern, "String", path, field + ".pattern.String")
                        ?? throw new InvalidDataException($"{path}: {field}.pattern has neither 'Regex' nor 'String'"))));
                break;
            case "Digits":
                // Hugging Face's Digits splits on ASCII digits only.
                steps.Add(PreTokenizerSplits.Compile(
                    JsonConfigFile.OptionalBool(e, "individual_digits", path) == true ? "[0-9]" : "[0-9]+"));
                break;
            default:
                throw new NotSupportedException($"{path}: {field}.type '{type}' is not supported for a byte-level tokenizer");
        }
        return steps;
    }

    static List<NormalizationForm> ReadNormalization(JsonElement? element, string path, string field)
    {
        var forms = new List<NormalizationForm>();
        if (element is not { } e) return forms;
        var type = JsonConfigFile.OptionalString(e, "type", path, field + ".type");
        switch (type)
        {
            case "Sequence":
                foreach (var inner in JsonConfigFile.Required(e, "normalizers", JsonValueKind.Array, path, field + ".normalizers").EnumerateArray())
                    forms.AddRange(ReadNormalization(inner, path, field + ".normalizers[]"));
                break;
            case "NFC": forms.Add(NormalizationForm.FormC); break;
            case "NFD": forms.Add(NormalizationForm.FormD); break;
            case "NFKC": forms.Add(NormalizationForm.FormKC); break;
            case "NFKD": forms.Add(NormalizationForm.FormKD); break;
            default: throw new NotSupportedException($"{path}: {field}.type '{type}' is not supported for a byte-level tokenizer");
        }
        return forms;
    }

    /// <summary>The '▁' escaping rules, or null when the file uses none.</summary>
    static MetaspaceRules? ReadMetaspaceRules(JsonElement? normalizer, JsonElement? preTokenizer, string path)
    {
        if (preTokenizer is { } pre)
        {
            var type = JsonConfigFile.OptionalString(pre, "type", path, "pre_tokenizer.type");
            if (type != "Metaspace")
                throw new NotSupportedException($"{path}: pre_tokenizer.type '{type}' is not supported for a SentencePiece-style tokenizer");
            var replacement = JsonConfigFile.OptionalString(pre, "replacement", path, "pre_tokenizer.replacement") ?? "▁";
            if (replacement != "▁")
                throw new NotSupportedException($"{path}: pre_tokenizer.replacement '{replacement}' is not supported; only '▁'");
            if (normalizer is { } n)
                throw new NotSupportedException(
                    $"{path}: normalizer.type '{JsonConfigFile.OptionalString(n, "type", path, "normalizer.type")}' together with a Metaspace pre-tokenizer is not supported");
            // Older files say add_prefix_space instead of prepend_scheme.
            var scheme = JsonConfigFile.OptionalString(pre, "prepend_scheme", path, "pre_tokenizer.prepend_scheme")
                ?? (JsonConfigFile.OptionalBool(pre, "add_prefix_space", path) == false ? "never" : "always");
            return new MetaspaceRules(Prepend: scheme != "never", OnlyAtTextStart: scheme == "first",
                EvenIfAlreadyPrefixed: false, SplitBeforeMetaspace: JsonConfigFile.OptionalBool(pre, "split", path) ?? true);
        }
        if (normalizer is not { } norm) return null;
        bool prepend = false, replace = false;
        var parts = JsonConfigFile.OptionalString(norm, "type", path, "normalizer.type") == "Sequence"
            ? JsonConfigFile.Required(norm, "normalizers", JsonValueKind.Array, path, "normalizer.normalizers").EnumerateArray().ToList()
            : [norm];
        foreach (var part in parts)
        {
            var type = JsonConfigFile.OptionalString(part, "type", path, "normalizer.type");
            if (type == "Prepend" && JsonConfigFile.OptionalString(part, "prepend", path, "normalizer.prepend") == "▁") prepend = true;
            else if (type == "Replace" && JsonConfigFile.OptionalString(part, "content", path, "normalizer.content") == "▁"
                     && JsonConfigFile.Optional(part, "pattern") is { } pattern
                     && JsonConfigFile.OptionalString(pattern, "String", path, "normalizer.pattern.String") == " ")
                replace = true;
            else
                throw new NotSupportedException($"{path}: normalizer part {part} is not supported for a SentencePiece-style tokenizer");
        }
        return replace ? new MetaspaceRules(prepend, OnlyAtTextStart: false, EvenIfAlreadyPrefixed: true, SplitBeforeMetaspace: false) : null;
    }

    /// <summary>Whether the decoder drops the dummy-prefix space: a <c>Strip</c> of a leading ' ' or a prefixing <c>Metaspace</c>.</summary>
    static bool StripsLeadingSpace(JsonElement? decoder)
    {
        if (decoder is not { ValueKind: JsonValueKind.Object } d) return false;
        var type = d.TryGetProperty("type", out var t) ? t.GetString() : null;
        if (type == "Sequence" && d.TryGetProperty("decoders", out var list))
            return list.EnumerateArray().Any(x => StripsLeadingSpace(x));
        if (type == "Strip")
            return d.TryGetProperty("content", out var c) && c.GetString() == " " && d.TryGetProperty("start", out var s) && s.GetInt32() > 0;
        if (type == "Metaspace")
            return d.TryGetProperty("prepend_scheme", out var scheme) ? scheme.GetString() != "never"
                : !d.TryGetProperty("add_prefix_space", out var add) || add.ValueKind != JsonValueKind.False;
        return false;
    }

    /// <summary>
    /// A SentencePiece BPE model equivalent to the file's merges: SentencePiece merges the adjacent pair
    /// whose result scores highest, Hugging Face the pair of lowest merge rank, so each piece scores
    /// minus the rank of the first merge that makes it.
    /// </summary>
    static SentencePieceModelProto BuildSentencePieceModel(Dictionary<string, int> vocab, List<(string Left, string Right)> merges,
        List<AddedToken> added, bool byteFallback, string? unkToken, TokenizerSpecials specials)
    {
        var rank = new Dictionary<string, int>();
        for (int r = 0; r < merges.Count; r++) rank.TryAdd(merges[r].Left + merges[r].Right, r);
        var specialIds = added.Where(t => t.Special).Select(t => t.Id).ToHashSet();
        int size = vocab.Values.Max() + 1;
        var pieces = new SentencePiece[size];
        foreach (var (token, id) in vocab)
        {
            var type = token == unkToken ? SentencePieceType.Unknown
                : specialIds.Contains(id) ? SentencePieceType.Control
                : byteFallback && SentencePieceBpeTokenizer.TryParseBytePiece(token, out _) ? SentencePieceType.Byte
                : SentencePieceType.Normal;
            float score = rank.TryGetValue(token, out int r) ? -r : -(merges.Count + id);
            pieces[id] = new SentencePiece(token, score, type);
        }
        for (int id = 0; id < size; id++)
            pieces[id] ??= new SentencePiece($"<kit_unused_{id}>", -(merges.Count + id), SentencePieceType.Unused);
        int unkId = unkToken is not null && vocab.TryGetValue(unkToken, out int u) ? u : 0;
        int? InRange(int? id) => id is { } i && i < size ? i : null;
        return new SentencePieceModelProto(pieces, SentencePieceModelProto.Bpe, byteFallback, unkId,
            BosId: InRange(specials.BosId) ?? unkId, EosId: InRange(specials.EosIds.Count > 0 ? specials.EosIds[0] : null) ?? unkId, PadId: -1,
            NormalizerName: "identity", AddDummyPrefix: false, RemoveExtraWhitespaces: false, EscapeWhitespaces: true);
    }
}
