using Kit.Models.Tokenizers;

namespace Kit.Tests.Models.Tokenizers;

/// <summary>
/// Byte-level BPE tokenizer.json files against Hugging Face's tokenizer in JavaScript: the expected ids
/// come from @lenml/tokenizers reading the same files (reference-ids.mjs beside this file).
/// </summary>
public sealed class ByteLevelBpeTokenizerTests
{
    public static TheoryData<string, int[]> Llama3Cases => new()
    {
        { "Hello world", [9906, 1917] },
        { "  Hello world  ", [220, 22691, 1917, 256] },
        { "Hello\n\nworld\n", [9906, 271, 14957, 198] },
        { "The year 2024 had 12345 days.", [791, 1060, 220, 2366, 19, 1047, 220, 4513, 1774, 2919, 13] },
        { "emoji 😀 and 中文字符", [38623, 91416, 323, 73958, 17161, 49491] },
        { "multiple   spaces\tand\ttabs", [36773, 256, 12908, 53577, 3324, 3518] },
        { "I'm sure they'll say WE'RE done", [40, 2846, 2771, 814, 3358, 2019, 20255, 95253, 2884] },
        { "naïve café e\u0301", [3458, 38672, 588, 53050, 384, 54939] },
        { "", [] },
        { "if (x == 1) { return y; }", [333, 320, 87, 624, 220, 16, 8, 314, 471, 379, 26, 335] },
        { "<|begin_of_text|>Hi there<|eot_id|>", [128000, 13347, 1070, 128009] },
    };

    public static TheoryData<string, int[]> Qwen3Cases => new()
    {
        { "Hello world", [9707, 1879] },
        { "  Hello world  ", [220, 21927, 1879, 256] },
        { "Hello\n\nworld\n", [9707, 271, 14615, 198] },
        { "The year 2024 had 12345 days.", [785, 1042, 220, 17, 15, 17, 19, 1030, 220, 16, 17, 18, 19, 20, 2849, 13] },
        { "emoji 😀 and 中文字符", [37523, 90316, 323, 72858, 16744, 48391] },
        { "multiple   spaces\tand\ttabs", [35673, 256, 12621, 52477, 3244, 3435] },
        { "I'm sure they'll say WE'RE done", [40, 2776, 2704, 807, 3278, 1977, 19677, 94153, 2814] },
        // Qwen's NFC normalizer composes "e\u0301" to "é".
        { "naïve café e\u0301", [3376, 37572, 586, 51950, 3958] },
        { "", [] },
        { "if (x == 1) { return y; }", [333, 320, 87, 621, 220, 16, 8, 314, 470, 379, 26, 335] },
        { "<|im_start|>user\nhi<|im_end|>\n", [151644, 872, 198, 6023, 151645, 198] },
    };

    public static TheoryData<string, int[]> Gpt2Cases => new()
    {
        { "Hello world", [15496, 995] },
        { "  Hello world  ", [220, 18435, 995, 220, 220] },
        { "Hello\n\nworld\n", [15496, 198, 198, 6894, 198] },
        { "The year 2024 had 12345 days.", [464, 614, 48609, 550, 17031, 2231, 1528, 13] },
        { "emoji 😀 and 中文字符", [368, 31370, 30325, 222, 290, 220, 40792, 23877, 229, 27764, 245, 163, 105, 99] },
        { "multiple   spaces\tand\ttabs", [48101, 220, 220, 9029, 197, 392, 197, 8658, 82] },
        { "I'm sure they'll say WE'RE done", [40, 1101, 1654, 484, 1183, 910, 12887, 6, 2200, 1760] },
        { "naïve café e\u0301", [2616, 38776, 40304, 304, 136, 223] },
        { "", [] },
        { "if (x == 1) { return y; }", [361, 357, 87, 6624, 352, 8, 1391, 1441, 331, 26, 1782] },
        { "a<|endoftext|>b", [64, 50256, 65] },
    };

    [Theory]
    [MemberData(nameof(Llama3Cases))]
    public void Llama3_encodes_like_hugging_face(string text, int[] expected) =>
        Assert.Equal(expected, TokenizerFixtures.Llama3.Encode(text));

    [Theory]
    [MemberData(nameof(Qwen3Cases))]
    public void Qwen3_encodes_like_hugging_face(string text, int[] expected) =>
        Assert.Equal(expected, TokenizerFixtures.Qwen3.Encode(text));

    [Theory]
    [MemberData(nameof(Gpt2Cases))]
    public void Gpt2_encodes_like_hugging_face(string text, int[] expected) =>
        Assert.Equal(expected, TokenizerFixtures.Gpt2.Encode(text));

    [Theory]
    [MemberData(nameof(Llama3Cases))]
    public void Llama3_decodes_its_ids_back_to_the_text(string text, int[] ids) =>
        Assert.Equal(text, TokenizerFixtures.Llama3.Decode(ids, skipSpecialTokens: false));

    [Theory]
    [MemberData(nameof(Gpt2Cases))]
    public void Gpt2_decodes_its_ids_back_to_the_text(string text, int[] ids) =>
        Assert.Equal(text, TokenizerFixtures.Gpt2.Decode(ids, skipSpecialTokens: false));

    [Theory]
    [MemberData(nameof(Qwen3Cases))]
    public void Qwen3_decodes_its_ids_back_to_the_nfc_text(string text, int[] ids) =>
        Assert.Equal(text.Normalize(System.Text.NormalizationForm.FormC), TokenizerFixtures.Qwen3.Decode(ids, skipSpecialTokens: false));

    [Fact]
    public void Skipping_special_tokens_drops_them_but_keeps_added_non_special_ones()
    {
        var qwen = TokenizerFixtures.Qwen3;
        // <think> (151667) is an added token that is not special; <|im_end|> (151645) is special.
        var ids = qwen.Encode("<think>ok</think><|im_end|>");
        Assert.Equal([151667, 562, 151668, 151645], ids);
        Assert.Equal("<think>ok</think>", qwen.Decode(ids));
        Assert.Equal("<think>ok</think><|im_end|>", qwen.Decode(ids, skipSpecialTokens: false));
    }

    [Fact]
    public void Special_ids_come_from_the_tokenizer_files()
    {
        var llama3 = TokenizerFixtures.Llama3;
        Assert.Equal(128256, llama3.VocabSize);
        Assert.Equal(128000, llama3.BosId);
        Assert.Equal([128001], llama3.EosIds);
        Assert.Null(llama3.PadId);
        // This Llama 3 tokenizer.json has a ByteLevel post-processor and no add_bos_token: no BOS is added.
        Assert.Equal([9906], llama3.Encode("Hello"));

        var qwen = TokenizerFixtures.Qwen3;
        Assert.Equal(151669, qwen.VocabSize);
        Assert.Null(qwen.BosId);
        Assert.Equal([151645], qwen.EosIds);
        Assert.Equal(151643, qwen.PadId);

        Assert.Equal("Ġworld", TokenizerFixtures.Gpt2.TokenToString(995));
        Assert.Equal("<|endoftext|>", TokenizerFixtures.Gpt2.TokenToString(50256));
        Assert.Null(TokenizerFixtures.Gpt2.TokenToString(50257));
    }
}
