using System.Text;
using Microsoft.ML.Tokenizers;

namespace Kit.Models.Tokenizers;

/// <summary>
/// Byte-level BPE (GPT-2, Llama 3, Qwen2/3, SmolLM): normalize, split with the pre-tokenizer regexes,
/// then BPE over the UTF-8 bytes spelt in GPT-2's byte alphabet. The merges run in
/// Microsoft.ML.Tokenizers' <see cref="BpeTokenizer"/> with <c>ByteLevel = true</c>.
/// </summary>
internal sealed class ByteLevelBpeTokenizer : KitTokenizer
{
    readonly BpeTokenizer _bpe;
    readonly PreTokenizerSplits _splits;
    readonly IReadOnlyList<NormalizationForm> _normalization;
    readonly IReadOnlyDictionary<string, int>? _wholeWords;
    readonly string?[] _idToToken;

    /// <param name="vocab">Token spelling to id.</param>
    /// <param name="merges">Merge pairs in rank order.</param>
    /// <param name="splits">The pre-tokenizer.</param>
    /// <param name="normalization">Unicode normalizations applied first, in order.</param>
    /// <param name="ignoreMerges">tokenizer.json's <c>ignore_merges</c>: a piece that is itself in the vocabulary is emitted whole.</param>
    /// <param name="specials">Special tokens and what encoding adds.</param>
    public ByteLevelBpeTokenizer(IReadOnlyDictionary<string, int> vocab, IReadOnlyList<(string Left, string Right)> merges,
        PreTokenizerSplits splits, IReadOnlyList<NormalizationForm> normalization, bool ignoreMerges, TokenizerSpecials specials)
        : base(specials, vocab.Count == 0 ? 0 : vocab.Values.Max() + 1)
    {
        _bpe = BpeTokenizer.Create(new BpeOptions(vocab)
        {
            Merges = merges.Select(m => m.Left + " " + m.Right),
            ByteLevel = true,
        });
        _splits = splits;
        _normalization = normalization;
        _wholeWords = ignoreMerges ? vocab : null;
        _idToToken = new string?[VocabSize];
        foreach (var (token, id) in vocab) _idToToken[id] = token;
    }

    internal override bool StripsLeadingSpace => false;

    private protected override void EncodePlain(string text, bool atTextStart, List<int> ids)
    {
        foreach (var form in _normalization) text = text.Normalize(form);
        foreach (var piece in _splits.Split(text))
        {
            if (_wholeWords is not null
                && _wholeWords.TryGetValue(ByteLevelAlphabet.Encode(Encoding.UTF8.GetBytes(piece)), out int whole))
            {
                ids.Add(whole);
                continue;
            }
            // The piece is already split; the library's own pre-tokenizer would split it again at spaces.
            ids.AddRange(_bpe.EncodeToIds(piece, considerPreTokenization: false, considerNormalization: false));
        }
    }

    private protected override string? ModelToken(int id) => _idToToken[id];

    private protected override void AppendModelTokenBytes(int id, List<byte> bytes)
    {
        var token = _idToToken[id] ?? throw new ArgumentOutOfRangeException(nameof(id), id, $"token id {id} has no vocabulary entry");
        bytes.AddRange(ByteLevelAlphabet.Decode(token) ?? Encoding.UTF8.GetBytes(token));
    }
}
