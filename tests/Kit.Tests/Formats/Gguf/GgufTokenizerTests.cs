using System.Text.Json.Nodes;
using Kit.Formats.Gguf;
using Kit.Models.Tokenizers;
using Kit.Tests.Models.Tokenizers;

namespace Kit.Tests.Formats.Gguf;

/// <summary>
/// Real tokenizers (npm fixtures of Llama 3, Qwen3 and GPT-2, and stories260K) written as GGUF tokenizer
/// metadata and read back into Hugging Face files: the pre-tokenizer is named as llama.cpp names it and the
/// tokenizer rebuilt from the GGUF encodes as the original does.
/// </summary>
public sealed class GgufTokenizerTests
{
    static readonly string[] Texts =
    [
        "Hello world", "I'll pay 12345 dollars, don't you?", "Line one\n\n  indented\tline two", "café naïve 東京 🙂",
    ];

    [Theory]
    [InlineData("llama3", "gpt2", "llama-bpe")]
    [InlineData("qwen3", "gpt2", "qwen2")]
    [InlineData("gpt2", "gpt2", "gpt-2")]
    [InlineData("stories260K", "llama", null)]
    public void Tokenizer_survives_gguf_metadata_and_matches_llama_cpp_names(string fixture, string model, string? pre)
    {
        string folder = fixture switch
        {
            "llama3" => TokenizerFixtures.Llama3Folder,
            "qwen3" => TokenizerFixtures.Qwen3Folder,
            "gpt2" => TokenizerFixtures.Gpt2Folder,
            _ => TestPaths.Stories260K,
        };
        var original = TokenizerLoader.FromFolder(folder);
        var metadata = GgufTokenizerExport.FromFolder(folder, original, original.VocabSize, preTokenizer: null);
        Assert.Equal((model, pre), (metadata.Model, metadata.PreTokenizer));

        var dir = TestPaths.NewTempDir();
        var file = Path.Combine(dir, "tokenizer.gguf");
        GgufWriter.Write(file, metadata.Entries, []);
        var back = Path.Combine(dir, "back");
        Directory.CreateDirectory(back);
        GgufTokenizerImport.Write(GgufFile.Open(file), back);
        var imported = TokenizerLoader.FromFolder(back);

        Assert.Equal(original.BosId, imported.BosId);
        Assert.Equal(original.EosIds.Take(1), imported.EosIds.Take(1));
        foreach (var text in Texts)
        {
            // stories260K collapses runs of spaces, which GGUF cannot say (see the round-trip tests).
            if (fixture == "stories260K" && text.Contains("  ")) continue;
            var ids = original.Encode(text);
            Assert.Equal(ids, imported.Encode(text));
            Assert.Equal(original.Decode(ids), imported.Decode(ids));
        }
    }

    [Fact]
    public void Unknown_split_rules_are_refused_unless_a_name_is_given()
    {
        var dir = TestPaths.NewTempDir();
        foreach (var name in new[] { "tokenizer.json", "tokenizer_config.json" })
            File.Copy(Path.Combine(TokenizerFixtures.Gpt2Folder, name), Path.Combine(dir, name));
        var path = Path.Combine(dir, "tokenizer.json");
        var json = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        // GPT-2's tokenizer with a Digits split in front: rules no llama.cpp name stands for.
        json["pre_tokenizer"] = new JsonObject
        {
            ["type"] = "Sequence",
            ["pretokenizers"] = new JsonArray(new JsonObject { ["type"] = "Digits", ["individual_digits"] = false }, json["pre_tokenizer"]!.DeepClone()),
        };
        File.WriteAllText(path, json.ToJsonString());
        var tokenizer = TokenizerLoader.FromFolder(dir);
        var e = Assert.Throws<NotSupportedException>(() => GgufTokenizerExport.FromFolder(dir, tokenizer, tokenizer.VocabSize, null));
        Assert.Contains("PreTokenizer", e.Message);
        Assert.Equal("gpt-2", GgufTokenizerExport.FromFolder(dir, tokenizer, tokenizer.VocabSize, "gpt-2").PreTokenizer);
    }
}
