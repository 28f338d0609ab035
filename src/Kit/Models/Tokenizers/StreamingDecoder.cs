using System.Runtime.InteropServices;
using System.Text;

namespace Kit.Models.Tokenizers;

/// <summary>
/// Decodes ids one at a time for streaming generation. <see cref="Push"/> returns only text that is
/// complete: bytes of a character split across tokens (byte-fallback tokens, byte-level pieces of
/// an emoji) are held until the character is whole. The pieces returned, joined (and followed by
/// <see cref="Flush"/>), equal <see cref="KitTokenizer.Decode"/> of the same ids.
/// </summary>
public sealed class StreamingDecoder
{
    readonly KitTokenizer _tokenizer;
    readonly bool _skipSpecialTokens;
    readonly List<byte> _pending = new();
    bool _started;

    internal StreamingDecoder(KitTokenizer tokenizer, bool skipSpecialTokens)
    {
        _tokenizer = tokenizer;
        _skipSpecialTokens = skipSpecialTokens;
    }

    /// <summary>
    /// Adds one id and returns the text it completes (possibly empty). An id past the tokenizer's vocabulary
    /// decodes to nothing: models pad their embedding beyond the tokenizer (Qwen2.5: 151,936 rows for 151,665
    /// tokens) and can sample such a row, which Hugging Face's decoders skip too.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="id"/> is negative.</exception>
    public string Push(int id)
    {
        if (id >= _tokenizer.VocabSize) return "";
        _tokenizer.AppendBytes(id, _skipSpecialTokens, _pending);
        return Emit(CompleteLength(CollectionsMarshal.AsSpan(_pending)));
    }

    /// <summary>Returns whatever is held back; an unfinished character decodes as U+FFFD.</summary>
    public string Flush() => Emit(_pending.Count);

    string Emit(int count)
    {
        if (count == 0) return "";
        var span = CollectionsMarshal.AsSpan(_pending)[..count];
        if (!_started)
        {
            _started = true;
            // The whole text's first byte is where SentencePiece's dummy-prefix space is dropped.
            if (_tokenizer.StripsLeadingSpace && span[0] == (byte)' ') span = span[1..];
        }
        var text = Encoding.UTF8.GetString(span);
        _pending.RemoveRange(0, count);
        return text;
    }

    /// <summary>
    /// Length of the prefix that ends on a character boundary: everything except a trailing lead byte
    /// still waiting for its continuation bytes. Cutting there decodes the same as decoding all at once.
    /// </summary>
    static int CompleteLength(ReadOnlySpan<byte> bytes)
    {
        for (int back = 1; back <= Math.Min(3, bytes.Length); back++)
        {
            byte b = bytes[^back];
            if ((b & 0xC0) == 0x80) continue;
            int need = b >= 0xF0 && b <= 0xF4 ? 4 : b >= 0xE0 && b < 0xF0 ? 3 : b >= 0xC2 && b < 0xE0 ? 2 : 1;
            return need > back ? bytes.Length - back : bytes.Length;
        }
        return bytes.Length;
    }
}
