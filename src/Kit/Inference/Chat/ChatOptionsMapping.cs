using Microsoft.Extensions.AI;

namespace Kit.Inference.Chat;

/// <summary>
/// <see cref="ChatOptions"/> as Kit's <see cref="GenerationOptions"/>, checked with messages that name the option.
/// Kit's defaults when an option is null: greedy decoding (temperature 0), so that a call without options is
/// reproducible; every token the context has left; a fresh random seed for sampled output.
/// </summary>
internal static class ChatOptionsMapping
{
    /// <exception cref="ArgumentException">An option is out of range, or names another model.</exception>
    /// <exception cref="NotSupportedException">An option asks for something Kit does not do (tools, penalties, response formats).</exception>
    public static GenerationOptions ToGeneration(ChatOptions? o, string modelId, int promptTokens, int context)
    {
        if (promptTokens >= context)
            throw new ArgumentException($"the prompt ({promptTokens} tokens after the chat template) fills the model's context of {context} tokens; shorten the chat");
        if (o is null) return new GenerationOptions { MaxNewTokens = context - promptTokens, Seed = Random.Shared.NextInt64() };
        if (o.ModelId is { } asked && asked != modelId)
            throw new ArgumentException($"ChatOptions.ModelId is '{asked}', but this client serves '{modelId}'", nameof(o));
        if (o.Temperature is float t && !(t >= 0 && float.IsFinite(t)))
            throw new ArgumentException($"ChatOptions.Temperature must be ≥ 0 (0 is greedy), got {t}", nameof(o));
        if (o.TopP is float p && !(p > 0 && p <= 1))
            throw new ArgumentException($"ChatOptions.TopP must be in (0, 1], got {p}", nameof(o));
        if (o.TopK is int k && k < 0)
            throw new ArgumentException($"ChatOptions.TopK must be ≥ 0 (0 turns it off), got {k}", nameof(o));
        if (o.MaxOutputTokens is int max && max < 1)
            throw new ArgumentException($"ChatOptions.MaxOutputTokens must be ≥ 1, got {max}", nameof(o));
        if (o.MaxOutputTokens is int asks && promptTokens + asks > context)
            throw new ArgumentException($"ChatOptions.MaxOutputTokens ({asks}) plus the prompt ({promptTokens} tokens) exceeds the model's context of {context} tokens", nameof(o));
        if (o.Tools is { Count: > 0 })
            throw new NotSupportedException("ChatOptions.Tools: Kit's chat client does not call tools");
        if (o.FrequencyPenalty is float f && f != 0 || o.PresencePenalty is float pp && pp != 0)
            throw new NotSupportedException("ChatOptions.FrequencyPenalty and PresencePenalty: Kit's sampler has no repetition penalties; leave them unset or 0");
        if (o.ResponseFormat is not null and not ChatResponseFormatText)
            throw new NotSupportedException("ChatOptions.ResponseFormat: Kit generates plain text only");
        return new GenerationOptions
        {
            MaxNewTokens = o.MaxOutputTokens ?? context - promptTokens,
            Temperature = o.Temperature ?? 0,
            TopP = o.TopP ?? 1,
            TopK = o.TopK ?? 0,
            Seed = o.Seed ?? Random.Shared.NextInt64(),
        };
    }
}
