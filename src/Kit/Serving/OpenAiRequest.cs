using System.Text.Json;
using Kit.Models.Tokenizers;

namespace Kit.Serving;

/// <summary>
/// The fields of a <c>/v1/completions</c> or <c>/v1/chat/completions</c> body that Kit honours, read and checked
/// as OpenAI's API defines them; anything malformed is an <see cref="OpenAiError"/> naming the field.
/// </summary>
/// <param name="Model">The requested model, or null when the body names none.</param>
/// <param name="Prompt">The completion prompt (completions), or null.</param>
/// <param name="Messages">The chat (chat completions), or null.</param>
/// <param name="MaxTokens">max_tokens (or max_completion_tokens), or null for the route's default.</param>
/// <param name="Temperature">0 = greedy; OpenAI's default is 1.</param>
/// <param name="TopP">Nucleus threshold in (0, 1].</param>
/// <param name="TopK">vLLM's top_k extension; 0 turns it off.</param>
/// <param name="Seed">Sampling seed, or null for a random one.</param>
/// <param name="Stop">Stop strings.</param>
/// <param name="Stream">Answer with server-sent events.</param>
/// <param name="IncludeUsage">stream_options.include_usage: a final chunk with the usage.</param>
/// <param name="IgnoreEos">vLLM's ignore_eos extension: generate all max_tokens (load tests need fixed lengths).</param>
public sealed record OpenAiRequest(string? Model, string? Prompt, IReadOnlyList<ChatMessage>? Messages, int? MaxTokens,
    double Temperature, double TopP, int TopK, long? Seed, IReadOnlyList<string> Stop, bool Stream, bool IncludeUsage, bool IgnoreEos)
{
    /// <summary>Reads a request body; <paramref name="chat"/> selects which route's fields are required.</summary>
    /// <exception cref="OpenAiError">A 400 naming the field that is missing, of the wrong type or out of range.</exception>
    public static OpenAiRequest Parse(JsonElement body, bool chat)
    {
        if (body.ValueKind != JsonValueKind.Object) throw new OpenAiError(400, "the request body must be a JSON object");
        string? model = Get(body, "model") is { } m ? String(m, "model") : null;
        string? prompt = null;
        IReadOnlyList<ChatMessage>? messages = null;
        if (chat) messages = ReadMessages(Get(body, "messages") ?? throw OpenAiError.BadField("messages", "'messages' is required"));
        else prompt = ReadPrompt(Get(body, "prompt") ?? throw OpenAiError.BadField("prompt", "'prompt' is required"));

        string maxName = chat && Get(body, "max_completion_tokens") != null ? "max_completion_tokens" : "max_tokens";
        int? maxTokens = Get(body, maxName) is { } mt ? Integer(mt, maxName, min: 1) : null;
        double temperature = Get(body, "temperature") is { } t ? Number(t, "temperature") : 1.0;
        if (temperature is < 0 or > 2) throw OpenAiError.BadField("temperature", $"temperature must be between 0 and 2, got {temperature}");
        double topP = Get(body, "top_p") is { } p ? Number(p, "top_p") : 1.0;
        if (!(topP > 0 && topP <= 1)) throw OpenAiError.BadField("top_p", $"top_p must be in (0, 1], got {topP}");
        int topK = Get(body, "top_k") is { } k ? Integer(k, "top_k", min: -1) : 0;
        long? seed = Get(body, "seed") is { } s ? Long(s, "seed") : null;
        if (Get(body, "n") is { } n && Integer(n, "n", min: 1) != 1)
            throw OpenAiError.BadField("n", "n must be 1: Kit's server generates one choice per request");
        if (Get(body, "best_of") is { } b && Integer(b, "best_of", min: 1) != 1) throw OpenAiError.BadField("best_of", "best_of must be 1");
        if (Get(body, "echo") is { ValueKind: JsonValueKind.True }) throw OpenAiError.BadField("echo", "echo is not supported");
        if (Get(body, "logprobs") is { ValueKind: not JsonValueKind.False } lp && !(lp.ValueKind == JsonValueKind.Number && lp.GetDouble() == 0))
            throw OpenAiError.BadField("logprobs", "logprobs are not supported");
        var stop = Get(body, "stop") is { } st ? ReadStop(st) : [];
        bool stream = Get(body, "stream") is { } sm && Bool(sm, "stream");
        bool includeUsage = false;
        if (Get(body, "stream_options") is { } so)
        {
            if (!stream) throw OpenAiError.BadField("stream_options", "stream_options can only be given when stream is true");
            if (so.ValueKind != JsonValueKind.Object) throw OpenAiError.BadField("stream_options", "stream_options must be an object");
            includeUsage = Get(so, "include_usage") is { } iu && Bool(iu, "stream_options.include_usage");
        }
        bool ignoreEos = Get(body, "ignore_eos") is { } ie && Bool(ie, "ignore_eos");
        return new(model, prompt, messages, maxTokens, temperature, topP, topK <= 0 ? 0 : topK, seed, stop, stream, includeUsage, ignoreEos);
    }

    /// <summary>A present, non-null field, or null.</summary>
    static JsonElement? Get(JsonElement o, string name) =>
        o.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null ? v : null;

    static string ReadPrompt(JsonElement e)
    {
        if (e.ValueKind == JsonValueKind.String) return e.GetString()!;
        if (e.ValueKind == JsonValueKind.Array && e.GetArrayLength() == 1 && e[0].ValueKind == JsonValueKind.String) return e[0].GetString()!;
        throw OpenAiError.BadField("prompt", "prompt must be a string (or an array holding one string)");
    }

    static IReadOnlyList<ChatMessage> ReadMessages(JsonElement e)
    {
        if (e.ValueKind != JsonValueKind.Array || e.GetArrayLength() == 0)
            throw OpenAiError.BadField("messages", "messages must be a non-empty array of {role, content} objects");
        var list = new List<ChatMessage>();
        foreach (var m in e.EnumerateArray())
        {
            if (m.ValueKind != JsonValueKind.Object) throw OpenAiError.BadField("messages", "every message must be an object with role and content");
            string role = String(Get(m, "role") ?? throw OpenAiError.BadField("messages", "every message needs a role"), "messages.role");
            list.Add(new ChatMessage(role, Content(Get(m, "content"))));
        }
        return list;
    }

    /// <summary>A string, or an array of content parts of which only text parts are accepted (the model reads text).</summary>
    static string Content(JsonElement? content)
    {
        if (content is not { } c) return "";
        if (c.ValueKind == JsonValueKind.String) return c.GetString()!;
        if (c.ValueKind != JsonValueKind.Array) throw OpenAiError.BadField("messages.content", "content must be a string or an array of text parts");
        var text = new System.Text.StringBuilder();
        foreach (var part in c.EnumerateArray())
        {
            if (part.ValueKind != JsonValueKind.Object || Get(part, "type") is not { ValueKind: JsonValueKind.String } type || type.GetString() != "text")
                throw OpenAiError.BadField("messages.content", "only text content parts are supported");
            text.Append(String(Get(part, "text") ?? throw OpenAiError.BadField("messages.content", "a text part needs text"), "messages.content.text"));
        }
        return text.ToString();
    }

    static IReadOnlyList<string> ReadStop(JsonElement e)
    {
        var stops = e.ValueKind switch
        {
            JsonValueKind.String => [e.GetString()!],
            JsonValueKind.Array when e.EnumerateArray().All(s => s.ValueKind == JsonValueKind.String) => e.EnumerateArray().Select(s => s.GetString()!).ToList(),
            _ => throw OpenAiError.BadField("stop", "stop must be a string or an array of strings"),
        };
        if (stops.Any(string.IsNullOrEmpty)) throw OpenAiError.BadField("stop", "stop strings must not be empty");
        return stops;
    }

    static string String(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.String ? e.GetString()! : throw OpenAiError.BadField(name, $"{name} must be a string");

    static bool Bool(JsonElement e, string name) => e.ValueKind switch
    {
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        _ => throw OpenAiError.BadField(name, $"{name} must be true or false"),
    };

    static double Number(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Number ? e.GetDouble() : throw OpenAiError.BadField(name, $"{name} must be a number");

    static long Long(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Number && e.TryGetInt64(out long v) ? v : throw OpenAiError.BadField(name, $"{name} must be an integer");

    static int Integer(JsonElement e, string name, int min)
    {
        if (e.ValueKind != JsonValueKind.Number || !e.TryGetInt32(out int v)) throw OpenAiError.BadField(name, $"{name} must be an integer");
        if (v < min) throw OpenAiError.BadField(name, $"{name} must be at least {min}, got {v}");
        return v;
    }
}
