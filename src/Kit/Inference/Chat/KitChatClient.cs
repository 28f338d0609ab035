using System.Runtime.CompilerServices;
using System.Text;
using Kit.Models;
using Kit.Models.Tokenizers;
using Microsoft.Extensions.AI;
using KitChatMessage = Kit.Models.Tokenizers.ChatMessage;
using AiChatMessage = Microsoft.Extensions.AI.ChatMessage;

namespace Kit.Inference.Chat;

/// <summary>
/// A loaded <see cref="LanguageModel"/> as a <c>Microsoft.Extensions.AI</c> <see cref="IChatClient"/>, so that code
/// written against that abstraction (Semantic Kernel, the Agent Framework, plain code) runs a compressed model in
/// process, without a server. The chat is rendered with the model's chat template, encoded (BOS added unless the
/// template already wrote it) and generated with <see cref="BatchDecoder"/>; streamed text comes token by token as
/// <see cref="StreamingDecoder"/> completes characters.
/// </summary>
/// <remarks>
/// Thread safety: calls from several threads are safe and run one at a time: every client over the same model
/// waits on one lock per model, because a model's forward pass is not re-entrant. A server that wants concurrent
/// requests to share the model's steps batches them itself (<c>kit serve</c>). The client does not own the model:
/// disposing it leaves the model loaded.
/// </remarks>
public sealed class KitChatClient : IChatClient
{
    static readonly ConditionalWeakTable<CausalLM, SemaphoreSlim> Locks = new();

    readonly LanguageModel model;
    readonly ChatTemplate template;
    readonly ChatClientMetadata metadata;

    /// <summary>Wraps <paramref name="model"/>.</summary>
    /// <param name="model">The loaded model; it stays owned by the caller.</param>
    /// <param name="modelId">The id reported in responses and metadata; null uses what the model was loaded from (<see cref="LanguageModel.Source"/>).</param>
    /// <param name="chatFamily">The chat format; null detects it from the model's chat template.</param>
    /// <exception cref="NotSupportedException">No <paramref name="chatFamily"/> is given and the model has no chat template Kit recognises.</exception>
    public KitChatClient(LanguageModel model, string? modelId = null, ChatTemplateFamily? chatFamily = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        this.model = model;
        template = model.Tokenizer.GetChatTemplate(chatFamily);
        ModelId = modelId ?? model.Source;
        metadata = new ChatClientMetadata("kit", null, ModelId);
    }

    /// <summary>The model id reported in every response.</summary>
    public string ModelId { get; }

    /// <summary>The prompt ids a chat becomes: the template's text, with BOS in front unless the template already wrote it.</summary>
    /// <exception cref="ArgumentException">A message's role is not system, user or assistant, or the roles break the template's rules.</exception>
    /// <exception cref="NotSupportedException">A message holds something other than text (an image, a function call).</exception>
    public IReadOnlyList<int> EncodeChat(IEnumerable<AiChatMessage> messages, ChatOptions? options = null)
    {
        string text = template.Render(ToKitMessages(messages, options?.Instructions));
        bool hasBos = template.BosToken.Length > 0 && text.StartsWith(template.BosToken, StringComparison.Ordinal);
        return model.Tokenizer.Encode(text, addSpecialTokens: !hasBos);
    }

    /// <inheritdoc/>
    public async Task<ChatResponse> GetResponseAsync(IEnumerable<AiChatMessage> messages, ChatOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        var text = new StringBuilder();
        ChatResponseUpdate? last = null;
        await foreach (var update in GetStreamingResponseAsync(messages, options, cancellationToken).ConfigureAwait(false))
        {
            text.Append(update.Text);
            last = update;
        }
        return new ChatResponse(new AiChatMessage(ChatRole.Assistant, text.ToString()))
        {
            ResponseId = last?.ResponseId,
            ModelId = ModelId,
            CreatedAt = last?.CreatedAt,
            FinishReason = last?.FinishReason,
            Usage = last?.Contents.OfType<UsageContent>().FirstOrDefault()?.Details,
        };
    }

    /// <inheritdoc/>
    /// <remarks>
    /// One update per token that completes text, then a last update with the finish reason (<see cref="ChatFinishReason.Stop"/>
    /// for an end-of-sequence token or a stop sequence, <see cref="ChatFinishReason.Length"/> when the token budget ran out)
    /// and the usage (prompt tokens; generated tokens, counting the one that ended generation). Cancellation is checked
    /// between tokens and ends the stream with <see cref="OperationCanceledException"/>.
    /// </remarks>
    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<AiChatMessage> messages,
        ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var prompt = EncodeChat(messages, options);
        var generation = ChatOptionsMapping.ToGeneration(options, ModelId, prompt.Count, model.Config.MaxPositionEmbeddings);
        var stops = new StopSequenceFilter(options?.StopSequences);
        var decoder = model.Tokenizer.CreateStreamingDecoder();
        string responseId = "chatcmpl-" + Guid.NewGuid().ToString("N");
        var created = DateTimeOffset.UtcNow;
        ChatResponseUpdate Update(string text) => new(ChatRole.Assistant, text) { ResponseId = responseId, MessageId = responseId, ModelId = ModelId, CreatedAt = created };

        var gate = Locks.GetValue(model.Model, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var batch = new BatchDecoder(model.Model, generation, model.Tokenizer.EosIds.ToHashSet());
            var sequence = batch.Add(prompt);
            while (sequence.StopReason is null && !stops.Stopped)
            {
                cancellationToken.ThrowIfCancellationRequested();
                // A step is seconds of CPU work on a large model: off the caller's thread, so a UI or server loop stays responsive.
                var produced = await Task.Run(batch.Step, cancellationToken).ConfigureAwait(false);
                string text = string.Concat(produced.Select(p => stops.Push(decoder.Push(p.Token))));
                if (sequence.StopReason is not null && !stops.Stopped) text += stops.Push(decoder.Flush()) + stops.Flush();
                if (text.Length > 0) yield return Update(text);
            }
            var usage = new UsageDetails
            {
                InputTokenCount = prompt.Count,
                OutputTokenCount = sequence.Generated.Count,
                TotalTokenCount = prompt.Count + sequence.Generated.Count,
            };
            var final = Update("");
            final.Contents = [new UsageContent(usage)];
            final.FinishReason = stops.Stopped || sequence.StopReason == "eos" ? ChatFinishReason.Stop : ChatFinishReason.Length;
            yield return final;
        }
        finally
        {
            gate.Release();
        }
    }

    /// <inheritdoc/>
    /// <remarks>Gives the <see cref="ChatClientMetadata"/> (provider "kit", the model id), the <see cref="LanguageModel"/>, or this client.</remarks>
    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        if (serviceKey is not null) return null;
        if (serviceType == typeof(ChatClientMetadata)) return metadata;
        if (serviceType == typeof(LanguageModel)) return model;
        return serviceType.IsInstanceOfType(this) ? this : null;
    }

    /// <summary>Nothing to free: the model belongs to the caller.</summary>
    public void Dispose() { }

    static List<KitChatMessage> ToKitMessages(IEnumerable<AiChatMessage> messages, string? instructions)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var list = messages.Select((m, i) => m.Contents.FirstOrDefault(c => c is not TextContent) is { } other
            ? throw new NotSupportedException($"message {i} holds {other.GetType().Name}; Kit's chat client takes text only")
            : new KitChatMessage(m.Role.Value, m.Text)).ToList();
        if (string.IsNullOrEmpty(instructions)) return list;
        // Templates take at most one system message, first: the per-request instructions go in front of the chat's own.
        if (list.Count > 0 && list[0].Role == "system") list[0] = list[0] with { Content = instructions + "\n\n" + list[0].Content };
        else list.Insert(0, new KitChatMessage("system", instructions));
        return list;
    }
}
