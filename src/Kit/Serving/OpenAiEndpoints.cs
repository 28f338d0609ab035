using System.Text.Json;
using System.Threading.Channels;
using Kit.Inference;
using Kit.Models;
using Kit.Models.Tokenizers;
using Microsoft.AspNetCore.Http;

namespace Kit.Serving;

/// <summary>The OpenAI routes: a request body becomes a <see cref="CompletionJob"/>, its events become OpenAI's JSON or chunks.</summary>
sealed class OpenAiEndpoints(LanguageModel lm, ContinuousBatchScheduler scheduler, string modelName, ChatTemplateFamily? chatTemplate)
{
    static readonly JsonSerializerOptions Json = new() { DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.Never };
    readonly long created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
    int Context => lm.Config.MaxPositionEmbeddings;

    public IResult Models() => Results.Json(new
    {
        @object = "list",
        data = new[] { new { id = modelName, @object = "model", created, owned_by = "kit", max_model_len = Context } },
    }, Json);

    public async Task Complete(HttpContext context, bool chat)
    {
        ChannelReader<CompletionEvent> events;
        OpenAiRequest request;
        int promptTokens;
        try
        {
            JsonElement body;
            try { body = (await JsonDocument.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted)).RootElement; }
            catch (JsonException e) { throw new OpenAiError(400, $"the body is not valid JSON: {e.Message}", code: "invalid_json"); }
            request = OpenAiRequest.Parse(body, chat);
            if (request.Model is { } m && m != modelName)
                throw new OpenAiError(404, $"the model '{m}' does not exist; this server serves '{modelName}'", param: "model", code: "model_not_found");
            var job = Job(request);
            promptTokens = job.PromptIds.Count;
            events = scheduler.Submit(job, context.RequestAborted);
        }
        catch (OpenAiError e)
        {
            await WriteError(context, e);
            return;
        }
        string id = (chat ? "chatcmpl-" : "cmpl-") + Guid.NewGuid().ToString("N");
        var reply = new Reply(id, chat ? "chat.completion" : "text_completion", DateTimeOffset.UtcNow.ToUnixTimeSeconds(), modelName, chat);
        try
        {
            if (request.Stream) await Stream(context, reply, events, request.IncludeUsage);
            else await Whole(context, reply, events);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested) { }   // the client left
    }

    /// <summary>Tokenizes the prompt as vLLM does (completions add BOS; a rendered chat carries its own) and checks it fits.</summary>
    CompletionJob Job(OpenAiRequest r)
    {
        IReadOnlyList<int> ids;
        string what;
        if (r.Messages is { } messages)
        {
            ChatTemplate template;
            try { template = lm.Tokenizer.GetChatTemplate(chatTemplate); }
            catch (NotSupportedException e) { throw new OpenAiError(400, $"this model has no usable chat template ({e.Message}); use /v1/completions, or start the server with --chat-template", param: "messages"); }
            string text;
            try { text = template.Render(messages); }
            catch (ArgumentException e) { throw OpenAiError.BadField("messages", e.Message); }
            ids = lm.Tokenizer.Encode(text, addSpecialTokens: false);
            what = "messages";
        }
        else
        {
            ids = lm.Tokenizer.Encode(r.Prompt!);
            what = "prompt";
        }
        if (ids.Count == 0) throw OpenAiError.BadField(what, $"the {what} has no tokens (this tokenizer adds no BOS token to an empty text)");
        if (ids.Count >= Context)
            throw OpenAiError.BadField(what, $"this model's maximum context length is {Context} tokens, and the {what} has {ids.Count} tokens, which leaves no room to generate");
        // OpenAI's default for completions is 16 tokens; a chat may run to the end of the context.
        int maxTokens = r.MaxTokens ?? (r.Messages is null ? Math.Min(16, Context - ids.Count) : Context - ids.Count);
        if (ids.Count + maxTokens > Context)
            throw OpenAiError.BadField("max_tokens",
                $"this model's maximum context length is {Context} tokens; you requested {ids.Count + maxTokens} tokens ({ids.Count} in the {what}, {maxTokens} in the completion)");
        var options = new GenerationOptions
        {
            MaxNewTokens = maxTokens, Temperature = r.Temperature, TopP = r.TopP, TopK = r.TopK,
            Seed = r.Seed ?? Random.Shared.NextInt64(), StopOnEos = !r.IgnoreEos,
        };
        return new CompletionJob(ids, options, r.Stop);
    }

    async Task Whole(HttpContext context, Reply reply, ChannelReader<CompletionEvent> events)
    {
        var text = new System.Text.StringBuilder();
        Finished? end = null;
        try
        {
            await foreach (var e in events.ReadAllAsync(context.RequestAborted))
                if (e is TextDelta d) text.Append(d.Text);
                else end = (Finished)e;
        }
        catch (InvalidOperationException e)
        {
            await WriteError(context, new OpenAiError(500, e.Message, type: "server_error"));
            return;
        }
        await context.Response.WriteAsJsonAsync(reply.Whole(text.ToString(), end!), Json, context.RequestAborted);
    }

    static async Task Stream(HttpContext context, Reply reply, ChannelReader<CompletionEvent> events, bool includeUsage)
    {
        var response = context.Response;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        if (reply.Chat) await Send(response, reply.Chunk(new { role = "assistant", content = "" }, null, includeUsage), context.RequestAborted);
        try
        {
            await foreach (var e in events.ReadAllAsync(context.RequestAborted))
                if (e is TextDelta d)
                    await Send(response, reply.Chunk(reply.Chat ? new { content = d.Text } : d.Text, null, includeUsage), context.RequestAborted);
                else if (e is Finished f)
                {
                    await Send(response, reply.Chunk(reply.Chat ? new { } : "", f.FinishReason, includeUsage), context.RequestAborted);
                    if (includeUsage) await Send(response, reply.UsageChunk(f), context.RequestAborted);
                }
        }
        catch (InvalidOperationException e)
        {
            await Send(response, new OpenAiError(500, e.Message, type: "server_error").Body, context.RequestAborted);
        }
        await response.WriteAsync("data: [DONE]\n\n", context.RequestAborted);
        await response.Body.FlushAsync(context.RequestAborted);
    }

    static async Task Send(HttpResponse response, object chunk, CancellationToken cancelled)
    {
        await response.WriteAsync("data: " + JsonSerializer.Serialize(chunk, Json) + "\n\n", cancelled);
        await response.Body.FlushAsync(cancelled);
    }

    /// <summary>Writes OpenAI's error body with the error's status.</summary>
    public static Task WriteError(HttpContext context, OpenAiError error)
    {
        context.Response.StatusCode = error.Status;
        return context.Response.WriteAsJsonAsync(error.Body, Json);
    }

    /// <summary>The parts every response of one request shares, and OpenAI's shapes for them.</summary>
    sealed record Reply(string Id, string Object, long Created, string Model, bool Chat)
    {
        static object Usage(Finished f) => new { prompt_tokens = f.PromptTokens, completion_tokens = f.CompletionTokens, total_tokens = f.PromptTokens + f.CompletionTokens };

        public object Whole(string text, Finished f) => Chat
            ? new { id = Id, @object = Object, created = Created, model = Model, choices = new[] { new { index = 0, message = new { role = "assistant", content = text }, logprobs = (object?)null, finish_reason = f.FinishReason } }, usage = Usage(f) }
            : new { id = Id, @object = Object, created = Created, model = Model, choices = new[] { new { index = 0, text, logprobs = (object?)null, finish_reason = f.FinishReason } }, usage = Usage(f) };

        /// <summary>A stream chunk: <paramref name="delta"/> is a chat delta object or a completion's text.</summary>
        public object Chunk(object delta, string? finishReason, bool withUsageField)
        {
            string chunkObject = Chat ? "chat.completion.chunk" : "text_completion";
            object choice = Chat
                ? new { index = 0, delta, logprobs = (object?)null, finish_reason = finishReason }
                : new { index = 0, text = (string)delta, logprobs = (object?)null, finish_reason = finishReason };
            // With include_usage, OpenAI sends "usage": null on every chunk but the last.
            return withUsageField
                ? new { id = Id, @object = chunkObject, created = Created, model = Model, choices = new[] { choice }, usage = (object?)null }
                : new { id = Id, @object = chunkObject, created = Created, model = Model, choices = new[] { choice } };
        }

        public object UsageChunk(Finished f) => new
        {
            id = Id, @object = Chat ? "chat.completion.chunk" : "text_completion", created = Created, model = Model,
            choices = Array.Empty<object>(), usage = Usage(f),
        };
    }
}
