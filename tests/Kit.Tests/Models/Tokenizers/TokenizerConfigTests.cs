using Kit.Models.Tokenizers;

namespace Kit.Tests.Models.Tokenizers;

/// <summary>Special ids and BOS/EOS handling resolved from a folder's configuration files.</summary>
public sealed class TokenizerConfigTests
{
    static string StoriesFolderWith(params (string Name, string Json)[] files)
    {
        var dir = TestPaths.NewTempDir();
        File.Copy(Path.Combine(TestPaths.Stories260K, "tokenizer.model"), Path.Combine(dir, "tokenizer.model"));
        foreach (var (name, json) in files) File.WriteAllText(Path.Combine(dir, name), json);
        return dir;
    }

    [Fact]
    public void Tokens_written_as_objects_and_several_eos_ids_are_read()
    {
        var dir = StoriesFolderWith(
            ("tokenizer_config.json", """
                {"add_bos_token": false, "add_eos_token": true,
                 "bos_token": {"__type": "AddedToken", "content": "<s>", "lstrip": false},
                 "eos_token": "</s>", "pad_token": {"content": "<unk>"}}
                """),
            ("generation_config.json", """{"bos_token_id": 1, "eos_token_id": [2, 300]}"""));
        var tokenizer = TokenizerLoader.FromFolder(dir);
        Assert.Equal(1, tokenizer.BosId);
        Assert.Equal([2, 300], tokenizer.EosIds);
        Assert.Equal(0, tokenizer.PadId);
        // add_bos_token false and add_eos_token true: no BOS in front, EOS (2) behind.
        Assert.Equal([403, 407, 261, 378, 2], tokenizer.Encode("Once upon a time"));
        Assert.Equal([403, 407, 261, 378], tokenizer.Encode("Once upon a time", addSpecialTokens: false));
    }

    [Fact]
    public void Model_config_fills_ids_the_tokenizer_leaves_open()
    {
        var dir = TestPaths.NewTempDir();
        File.CreateSymbolicLink(Path.Combine(dir, "tokenizer.json"), Path.Combine(TokenizerFixtures.Qwen3Folder, "tokenizer.json"));
        File.Copy(Path.Combine(TokenizerFixtures.Qwen3Folder, "tokenizer_config.json"), Path.Combine(dir, "tokenizer_config.json"));
        File.WriteAllText(Path.Combine(dir, "config.json"), """{"bos_token_id": 151643, "eos_token_id": 151645}""");
        File.WriteAllText(Path.Combine(dir, "generation_config.json"), """{"eos_token_id": [151645, 151643], "pad_token_id": 151643}""");
        var tokenizer = TokenizerLoader.FromFolder(dir);
        Assert.Equal(151643, tokenizer.BosId);
        Assert.Equal([151645, 151643], tokenizer.EosIds);
        Assert.Equal(151643, tokenizer.PadId);
        // Qwen's add_bos_token is false: BOS is known but not added.
        Assert.Equal([9707], tokenizer.Encode("Hello"));
    }

    [Fact]
    public void Chat_template_jinja_file_is_used_when_the_config_has_none()
    {
        var dir = StoriesFolderWith(("chat_template.jinja", "{% for m in messages %}<|user|>\n{{ m['content'] }}{% endfor %}<|assistant|>"));
        var tokenizer = TokenizerLoader.FromFolder(dir);
        Assert.Equal(ChatTemplateFamily.Zephyr, tokenizer.GetChatTemplate().Family);
        Assert.Equal("<|user|>\nHi</s>\n<|assistant|>\n", tokenizer.ApplyChatTemplate([new("user", "Hi")]));
    }

    [Fact]
    public void Sentencepiece_model_survives_a_write_and_read()
    {
        var path = Path.Combine(TestPaths.Stories260K, "tokenizer.model");
        var model = SentencePieceModelProto.Parse(File.ReadAllBytes(path), path);
        Assert.Equal(512, model.Pieces.Count);
        Assert.Equal(SentencePieceModelProto.Bpe, model.ModelType);
        Assert.True(model.ByteFallback);
        Assert.Equal((0, 1, 2, -1), (model.UnkId, model.BosId, model.EosId, model.PadId));
        Assert.Equal(new SentencePiece("<0x0A>", 0, SentencePieceType.Byte), model.Pieces[13]);
        var again = SentencePieceModelProto.Parse(model.ToBytes(), "round trip");
        Assert.Equal(model.Pieces, again.Pieces);
        Assert.Equal(model with { Pieces = again.Pieces }, again);
    }
}
