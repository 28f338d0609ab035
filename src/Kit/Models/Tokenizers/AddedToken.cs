namespace Kit.Models.Tokenizers;

/// <summary>
/// A token matched whole in the input text before the model sees it (Hugging Face's <c>added_tokens</c>,
/// SentencePiece's control and user-defined pieces).
/// </summary>
/// <param name="Id">The token id.</param>
/// <param name="Content">The exact text that stands for the token.</param>
/// <param name="Special">Whether decoding with <c>skipSpecialTokens</c> drops it.</param>
public sealed record AddedToken(int Id, string Content, bool Special);
