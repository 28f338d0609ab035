using Kit.Models.Tokenizers;

namespace Kit.Tests.Models.Tokenizers;

/// <summary>Streaming decode must give, after every token, exactly the complete text decoded so far.</summary>
public sealed class StreamingDecoderTests
{
    const string Text = "  Hi 😀 中文 naïve\n\nend, 42 <0x41> ▁x  ";

    public static TheoryData<string> Tokenizers => new() { "llama3", "qwen3", "gpt2", "mistral", "stories" };

    static KitTokenizer Get(string name) => name switch
    {
        "llama3" => TokenizerFixtures.Llama3,
        "qwen3" => TokenizerFixtures.Qwen3,
        "gpt2" => TokenizerFixtures.Gpt2,
        "mistral" => TokenizerFixtures.Mistral,
        _ => TokenizerFixtures.Stories,
    };

    [Theory]
    [MemberData(nameof(Tokenizers))]
    public void Streamed_text_equals_full_decode_at_every_prefix(string name)
    {
        var tokenizer = Get(name);
        var ids = tokenizer.Encode(Text);
        var decoder = tokenizer.CreateStreamingDecoder();
        var streamed = "";
        for (int k = 1; k <= ids.Count; k++)
        {
            streamed += decoder.Push(ids[k - 1]);
            var full = tokenizer.Decode(ids.Take(k));
            // A prefix that cuts a character in two decodes with a trailing U+FFFD; streaming holds those bytes back.
            var complete = full.TrimEnd('\uFFFD');
            Assert.Equal(complete, streamed);
        }
        Assert.Equal("", decoder.Flush());
        Assert.Equal(tokenizer.Decode(ids), streamed);
    }

    [Fact]
    public void Byte_fallback_pieces_of_one_character_come_out_together()
    {
        var tokenizer = TokenizerFixtures.Stories;
        // "Once 😀": "▁Once" (403), "▁" (410), then four byte-fallback tokens <0xF0><0x9F><0x98><0x80>.
        var decoder = tokenizer.CreateStreamingDecoder();
        Assert.Equal(["", "Once", " ", "", "", "", "😀"], new[] { 1, 403, 410, 243, 162, 155, 131 }.Select(decoder.Push).ToArray());
    }

    [Fact]
    public void Leading_dummy_space_is_dropped_only_at_the_start()
    {
        var tokenizer = TokenizerFixtures.Stories;
        var decoder = tokenizer.CreateStreamingDecoder();
        Assert.Equal(["", "Once", " upon"], new[] { 1, 403, 407 }.Select(decoder.Push).ToArray());
    }

    [Fact]
    public void Special_tokens_stream_only_when_not_skipped()
    {
        var tokenizer = TokenizerFixtures.Llama3;
        var ids = new[] { 128000, 13347, 128009 };
        Assert.Equal(["", "Hi", ""], ids.Select(tokenizer.CreateStreamingDecoder().Push).ToArray());
        Assert.Equal(["<|begin_of_text|>", "Hi", "<|eot_id|>"],
            ids.Select(tokenizer.CreateStreamingDecoder(skipSpecialTokens: false).Push).ToArray());
    }

    [Fact]
    public void Flush_returns_an_unfinished_character_as_replacement()
    {
        var decoder = TokenizerFixtures.Stories.CreateStreamingDecoder();
        Assert.Equal("", decoder.Push(243)); // <0xF0>, the first of four bytes
        Assert.Equal("\uFFFD", decoder.Flush());
    }

    [Fact]
    public void Ids_of_padded_embedding_rows_past_the_vocabulary_stream_as_nothing()
    {
        // stories260K's tokenizer has 512 ids; a model whose embedding has more rows may sample 512 or 40000.
        var decoder = TokenizerFixtures.Stories.CreateStreamingDecoder();
        Assert.Equal(["", "Once", "", "", " upon"], new[] { 1, 403, 512, 40000, 407 }.Select(decoder.Push).ToArray());
        Assert.Throws<ArgumentOutOfRangeException>(() => decoder.Push(-1));
    }
}
