using System.Globalization;
using System.Text;
using Microsoft.ML.Tokenizers;

namespace Kit.Models.Tokenizers;

/// <summary>
/// SentencePiece BPE (Llama 2, Mistral, TinyLlama, llama2.c): '▁' marks spaces, characters outside the
/// vocabulary fall back to <c>&lt;0xNN&gt;</c> byte pieces. The BPE runs in Microsoft.ML.Tokenizers'
/// <see cref="LlamaTokenizer"/>, built from a <c>tokenizer.model</c> or from a model Kit writes from a
/// tokenizer.json.
/// </summary>
internal sealed class SentencePieceBpeTokenizer : KitTokenizer
{
    readonly SentencePieceTokenizer _sp;
    readonly MetaspaceRules? _rules;
    readonly string[] _pieces;
    readonly bool _byteFallback;
    readonly bool _stripLeadingSpace;

    /// <param name="modelBytes">The serialized SentencePiece model.</param>
    /// <param name="model">The same model, parsed.</param>
    /// <param name="rules">Kit's escaping for tokenizer.json input; null lets SentencePiece's own normalizer run (tokenizer.model).</param>
    /// <param name="stripLeadingSpace">Whether decoding drops the dummy-prefix space.</param>
    /// <param name="specials">Special tokens and what encoding adds.</param>
    public SentencePieceBpeTokenizer(byte[] modelBytes, SentencePieceModelProto model, MetaspaceRules? rules, bool stripLeadingSpace,
        TokenizerSpecials specials)
        : base(specials, model.Pieces.Count)
    {
        using (var stream = new MemoryStream(modelBytes))
            _sp = LlamaTokenizer.Create(stream, addBeginOfSentence: false, addEndOfSentence: false);
        _rules = rules;
        _pieces = model.Pieces.Select(p => p.Piece).ToArray();
        _byteFallback = model.ByteFallback;
        _stripLeadingSpace = stripLeadingSpace;
    }

    internal override bool StripsLeadingSpace => _stripLeadingSpace;

    private protected override void EncodePlain(string text, bool atTextStart, List<int> ids)
    {
        if (_rules is null)
        {
            ids.AddRange(_sp.EncodeToIds(text, addBeginningOfSentence: false, addEndOfSentence: false));
            return;
        }
        foreach (var piece in _rules.Apply(text, atTextStart))
            ids.AddRange(_sp.EncodeToIds(piece, addBeginningOfSentence: false, addEndOfSentence: false,
                considerPreTokenization: false, considerNormalization: false));
    }

    private protected override string? ModelToken(int id) => id < _pieces.Length ? _pieces[id] : null;

    private protected override void AppendModelTokenBytes(int id, List<byte> bytes)
    {
        if (id >= _pieces.Length) throw new ArgumentOutOfRangeException(nameof(id), id, $"token id {id} has no vocabulary entry");
        var piece = _pieces[id];
        if (_byteFallback && TryParseBytePiece(piece, out byte b)) bytes.Add(b);
        else bytes.AddRange(Encoding.UTF8.GetBytes(piece.Replace(MetaspaceRules.Metaspace, ' ')));
    }

    /// <summary>Byte-fallback pieces are spelt <c>&lt;0xNN&gt;</c>.</summary>
    internal static bool TryParseBytePiece(string piece, out byte value)
    {
        value = 0;
        return piece.Length == 6 && piece.StartsWith("<0x", StringComparison.Ordinal) && piece[5] == '>'
            && byte.TryParse(piece.AsSpan(3, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out value);
    }
}
