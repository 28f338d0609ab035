namespace Kit.Formats.Gguf;

/// <summary>llama.cpp's token types (<c>tokenizer.ggml.token_type</c>), the same numbers as SentencePiece's piece types.</summary>
public enum GgufTokenType
{
    /// <summary>An ordinary vocabulary token.</summary>
    Normal = 1,
    /// <summary>The unknown token.</summary>
    Unknown = 2,
    /// <summary>A special token (BOS, EOS, chat markers).</summary>
    Control = 3,
    /// <summary>An added token that is not special: matched whole in text.</summary>
    UserDefined = 4,
    /// <summary>A filler id with no token.</summary>
    Unused = 5,
    /// <summary>A SentencePiece byte-fallback piece <c>&lt;0xNN&gt;</c>.</summary>
    Byte = 6,
}
