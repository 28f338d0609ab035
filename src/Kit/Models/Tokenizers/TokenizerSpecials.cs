namespace Kit.Models.Tokenizers;

/// <summary>
/// What a tokenizer adds around encoded text and which ids are special, resolved from the model
/// folder's configuration files by <see cref="TokenizerLoader"/>.
/// </summary>
/// <param name="AddedTokens">Tokens matched whole in text before the model runs.</param>
/// <param name="PrefixIds">Ids put before the text when special tokens are added (usually BOS).</param>
/// <param name="SuffixIds">Ids put after the text when special tokens are added (EOS for some models).</param>
/// <param name="BosId">The beginning-of-sequence id, if the model has one.</param>
/// <param name="EosIds">Every id that ends generation.</param>
/// <param name="PadId">The padding id, if any.</param>
/// <param name="UnkId">The unknown-token id, if any.</param>
/// <param name="ChatTemplate">The Jinja chat template text from the folder, if any.</param>
/// <param name="BosToken">The BOS token's text, which chat templates insert.</param>
/// <param name="EosToken">The EOS token's text, which chat templates insert.</param>
internal sealed record TokenizerSpecials(
    IReadOnlyList<AddedToken> AddedTokens,
    IReadOnlyList<int> PrefixIds,
    IReadOnlyList<int> SuffixIds,
    int? BosId,
    IReadOnlyList<int> EosIds,
    int? PadId,
    int? UnkId,
    string? ChatTemplate,
    string? BosToken,
    string? EosToken);
