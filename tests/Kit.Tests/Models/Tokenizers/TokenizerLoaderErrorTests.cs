using Kit.Models.Tokenizers;

namespace Kit.Tests.Models.Tokenizers;

/// <summary>Bad folders fail with exceptions that name the file and what is wrong in it.</summary>
public sealed class TokenizerLoaderErrorTests
{
    static string FolderWith(string name, string content)
    {
        var dir = TestPaths.NewTempDir();
        File.WriteAllText(Path.Combine(dir, name), content);
        return dir;
    }

    [Fact]
    public void Missing_folder_or_tokenizer_files_are_named()
    {
        var missing = Path.Combine(TestPaths.NewTempDir(), "nope");
        Assert.Contains(missing, Assert.Throws<DirectoryNotFoundException>(() => TokenizerLoader.FromFolder(missing)).Message);
        var empty = TestPaths.NewTempDir();
        var e = Assert.Throws<FileNotFoundException>(() => TokenizerLoader.FromFolder(empty));
        Assert.Contains("tokenizer.json", e.Message);
        Assert.Contains("tokenizer.model", e.Message);
    }

    [Fact]
    public void Corrupt_json_names_the_file()
    {
        var dir = FolderWith("tokenizer.json", "{ \"model\": { \"type\": \"BPE\", ");
        var e = Assert.Throws<InvalidDataException>(() => TokenizerLoader.FromFolder(dir));
        Assert.Contains(Path.Combine(dir, "tokenizer.json"), e.Message);
        Assert.Contains("not valid JSON", e.Message);

        var config = FolderWith("tokenizer_config.json", "[1, 2");
        File.Copy(Path.Combine(TestPaths.Stories260K, "tokenizer.model"), Path.Combine(config, "tokenizer.model"));
        Assert.Contains("tokenizer_config.json", Assert.Throws<InvalidDataException>(() => TokenizerLoader.FromFolder(config)).Message);
    }

    [Theory]
    [InlineData("Unigram")]
    [InlineData("WordPiece")]
    public void Unsupported_model_types_name_the_file_and_the_type(string type)
    {
        var dir = FolderWith("tokenizer.json", "{\"model\": {\"type\": \"" + type + "\", \"vocab\": []}}");
        var e = Assert.Throws<NotSupportedException>(() => TokenizerLoader.FromFolder(dir));
        Assert.Contains(Path.Combine(dir, "tokenizer.json"), e.Message);
        Assert.Contains($"'{type}'", e.Message);
    }

    [Fact]
    public void Missing_fields_are_named()
    {
        var dir = FolderWith("tokenizer.json", """{"model": {"type": "BPE", "merges": []}}""");
        Assert.Contains("'model.vocab'", Assert.Throws<InvalidDataException>(() => TokenizerLoader.FromFolder(dir)).Message);
        var noModel = FolderWith("tokenizer.json", """{"added_tokens": []}""");
        Assert.Contains("'model'", Assert.Throws<InvalidDataException>(() => TokenizerLoader.FromFolder(noModel)).Message);
    }

    [Fact]
    public void Bpe_without_a_known_space_scheme_is_not_supported()
    {
        var dir = FolderWith("tokenizer.json", """{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}}""");
        Assert.Contains("ByteLevel", Assert.Throws<NotSupportedException>(() => TokenizerLoader.FromFolder(dir)).Message);
    }

    [Fact]
    public void Unigram_tokenizer_model_is_not_supported()
    {
        var path = Path.Combine(TestPaths.Stories260K, "tokenizer.model");
        var unigram = SentencePieceModelProto.Parse(File.ReadAllBytes(path), path) with { ModelType = SentencePieceModelProto.Unigram };
        var dir = TestPaths.NewTempDir();
        File.WriteAllBytes(Path.Combine(dir, "tokenizer.model"), unigram.ToBytes());
        var e = Assert.Throws<NotSupportedException>(() => TokenizerLoader.FromFolder(dir));
        Assert.Contains(Path.Combine(dir, "tokenizer.model"), e.Message);
        Assert.Contains("Unigram", e.Message);
    }

    [Fact]
    public void Corrupt_tokenizer_model_names_the_file()
    {
        var dir = TestPaths.NewTempDir();
        var bytes = File.ReadAllBytes(Path.Combine(TestPaths.Stories260K, "tokenizer.model"));
        File.WriteAllBytes(Path.Combine(dir, "tokenizer.model"), bytes[..100]);
        var e = Assert.Throws<InvalidDataException>(() => TokenizerLoader.FromFolder(dir));
        Assert.Contains(Path.Combine(dir, "tokenizer.model"), e.Message);
    }

    [Fact]
    public void Special_token_missing_from_the_vocabulary_is_named()
    {
        var dir = FolderWith("tokenizer_config.json", """{"bos_token": "<|nope|>"}""");
        File.Copy(Path.Combine(TestPaths.Stories260K, "tokenizer.model"), Path.Combine(dir, "tokenizer.model"));
        var e = Assert.Throws<InvalidDataException>(() => TokenizerLoader.FromFolder(dir));
        Assert.Contains("bos_token", e.Message);
        Assert.Contains("<|nope|>", e.Message);
    }

    [Fact]
    public void Decoding_an_id_outside_the_vocabulary_fails()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => TokenizerFixtures.Stories.Decode([5, 512]));
        Assert.Contains("512", e.Message);
    }
}
