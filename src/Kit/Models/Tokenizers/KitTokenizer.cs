using System.Runtime.InteropServices;
using System.Text;

namespace Kit.Models.Tokenizers;

/// <summary>
/// A tokenizer for a Hugging Face model folder: text to token ids and back, the model's special ids,
/// streaming decode for generation, and its chat template. Create one with
/// <see cref="TokenizerLoader.FromFolder"/>.
/// </summary>
/// <remarks>
/// Decoding is lossless: unlike transformers' <c>decode</c>, it does not apply
/// <c>clean_up_tokenization_spaces</c> (which rewrites " ." as "." and the like), so that text streamed
/// token by token equals text decoded at once.
/// </remarks>
public abstract class KitTokenizer
{
    readonly TokenizerSpecials _specials;
    readonly AddedTokenSplitter _splitter;
    readonly Dictionary<int, AddedToken> _addedById;

    private protected KitTokenizer(TokenizerSpecials specials, int modelVocabSize)
    {
        _specials = specials;
        _splitter = new AddedTokenSplitter(specials.AddedTokens);
        _addedById = specials.AddedTokens.ToDictionary(t => t.Id);
        VocabSize = Math.Max(modelVocabSize, specials.AddedTokens.Count == 0 ? 0 : specials.AddedTokens.Max(t => t.Id) + 1);
    }

    /// <summary>Number of ids the tokenizer can produce (highest id + 1), added tokens included.</summary>
    public int VocabSize { get; }

    /// <summary>The beginning-of-sequence id, or null when the model has none.</summary>
    public int? BosId => _specials.BosId;

    /// <summary>
    /// Whether <see cref="Encode"/> with special tokens puts BOS first: what the folder's <c>tokenizer_config.json</c>
    /// <c>add_bos_token</c> says, else what <c>tokenizer.json</c>'s post-processor template does.
    /// </summary>
    public bool AddsBosToken => BosId is { } bos && _specials.PrefixIds.Contains(bos);

    /// <summary>Every id that ends generation (<c>generation_config.json</c> may list several).</summary>
    public IReadOnlyList<int> EosIds => _specials.EosIds;

    /// <summary>The padding id, or null when the model has none.</summary>
    public int? PadId => _specials.PadId;

    /// <summary>The unknown-token id, or null when the model has none.</summary>
    public int? UnkId => _specials.UnkId;

    /// <summary>Tokens matched whole in text before the model runs (special tokens and other added tokens).</summary>
    public IReadOnlyList<AddedToken> AddedTokens => _specials.AddedTokens;

    /// <summary>The chat template text from <c>tokenizer_config.json</c> (or <c>chat_template.jinja</c>), if any.</summary>
    public string? ChatTemplateSource => _specials.ChatTemplate;

    /// <summary>Encodes text to ids; with <paramref name="addSpecialTokens"/>, adds BOS (and EOS) where the model's configuration says so.</summary>
    public IReadOnlyList<int> Encode(string text, bool addSpecialTokens = true)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = new List<int>();
        if (addSpecialTokens) ids.AddRange(_specials.PrefixIds);
        foreach (var segment in _splitter.Split(text))
        {
            if (segment.Token is { } token) ids.Add(token.Id);
            else EncodePlain(segment.Text, segment.Start == 0, ids);
        }
        if (addSpecialTokens) ids.AddRange(_specials.SuffixIds);
        return ids;
    }

    /// <summary>Decodes ids to text; with <paramref name="skipSpecialTokens"/>, special tokens (BOS, EOS, chat markers) are left out.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An id is not in the vocabulary.</exception>
    public string Decode(IEnumerable<int> ids, bool skipSpecialTokens = true)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var bytes = new List<byte>();
        foreach (var id in ids) AppendBytes(id, skipSpecialTokens, bytes);
        ReadOnlySpan<byte> span = CollectionsMarshal.AsSpan(bytes);
        if (StripsLeadingSpace && span.Length > 0 && span[0] == (byte)' ') span = span[1..];
        return Encoding.UTF8.GetString(span);
    }

    /// <summary>The token as the vocabulary spells it (e.g. "Ġworld", "▁Hello", "&lt;0x0A&gt;"), or null for an unknown id.</summary>
    public string? TokenToString(int id) =>
        _addedById.TryGetValue(id, out var added) ? added.Content : id >= 0 && id < VocabSize ? ModelToken(id) : null;

    /// <summary>Whether <paramref name="id"/> is a special token (dropped by decoding with <c>skipSpecialTokens</c>).</summary>
    public bool IsSpecial(int id) => _addedById.TryGetValue(id, out var added) && added.Special;

    /// <summary>A decoder that turns ids into text one at a time, for streaming generation.</summary>
    public StreamingDecoder CreateStreamingDecoder(bool skipSpecialTokens = true) =>
        new(this, skipSpecialTokens);

    /// <summary>
    /// The chat template: <paramref name="family"/> when given, otherwise the family detected from
    /// <see cref="ChatTemplateSource"/>.
    /// </summary>
    /// <exception cref="NotSupportedException">No family is given and the folder's template is missing or not recognised.</exception>
    public ChatTemplate GetChatTemplate(ChatTemplateFamily? family = null) =>
        family is { } f
            ? ChatTemplate.For(f, _specials.BosToken ?? "", _specials.EosToken ?? "")
            : ChatTemplate.Detect(_specials.ChatTemplate, _specials.BosToken ?? "", _specials.EosToken ?? "");

    /// <summary>Renders <paramref name="messages"/> with the model's chat template (see <see cref="GetChatTemplate"/>).</summary>
    public string ApplyChatTemplate(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt = true,
        ChatTemplateFamily? family = null) =>
        GetChatTemplate(family).Render(messages, addGenerationPrompt);

    /// <summary>Whether decoding drops one leading space (SentencePiece's dummy prefix).</summary>
    internal abstract bool StripsLeadingSpace { get; }

    /// <summary>Appends the bytes <paramref name="id"/> decodes to (nothing for a skipped special token).</summary>
    internal void AppendBytes(int id, bool skipSpecialTokens, List<byte> bytes)
    {
        if (_addedById.TryGetValue(id, out var added))
        {
            if (!(skipSpecialTokens && added.Special)) bytes.AddRange(Encoding.UTF8.GetBytes(added.Content));
            return;
        }
        if (id < 0 || id >= VocabSize)
            throw new ArgumentOutOfRangeException(nameof(id), id, $"token id {id} is outside the vocabulary (0..{VocabSize - 1})");
        AppendModelTokenBytes(id, bytes);
    }

    /// <summary>Encodes text that holds no added token; <paramref name="atTextStart"/> tells whether it begins the whole input.</summary>
    private protected abstract void EncodePlain(string text, bool atTextStart, List<int> ids);

    /// <summary>The vocabulary spelling of a model (not added) token, or null when the id has none.</summary>
    private protected abstract string? ModelToken(int id);

    /// <summary>Appends the bytes a model (not added) token stands for.</summary>
    private protected abstract void AppendModelTokenBytes(int id, List<byte> bytes);
}
