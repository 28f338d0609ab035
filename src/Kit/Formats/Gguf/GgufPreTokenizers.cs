using System.Text.Json;
using System.Text.Json.Nodes;
using Kit.Models.Tokenizers;

namespace Kit.Formats.Gguf;

/// <summary>
/// llama.cpp's names for byte-level pre-tokenizers (<c>tokenizer.ggml.pre</c>) that Kit recognises in a
/// tokenizer.json and can write back as one. llama.cpp's converter identifies the pre-tokenizer by hashing
/// the token ids of a test text; Kit compares the split rules themselves, which is exact for the rules it
/// knows and refuses the rest rather than guess: a wrong pre-tokenizer changes tokenization silently.
/// </summary>
internal static class GgufPreTokenizers
{
    /// <summary>Llama 3's split (tokenizer.json of Meta-Llama-3 and 3.x).</summary>
    public const string Llama3Pattern =
        @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    /// <summary>Qwen2's split: Llama 3's with single digits.</summary>
    public const string Qwen2Pattern =
        @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    const string Digits = "digits:individual";

    /// <summary>
    /// Name (the first of llama.cpp's names for the rules, as <c>llama-vocab.cpp</c> spells them: GPT-2's is
    /// "gpt-2"), the split steps it stands for, whether llama.cpp ignores merges for whole-word vocabulary hits,
    /// and whether the text is NFC-normalized first.
    /// </summary>
    static readonly (string Name, string[] Steps, bool IgnoreMerges, bool Nfc)[] Known =
    [
        ("gpt-2", ["regex:" + PreTokenizerSplits.Gpt2Pattern], false, false),
        ("llama-bpe", ["regex:" + Llama3Pattern], true, false),
        ("qwen2", ["regex:" + Qwen2Pattern], false, true),
        ("smollm", [Digits, "regex:" + PreTokenizerSplits.Gpt2Pattern], false, false),
    ];

    /// <summary>The names Kit writes and reads.</summary>
    public static IEnumerable<string> Names => Known.Select(k => k.Name);

    /// <summary>The llama.cpp name of the pre-tokenizer in a tokenizer.json, or null when Kit does not know its rules.</summary>
    public static string? Detect(JsonElement? preTokenizer)
    {
        var steps = new List<string>();
        if (!Steps(preTokenizer, steps)) return null;
        return Known.FirstOrDefault(k => k.Steps.SequenceEqual(steps)).Name;
    }

    /// <summary>Other names llama.cpp gives the same rules.</summary>
    static readonly Dictionary<string, string> Aliases = new()
    {
        ["phi-2"] = "gpt-2", ["llama3"] = "llama-bpe", ["llama-v3"] = "llama-bpe", ["deepseek-r1-qwen"] = "qwen2",
    };

    /// <summary>The tokenizer.json fields (pre_tokenizer, normalizer, ignore_merges) for a llama.cpp pre-tokenizer name.</summary>
    public static (JsonNode PreTokenizer, JsonNode? Normalizer, bool IgnoreMerges) ToJson(string name, string source)
    {
        var canonical = Aliases.GetValueOrDefault(name, name);
        var known = Known.FirstOrDefault(k => k.Name == canonical);
        if (known.Name is null)
            throw new NotSupportedException($"{source}: tokenizer.ggml.pre '{name}' is not a pre-tokenizer Kit reads (it reads {string.Join(", ", Names)})");
        var steps = new JsonArray();
        foreach (var step in known.Steps)
            steps.Add(step == Digits
                ? new JsonObject { ["type"] = "Digits", ["individual_digits"] = true }
                : new JsonObject
                {
                    ["type"] = "Split", ["pattern"] = new JsonObject { ["Regex"] = step["regex:".Length..] },
                    ["behavior"] = "Isolated", ["invert"] = false,
                });
        steps.Add(new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["trim_offsets"] = true, ["use_regex"] = false });
        JsonNode? normalizer = known.Nfc ? new JsonObject { ["type"] = "NFC" } : null;
        return (new JsonObject { ["type"] = "Sequence", ["pretokenizers"] = steps }, normalizer, known.IgnoreMerges);
    }

    /// <summary>Flattens a pre_tokenizer into split steps; false for a part whose rules Kit does not compare.</summary>
    static bool Steps(JsonElement? element, List<string> steps)
    {
        if (element is not { ValueKind: JsonValueKind.Object } e) return element is null || element.Value.ValueKind == JsonValueKind.Null;
        string? type = e.TryGetProperty("type", out var t) ? t.GetString() : null;
        switch (type)
        {
            case "Sequence":
                if (!e.TryGetProperty("pretokenizers", out var list) || list.ValueKind != JsonValueKind.Array) return false;
                foreach (var inner in list.EnumerateArray())
                    if (!Steps(inner, steps)) return false;
                return true;
            case "ByteLevel":
                if (e.TryGetProperty("add_prefix_space", out var prefix) && prefix.ValueKind == JsonValueKind.True) return false;
                if (!e.TryGetProperty("use_regex", out var regex) || regex.ValueKind != JsonValueKind.False)
                    steps.Add("regex:" + PreTokenizerSplits.Gpt2Pattern);
                return true;
            case "Split":
                if (!e.TryGetProperty("behavior", out var behavior) || behavior.GetString() != "Isolated") return false;
                if (e.TryGetProperty("invert", out var invert) && invert.ValueKind == JsonValueKind.True) return false;
                if (!e.TryGetProperty("pattern", out var pattern) || !pattern.TryGetProperty("Regex", out var rx)) return false;
                steps.Add("regex:" + rx.GetString());
                return true;
            case "Digits":
                if (!e.TryGetProperty("individual_digits", out var individual) || individual.ValueKind != JsonValueKind.True) return false;
                steps.Add(Digits);
                return true;
            default:
                return false;
        }
    }
}
