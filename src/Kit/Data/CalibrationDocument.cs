using Kit.Models.Tokenizers;

namespace Kit.Data;

/// <summary>One document of a calibration corpus: plain text or a chat.</summary>
public abstract record CalibrationDocument
{
    private protected CalibrationDocument() { }

    /// <summary>The document's token ids as the model would see it in training.</summary>
    /// <param name="tokenizer">The model's tokenizer.</param>
    /// <param name="chatTemplate">The chat format for chats; null uses the one the tokenizer's template is recognised as.</param>
    /// <exception cref="NotSupportedException">A chat needs a template and the tokenizer has none Kit recognises.</exception>
    public abstract IReadOnlyList<int> Tokenize(KitTokenizer tokenizer, ChatTemplateFamily? chatTemplate = null);
}

/// <summary>Plain text; tokenized with the model's special tokens (BOS where the model adds one).</summary>
/// <param name="Text">The text.</param>
public sealed record TextDocument(string Text) : CalibrationDocument
{
    /// <inheritdoc/>
    public override IReadOnlyList<int> Tokenize(KitTokenizer tokenizer, ChatTemplateFamily? chatTemplate = null) =>
        tokenizer.Encode(Text, addSpecialTokens: true);
}

/// <summary>
/// A chat, rendered with the model's chat template without a generation prompt and tokenized without adding
/// special tokens, because the template writes BOS itself (llm-compressor's ultrachat recipe does the same).
/// </summary>
/// <param name="Messages">The turns in order.</param>
public sealed record ChatDocument(IReadOnlyList<ChatMessage> Messages) : CalibrationDocument
{
    /// <inheritdoc/>
    public override IReadOnlyList<int> Tokenize(KitTokenizer tokenizer, ChatTemplateFamily? chatTemplate = null) =>
        tokenizer.Encode(tokenizer.ApplyChatTemplate(Messages, addGenerationPrompt: false, chatTemplate), addSpecialTokens: false);
}
