using Kit.Models.Tokenizers;

namespace Kit.Tests.Models.Tokenizers;

/// <summary>
/// SentencePiece BPE: a Llama-2-format tokenizer.json (Mistral's vocabulary) against Hugging Face's
/// tokenizer in JavaScript (reference-ids.mjs), and stories260K's tokenizer.model against Google's
/// sentencepiece compiled to WebAssembly (@agnai/sentencepiece-js 1.1.1, <c>encodeIds</c>).
/// </summary>
public sealed class SentencePieceTokenizerTests
{
    /// <summary>Ids without special tokens; Encode adds BOS (1) in front, as add_bos_token says.</summary>
    public static TheoryData<string, int[]> MistralCases => new()
    {
        { "Hello world", [22557, 1526] },
        { "  Hello world  ", [259, 22557, 1526, 259] },
        { "Hello\n\nworld\n", [22557, 13, 13, 9471, 13] },
        { "The year 2024 had 12345 days.", [415, 879, 28705, 28750, 28734, 28750, 28781, 553, 28705, 28740, 28750, 28770, 28781, 28782, 2202, 28723] },
        { "emoji 😀 and 中文字符", [877, 27813, 28705, 30575, 304, 28705, 28991, 29019, 29031, 29252] },
        { "multiple   spaces\tand\ttabs", [5166, 259, 10599, 12, 391, 12, 24856] },
        { "I'm sure they'll say WE'RE done", [315, 28742, 28719, 1864, 590, 28742, 584, 1315, 21026, 28742, 896, 2203] },
        { "naïve café e\u0301", [1879, 28920, 333, 28345, 317, 28949] },
        { "", [] },
        { "if (x == 1) { return y; }", [513, 325, 28744, 859, 28705, 28740, 28731, 371, 604, 337, 28745, 443] },
        // Each text segment between special tokens gets its own dummy-prefix '▁' (Llama 2's legacy behaviour).
        { "Hello</s>world<s> again", [22557, 2, 1526, 1, 28705, 1076] },
    };

    [Theory]
    [MemberData(nameof(MistralCases))]
    public void Sentencepiece_style_json_encodes_like_hugging_face(string text, int[] expected)
    {
        var tokenizer = TokenizerFixtures.Mistral;
        Assert.Equal(expected, tokenizer.Encode(text, addSpecialTokens: false));
        Assert.Equal([1, .. expected], tokenizer.Encode(text));
    }

    [Theory]
    [MemberData(nameof(MistralCases))]
    public void Sentencepiece_style_json_decodes_like_hugging_face(string text, int[] ids)
    {
        // Hugging Face decodes the special-token case as "Hello</s> world<s>  again": the '▁' of each
        // segment becomes a space, and only the very first one is dropped.
        var expected = text == "Hello</s>world<s> again" ? "Hello</s> world<s>  again" : text;
        Assert.Equal(expected, TokenizerFixtures.Mistral.Decode(ids, skipSpecialTokens: false));
        Assert.Equal(expected.Replace("</s>", "").Replace("<s>", ""), TokenizerFixtures.Mistral.Decode([1, .. ids]));
    }

    [Fact]
    public void Sentencepiece_style_json_reports_its_special_ids()
    {
        var tokenizer = TokenizerFixtures.Mistral;
        Assert.Equal(32000, tokenizer.VocabSize);
        Assert.Equal(1, tokenizer.BosId);
        Assert.Equal([2], tokenizer.EosIds);
        Assert.Equal(0, tokenizer.UnkId);
        Assert.Null(tokenizer.PadId);
        Assert.Equal("▁Hello", tokenizer.TokenToString(22557));
        Assert.Equal("<0x0A>", tokenizer.TokenToString(13));
    }

    public static TheoryData<string, int[]> StoriesCases => new()
    {
        { "Once upon a time", [403, 407, 261, 378] },
        // sentencepiece's identity normalizer still trims and collapses spaces (remove_extra_whitespaces).
        { "  Once  upon a time  ", [403, 407, 261, 378] },
        { "Hello\n\nworld\n", [346, 306, 414, 13, 13, 424, 304, 341, 13] },
        { "Lily has 3 cats and 12 dogs.", [317, 300, 419, 410, 472, 280, 294, 419, 269, 410, 475, 479, 400, 428, 419, 426] },
        { "emoji 😀 and 中文", [344, 423, 414, 449, 417, 410, 243, 162, 155, 131, 269, 410, 231, 187, 176, 233, 153, 138] },
        { "naïve café", [297, 412, 198, 178, 360, 280, 412, 431, 485] },
        { "The little dog", [291, 376, 400, 428] },
        { "", [] },
        { "Tom said, \"Let's play!\"", [274, 287, 336, 432, 313, 438, 316, 439, 419, 337, 443, 436] },
    };

    [Theory]
    [MemberData(nameof(StoriesCases))]
    public void Stories260k_tokenizer_model_encodes_like_sentencepiece(string text, int[] expected)
    {
        Assert.Equal(expected, TokenizerFixtures.Stories.Encode(text, addSpecialTokens: false));
        Assert.Equal([1, .. expected], TokenizerFixtures.Stories.Encode(text));
    }

    [Theory]
    [MemberData(nameof(StoriesCases))]
    public void Stories260k_tokenizer_model_decodes_like_sentencepiece(string text, int[] ids)
    {
        var expected = text == "  Once  upon a time  " ? "Once upon a time" : text;
        Assert.Equal(expected, TokenizerFixtures.Stories.Decode([1, .. ids]));
    }

    [Fact]
    public void Stories260k_matches_the_documented_prompt_encoding_and_special_ids()
    {
        var tokenizer = TokenizerFixtures.Stories;
        // From the folder's README (llama2.c run.c and sentencepiece agree on it).
        Assert.Equal([1, 403, 407, 261, 378], tokenizer.Encode("Once upon a time"));
        Assert.Equal(512, tokenizer.VocabSize);
        Assert.Equal(1, tokenizer.BosId);
        Assert.Equal([2], tokenizer.EosIds);
        Assert.Equal(0, tokenizer.UnkId);
        Assert.Null(tokenizer.PadId);
        Assert.Equal("<0x0A>", tokenizer.TokenToString(13));
        Assert.Equal("▁Once", tokenizer.TokenToString(403));
    }
}
