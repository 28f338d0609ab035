namespace Kit.Models.Tokenizers;

/// <summary>
/// Turns a folder's configuration into concrete special ids. The tokenizer's own token names come
/// first; <c>generation_config.json</c> and then <c>config.json</c> fill in what they leave open, and
/// every EOS id any of them names ends generation.
/// </summary>
internal static class SpecialTokenResolver
{
    /// <param name="config">The folder's settings.</param>
    /// <param name="addedTokens">Added tokens from the tokenizer file itself.</param>
    /// <param name="idOf">Vocabulary lookup, added tokens included.</param>
    /// <param name="tokenOf">Reverse lookup, for naming ids in chat templates.</param>
    /// <param name="defaultPrefix">What the tokenizer file puts before text when the config does not say (post-processor template).</param>
    /// <param name="defaultSuffix">What it puts after text.</param>
    /// <param name="defaults">Token names the tokenizer file implies (SentencePiece's bos/eos/unk pieces).</param>
    /// <param name="folder">The model folder, for error messages.</param>
    public static TokenizerSpecials Resolve(TokenizerFolderConfig config, IReadOnlyList<AddedToken> addedTokens,
        Func<string, int?> idOf, Func<int, string?> tokenOf, IReadOnlyList<int> defaultPrefix, IReadOnlyList<int> defaultSuffix,
        (string? Bos, string? Eos, string? Unk) defaults, string folder)
    {
        int? Lookup(string? token, string field)
        {
            if (token is null) return null;
            return idOf(token) ?? throw new InvalidDataException(
                $"{Path.Combine(folder, "tokenizer_config.json")}: {field} '{token}' is not in the vocabulary");
        }

        int? bosId = Lookup(config.BosToken, "bos_token") ?? Lookup(defaults.Bos, "bos_token")
            ?? First(config.GenerationBosIds) ?? First(config.ModelBosIds);
        int? tokenizerEos = Lookup(config.EosToken, "eos_token") ?? Lookup(defaults.Eos, "eos_token");
        var eosIds = config.GenerationEosIds
            .Concat(tokenizerEos is { } e ? [e] : [])
            .Concat(config.ModelEosIds)
            .Distinct().ToList();
        int? padId = Lookup(config.PadToken, "pad_token") ?? First(config.GenerationPadIds) ?? First(config.ModelPadIds);
        int? unkId = Lookup(config.UnkToken, "unk_token") ?? Lookup(defaults.Unk, "unk_token");

        IReadOnlyList<int> prefix = config.AddBosToken switch
        {
            true when bosId is { } b => [b],
            true => throw new InvalidDataException($"{Path.Combine(folder, "tokenizer_config.json")}: add_bos_token is true but the folder names no BOS token"),
            false => [],
            null => defaultPrefix,
        };
        int? eosToAdd = tokenizerEos ?? First(eosIds);
        IReadOnlyList<int> suffix = config.AddEosToken switch
        {
            true when eosToAdd is { } x => [x],
            true => throw new InvalidDataException($"{Path.Combine(folder, "tokenizer_config.json")}: add_eos_token is true but the folder names no EOS token"),
            false => [],
            null => defaultSuffix,
        };

        var byId = addedTokens.ToDictionary(t => t.Id);
        foreach (var extra in config.ConfigAddedTokens) byId.TryAdd(extra.Id, extra);

        return new TokenizerSpecials(
            AddedTokens: byId.Values.OrderBy(t => t.Id).ToList(),
            PrefixIds: prefix,
            SuffixIds: suffix,
            BosId: bosId,
            EosIds: eosIds,
            PadId: padId,
            UnkId: unkId,
            ChatTemplate: config.ChatTemplate,
            BosToken: config.BosToken ?? (bosId is { } bi ? tokenOf(bi) : null),
            EosToken: config.EosToken ?? (tokenizerEos is { } ei ? tokenOf(ei) : null));
    }

    static int? First(IReadOnlyList<int> ids) => ids.Count > 0 ? ids[0] : null;
}
