using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Kit.Models.Tokenizers;

namespace Kit.Models.Training;

/// <summary>
/// Trains a byte-level BPE tokenizer (GPT-2's scheme, as used by Llama 3, Qwen2 and SmolLM) and writes it
/// as a Hugging Face <c>tokenizer.json</c>: text is split by GPT-2's pre-tokenizer pattern, each piece's
/// UTF-8 bytes are mapped to printable characters, and the most frequent adjacent pair is merged until the
/// vocabulary is full.
/// </summary>
public static class BpeTrainer
{
    /// <summary>GPT-2's pre-tokenizer pattern (contractions, letters, digits, other, spaces).</summary>
    public const string Gpt2Pattern = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

    /// <summary>The special tokens every Kit-trained tokenizer has, with ids 0, 1, 2.</summary>
    public static IReadOnlyList<string> SpecialTokens { get; } = new[] { "<|pad|>", "<|bos|>", "<|eos|>" };

    /// <summary>Learns merges from <paramref name="text"/> until the vocabulary has <paramref name="vocabSize"/> entries.</summary>
    public static (IReadOnlyList<string> Vocab, IReadOnlyList<(string Left, string Right)> Merges) Train(string text, int vocabSize)
    {
        int baseSize = SpecialTokens.Count + 256;
        if (vocabSize < baseSize) throw new ArgumentException($"vocab size must be at least {baseSize} (specials + 256 bytes), got {vocabSize}");
        var counts = new Dictionary<string, int>();
        foreach (Match m in Regex.Matches(text, Gpt2Pattern))
        {
            var piece = ByteLevelAlphabet.Encode(Encoding.UTF8.GetBytes(m.Value));
            counts[piece] = counts.GetValueOrDefault(piece) + 1;
        }
        var words = counts.Select(kv => (Symbols: kv.Key.Select(c => c.ToString()).ToList(), Count: kv.Value)).ToList();
        var vocab = SpecialTokens.Concat(Enumerable.Range(0, 256).Select(b => ByteLevelAlphabet.Encode(new[] { (byte)b }))).ToList();
        var merges = new List<(string, string)>();
        while (vocab.Count < vocabSize)
        {
            var pairs = new Dictionary<(string, string), long>();
            foreach (var (symbols, count) in words)
                for (int i = 0; i + 1 < symbols.Count; i++)
                    pairs[(symbols[i], symbols[i + 1])] = pairs.GetValueOrDefault((symbols[i], symbols[i + 1])) + count;
            if (pairs.Count == 0) break;
            // Ties broken by the pair itself, so that training is deterministic.
            var best = pairs.OrderByDescending(p => p.Value).ThenBy(p => p.Key.Item1, StringComparer.Ordinal)
                .ThenBy(p => p.Key.Item2, StringComparer.Ordinal).First().Key;
            merges.Add(best);
            vocab.Add(best.Item1 + best.Item2);
            foreach (var (symbols, _) in words)
                for (int i = 0; i + 1 < symbols.Count; i++)
                    if (symbols[i] == best.Item1 && symbols[i + 1] == best.Item2)
                    {
                        symbols[i] += symbols[i + 1];
                        symbols.RemoveAt(i + 1);
                    }
        }
        return (vocab, merges);
    }

    /// <summary>Writes <c>tokenizer.json</c> in Hugging Face's layout for a byte-level BPE model.</summary>
    public static JsonObject ToTokenizerJson(IReadOnlyList<string> vocab, IReadOnlyList<(string Left, string Right)> merges)
    {
        var vocabJson = new JsonObject();
        for (int i = 0; i < vocab.Count; i++) vocabJson[vocab[i]] = i;
        var added = new JsonArray(SpecialTokens.Select((t, i) => (JsonNode)new JsonObject
        {
            ["id"] = i, ["content"] = t, ["single_word"] = false, ["lstrip"] = false, ["rstrip"] = false,
            ["normalized"] = false, ["special"] = true,
        }).ToArray());
        return new JsonObject
        {
            ["version"] = "1.0",
            ["truncation"] = null,
            ["padding"] = null,
            ["added_tokens"] = added,
            ["normalizer"] = null,
            ["pre_tokenizer"] = new JsonObject
            {
                ["type"] = "Sequence",
                ["pretokenizers"] = new JsonArray(
                    new JsonObject
                    {
                        ["type"] = "Split", ["pattern"] = new JsonObject { ["Regex"] = Gpt2Pattern },
                        ["behavior"] = "Isolated", ["invert"] = false,
                    },
                    new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["trim_offsets"] = true, ["use_regex"] = false }),
            },
            ["post_processor"] = null,
            ["decoder"] = new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = true, ["trim_offsets"] = true, ["use_regex"] = true },
            ["model"] = new JsonObject
            {
                ["type"] = "BPE", ["dropout"] = null, ["unk_token"] = null, ["continuing_subword_prefix"] = null,
                ["end_of_word_suffix"] = null, ["fuse_unk"] = false, ["byte_fallback"] = false, ["ignore_merges"] = false,
                ["vocab"] = vocabJson,
                ["merges"] = new JsonArray(merges.Select(m => (JsonNode)new JsonArray(m.Left, m.Right)).ToArray()),
            },
        };
    }
}
