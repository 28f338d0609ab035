using System.Text.Json;
using System.Text.Json.Nodes;
using Kit.Models.Tokenizers;

namespace Kit.Formats.Gguf;

/// <summary>
/// Writes the tokenizer of a GGUF file as Hugging Face files: a SentencePiece <c>tokenizer.model</c> for
/// <c>tokenizer.ggml.model = "llama"</c>, a byte-level BPE <c>tokenizer.json</c> for "gpt2", and a
/// <c>tokenizer_config.json</c> with the special tokens and whether BOS/EOS are added.
/// </summary>
internal static class GgufTokenizerImport
{
    public static void Write(GgufFile file, string folder)
    {
        var kind = file.Require("tokenizer.ggml.model").AsString("tokenizer.ggml.model");
        var tokens = file.Require("tokenizer.ggml.tokens").AsStrings("tokenizer.ggml.tokens");
        var types = file.Get("tokenizer.ggml.token_type")?.AsNumbers("tokenizer.ggml.token_type").Select(ToTokenType).ToArray()
            ?? Enumerable.Repeat(GgufTokenType.Normal, tokens.Count).ToArray();
        if (types.Length != tokens.Count)
            throw new InvalidDataException($"{file.Path}: tokenizer.ggml.token_type has {types.Length} entries, tokenizer.ggml.tokens {tokens.Count}");
        int? Id(string key) => file.Get(key) is { } v && v.AsInteger(key) is var id && id >= 0 && id < tokens.Count ? (int)id : null;
        var (bos, eos, unk, pad) = (Id("tokenizer.ggml.bos_token_id"), Id("tokenizer.ggml.eos_token_id"),
            Id("tokenizer.ggml.unknown_token_id"), Id("tokenizer.ggml.padding_token_id"));

        bool addBosDefault;
        switch (kind)
        {
            case "llama":
                WriteSentencePiece(file, tokens, types, bos, eos, unk, pad, folder);
                addBosDefault = true;
                break;
            case "gpt2":
                WriteByteLevel(file, tokens, types, folder);
                addBosDefault = false;
                break;
            default:
                throw new NotSupportedException($"{file.Path}: tokenizer.ggml.model '{kind}' is not imported (llama and gpt2 are)");
        }

        var config = new JsonObject
        {
            ["add_bos_token"] = file.Get("tokenizer.ggml.add_bos_token")?.AsBool("tokenizer.ggml.add_bos_token") ?? addBosDefault,
            ["add_eos_token"] = file.Get("tokenizer.ggml.add_eos_token")?.AsBool("tokenizer.ggml.add_eos_token") ?? false,
        };
        if (bos is int b) config["bos_token"] = tokens[b];
        if (eos is int e) config["eos_token"] = tokens[e];
        if (unk is int u) config["unk_token"] = tokens[u];
        if (pad is int p) config["pad_token"] = tokens[p];
        if (file.Get("tokenizer.chat_template") is { } template) config["chat_template"] = template.AsString("tokenizer.chat_template");
        File.WriteAllText(Path.Combine(folder, "tokenizer_config.json"), config.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    /// <summary>llama.cpp's type 0 (undefined) and values it does not define read as normal tokens.</summary>
    static GgufTokenType ToTokenType(double type) =>
        type is >= (int)GgufTokenType.Normal and <= (int)GgufTokenType.Byte ? (GgufTokenType)(int)type : GgufTokenType.Normal;

    static void WriteSentencePiece(GgufFile file, IReadOnlyList<string> tokens, GgufTokenType[] types, int? bos, int? eos, int? unk, int? pad, string folder)
    {
        var scores = file.Require("tokenizer.ggml.scores").AsNumbers("tokenizer.ggml.scores");
        if (scores.Count != tokens.Count)
            throw new InvalidDataException($"{file.Path}: tokenizer.ggml.scores has {scores.Count} entries, tokenizer.ggml.tokens {tokens.Count}");
        var pieces = tokens.Select((t, i) => new SentencePiece(t, (float)scores[i], (SentencePieceType)types[i])).ToList();
        var model = new SentencePieceModelProto(pieces, SentencePieceModelProto.Bpe,
            ByteFallback: types.Contains(GgufTokenType.Byte),
            UnkId: unk ?? 0, BosId: bos ?? -1, EosId: eos ?? -1, PadId: pad ?? -1,
            NormalizerName: "identity",
            AddDummyPrefix: file.Get("tokenizer.ggml.add_space_prefix")?.AsBool("tokenizer.ggml.add_space_prefix") ?? true,
            // llama.cpp's SentencePiece tokenizer keeps runs of spaces.
            RemoveExtraWhitespaces: false,
            EscapeWhitespaces: true);
        File.WriteAllBytes(Path.Combine(folder, "tokenizer.model"), model.ToBytes());
    }

    static void WriteByteLevel(GgufFile file, IReadOnlyList<string> tokens, GgufTokenType[] types, string folder)
    {
        var pre = file.Get("tokenizer.ggml.pre")?.AsString("tokenizer.ggml.pre") ?? "default";
        var (preTokenizer, normalizer, ignoreMerges) = GgufPreTokenizers.ToJson(pre, file.Path);
        var merges = file.Require("tokenizer.ggml.merges").AsStrings("tokenizer.ggml.merges");
        var vocab = new JsonObject();
        var added = new JsonArray();
        for (int id = 0; id < tokens.Count; id++)
        {
            if (types[id] == GgufTokenType.Unused) continue;
            if (!vocab.ContainsKey(tokens[id])) vocab[tokens[id]] = id;
            if (types[id] is GgufTokenType.Control or GgufTokenType.UserDefined)
                added.Add(new JsonObject
                {
                    ["id"] = id, ["content"] = tokens[id], ["single_word"] = false, ["lstrip"] = false, ["rstrip"] = false,
                    ["normalized"] = false, ["special"] = types[id] == GgufTokenType.Control,
                });
        }
        var json = new JsonObject
        {
            ["version"] = "1.0",
            ["added_tokens"] = added,
            ["normalizer"] = normalizer,
            ["pre_tokenizer"] = preTokenizer,
            ["post_processor"] = null,
            ["decoder"] = new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = true, ["trim_offsets"] = true, ["use_regex"] = true },
            ["model"] = new JsonObject
            {
                ["type"] = "BPE", ["dropout"] = null, ["unk_token"] = null, ["continuing_subword_prefix"] = null,
                ["end_of_word_suffix"] = null, ["fuse_unk"] = false, ["byte_fallback"] = false, ["ignore_merges"] = ignoreMerges,
                ["vocab"] = vocab,
                ["merges"] = new JsonArray(merges.Select(m => (JsonNode)m).ToArray()),
            },
        };
        File.WriteAllText(Path.Combine(folder, "tokenizer.json"), json.ToJsonString());
    }
}
