namespace Kit.Models.Tokenizers;

/// <summary>One turn of a chat.</summary>
/// <param name="Role">"system", "user" or "assistant".</param>
/// <param name="Content">The message text.</param>
public sealed record ChatMessage(string Role, string Content);
