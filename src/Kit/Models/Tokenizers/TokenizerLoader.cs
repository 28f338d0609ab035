namespace Kit.Models.Tokenizers;

/// <summary>Creates a <see cref="KitTokenizer"/> from a Hugging Face model folder.</summary>
public static class TokenizerLoader
{
    /// <summary>
    /// Reads <c>tokenizer.json</c> if present, else <c>tokenizer.model</c>, together with
    /// <c>tokenizer_config.json</c>, <c>special_tokens_map.json</c>, <c>generation_config.json</c> and
    /// <c>config.json</c> for special tokens, BOS/EOS handling and the chat template.
    /// </summary>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="FileNotFoundException">The folder has neither tokenizer file.</exception>
    /// <exception cref="InvalidDataException">A file is corrupt or a field is wrong; the message names both.</exception>
    /// <exception cref="NotSupportedException">The tokenizer is of a kind Kit does not read (Unigram, WordPiece, ...).</exception>
    public static KitTokenizer FromFolder(string folder)
    {
        ArgumentNullException.ThrowIfNull(folder);
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"model folder '{folder}' does not exist");
        var config = TokenizerFolderConfig.Read(folder);
        var json = Path.Combine(folder, "tokenizer.json");
        if (File.Exists(json)) return HfTokenizerJsonLoader.Load(json, config);
        var model = Path.Combine(folder, "tokenizer.model");
        if (File.Exists(model)) return SentencePieceModelLoader.Load(model, config);
        throw new FileNotFoundException($"{folder} has no tokenizer.json or tokenizer.model", json);
    }
}
