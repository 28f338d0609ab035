using System.Text.Json;

namespace Kit.Models.Tokenizers;

/// <summary>
/// The tokenizer-related settings of a model folder, gathered from <c>tokenizer_config.json</c>,
/// <c>special_tokens_map.json</c>, <c>generation_config.json</c>, <c>config.json</c> and
/// <c>chat_template.jinja</c>; every file is optional.
/// </summary>
internal sealed record TokenizerFolderConfig(
    bool? AddBosToken,
    bool? AddEosToken,
    string? BosToken,
    string? EosToken,
    string? PadToken,
    string? UnkToken,
    string? ChatTemplate,
    IReadOnlyList<AddedToken> ConfigAddedTokens,
    IReadOnlyList<int> GenerationBosIds,
    IReadOnlyList<int> GenerationEosIds,
    IReadOnlyList<int> GenerationPadIds,
    IReadOnlyList<int> ModelBosIds,
    IReadOnlyList<int> ModelEosIds,
    IReadOnlyList<int> ModelPadIds)
{
    public static TokenizerFolderConfig Read(string folder)
    {
        var tokenizerConfigPath = Path.Combine(folder, "tokenizer_config.json");
        var specialMapPath = Path.Combine(folder, "special_tokens_map.json");
        var generationPath = Path.Combine(folder, "generation_config.json");
        var configPath = Path.Combine(folder, "config.json");
        using var tokenizerConfig = JsonConfigFile.ReadIfExists(tokenizerConfigPath);
        using var specialMap = JsonConfigFile.ReadIfExists(specialMapPath);
        using var generation = JsonConfigFile.ReadIfExists(generationPath);
        using var config = JsonConfigFile.ReadIfExists(configPath);

        string? Token(string name) =>
            (tokenizerConfig is null ? null : JsonConfigFile.TokenText(tokenizerConfig.RootElement, name, tokenizerConfigPath))
            ?? (specialMap is null ? null : JsonConfigFile.TokenText(specialMap.RootElement, name, specialMapPath));
        List<int> Ids(JsonDocument? doc, string name, string path) =>
            doc is null ? [] : JsonConfigFile.IdList(doc.RootElement, name, path);

        var tc = tokenizerConfig?.RootElement;
        var templatePath = Path.Combine(folder, "chat_template.jinja");
        return new TokenizerFolderConfig(
            AddBosToken: tc is { } a ? JsonConfigFile.OptionalBool(a, "add_bos_token", tokenizerConfigPath) : null,
            AddEosToken: tc is { } b ? JsonConfigFile.OptionalBool(b, "add_eos_token", tokenizerConfigPath) : null,
            BosToken: Token("bos_token"),
            EosToken: Token("eos_token"),
            PadToken: Token("pad_token"),
            UnkToken: Token("unk_token"),
            ChatTemplate: (tc is { } t ? ReadChatTemplate(t, tokenizerConfigPath) : null)
                ?? (File.Exists(templatePath) ? File.ReadAllText(templatePath) : null),
            ConfigAddedTokens: tc is { } d ? ReadAddedTokensDecoder(d, tokenizerConfigPath) : [],
            GenerationBosIds: Ids(generation, "bos_token_id", generationPath),
            GenerationEosIds: Ids(generation, "eos_token_id", generationPath),
            GenerationPadIds: Ids(generation, "pad_token_id", generationPath),
            ModelBosIds: Ids(config, "bos_token_id", configPath),
            ModelEosIds: Ids(config, "eos_token_id", configPath),
            ModelPadIds: Ids(config, "pad_token_id", configPath));
    }

    /// <summary><c>chat_template</c> is a string, or a list of named templates of which "default" is the chat one.</summary>
    static string? ReadChatTemplate(JsonElement config, string path)
    {
        if (JsonConfigFile.Optional(config, "chat_template") is not { } v) return null;
        if (v.ValueKind == JsonValueKind.String) return v.GetString();
        if (v.ValueKind != JsonValueKind.Array)
            throw new InvalidDataException($"{path}: field 'chat_template' should be a string or a list of {{name, template}}, found {v.ValueKind}");
        var named = v.EnumerateArray()
            .Select(e => (Name: JsonConfigFile.OptionalString(e, "name", path, "chat_template[].name"),
                          Template: JsonConfigFile.OptionalString(e, "template", path, "chat_template[].template")))
            .ToList();
        return named.FirstOrDefault(n => n.Name == "default").Template ?? named.FirstOrDefault().Template;
    }

    static List<AddedToken> ReadAddedTokensDecoder(JsonElement config, string path)
    {
        var tokens = new List<AddedToken>();
        if (JsonConfigFile.Optional(config, "added_tokens_decoder") is not { ValueKind: JsonValueKind.Object } decoder) return tokens;
        foreach (var entry in decoder.EnumerateObject())
        {
            if (!int.TryParse(entry.Name, out int id))
                throw new InvalidDataException($"{path}: key '{entry.Name}' of 'added_tokens_decoder' is not a token id");
            var content = JsonConfigFile.OptionalString(entry.Value, "content", path, $"added_tokens_decoder.{entry.Name}.content")
                ?? throw new InvalidDataException($"{path}: 'added_tokens_decoder.{entry.Name}' has no 'content'");
            tokens.Add(new AddedToken(id, content, JsonConfigFile.OptionalBool(entry.Value, "special", path) ?? false));
        }
        return tokens;
    }
}
