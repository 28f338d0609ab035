using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Kit.Benchmarks.Serving;

/// <summary>
/// A load generator for any OpenAI-compatible server (Kit's <c>kit serve</c>, vLLM, llama.cpp's server): clients send
/// streamed <c>POST /v1/completions</c> requests at once, each its next as soon as its last has ended, and time what
/// they see — time to first token, the gaps between tokens, whole requests — as vLLM's serving benchmark does.
/// Requests ask for <c>max_tokens</c> greedily (temperature 0) and count what comes back: <c>ignore_eos</c> is not
/// part of the OpenAI API, so a model that ends early generates fewer tokens, and the token counts say so.
/// </summary>
public static class ServeLoadGenerator
{
    /// <summary>How many distinct error messages the result keeps.</summary>
    public const int KeptErrors = 3;

    // Common short English words: each is one token (with its leading space) in the usual BPE and SentencePiece
    // vocabularies, so N words make a prompt of about N tokens whatever the server's tokenizer.
    static readonly string[] Words =
    [
        "the", "a", "and", "to", "of", "in", "it", "was", "he", "she", "they", "we", "you", "is", "on", "for", "with", "at",
        "his", "her", "had", "day", "one", "little", "big", "said", "go", "dog", "cat", "sun", "tree", "play", "ball", "mom",
        "dad", "friend", "happy", "sad", "run", "see", "look", "good", "time", "there", "then", "saw", "home", "park", "red",
        "blue", "box", "toy", "bird", "fish", "water", "sky", "car", "book", "cake", "door", "hat", "bed", "boy", "girl",
    ];

    /// <summary>Runs the load and returns what the clients saw. <paramref name="log"/> gets a line when the model is looked up.</summary>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    /// <exception cref="InvalidOperationException">No model is given and the server lists none at <c>GET /v1/models</c>.</exception>
    public static async Task<ServeLoadResult> RunAsync(ServeLoadOptions options, Action<string>? log = null, CancellationToken ct = default)
    {
        options.Validated();
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = int.MaxValue }) { Timeout = Timeout.InfiniteTimeSpan };
        string root = BaseAddress(options.Endpoint);
        string model = options.Model ?? await FirstModelAsync(http, root, options.ApiKey, ct).ConfigureAwait(false);
        if (options.Model is null) log?.Invoke($"model: {model} (the first that {root}/v1/models lists)");

        if (options.WarmUp)
        {
            var warmUp = options with { MaxTokens = 1 };
            await Task.WhenAll(Enumerable.Range(0, options.Clients).Select(c =>
                SendAsync(http, root, model, Prompt(options.Seed, -1 - c, 8), warmUp, ct))).ConfigureAwait(false);
        }

        var outcomes = new RequestOutcome[options.Requests];
        int next = -1;
        long start = Stopwatch.GetTimestamp();
        await Task.WhenAll(Enumerable.Range(0, options.Clients).Select(_ => Task.Run(async () =>
        {
            for (int i; (i = Interlocked.Increment(ref next)) < options.Requests;)
                outcomes[i] = await SendAsync(http, root, model, Prompt(options.Seed, i, options.PromptTokens), options, ct).ConfigureAwait(false);
        }, ct))).ConfigureAwait(false);
        double wall = Stopwatch.GetElapsedTime(start).TotalSeconds;

        var ok = outcomes.Where(o => o.Error is null).ToArray();
        var prompts = ok.Where(o => o.PromptTokens is not null).Select(o => (double)o.PromptTokens!.Value).ToArray();
        return new ServeLoadResult(root, model, options.Clients, options.Requests, ok.Length, options.PromptTokens,
            prompts.Length > 0 ? prompts.Average() : null, options.MaxTokens, ok.Sum(o => o.Tokens), wall,
            Percentiles.Of(ok.Select(o => o.TimeToFirstTokenMs).OfType<double>()),
            Percentiles.Of(ok.SelectMany(o => o.Gaps)), Percentiles.Of(ok.Select(o => o.LatencyMs)),
            outcomes.Length - ok.Length, outcomes.Select(o => o.Error).OfType<string>().Distinct().Take(KeptErrors).ToArray());
    }

    /// <summary>
    /// Runs the load once per client count in <paramref name="clients"/>, one after another, each with
    /// <paramref name="requestsPerClient"/> requests per client, and returns the runs in that order.
    /// </summary>
    public static async Task<IReadOnlyList<ServeLoadResult>> RunSeriesAsync(ServeLoadOptions options, IEnumerable<int> clients,
        int requestsPerClient, Action<string>? log = null, CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(requestsPerClient, 1);
        var runs = new List<ServeLoadResult>();
        foreach (int count in clients)
            runs.Add(await RunAsync(options with { Clients = count, Requests = count * requestsPerClient }, log, ct).ConfigureAwait(false));
        return runs;
    }

    /// <summary>The prompt of request <paramref name="index"/>: <paramref name="words"/> random common words, seeded per request.</summary>
    public static string Prompt(int seed, int index, int words)
    {
        var random = new Random(HashCode.Combine(seed, index));
        return string.Join(' ', Enumerable.Range(0, words).Select(_ => Words[random.Next(Words.Length)]));
    }

    sealed record RequestOutcome(string? Error, double? TimeToFirstTokenMs, IReadOnlyList<double> Gaps, double LatencyMs, long Tokens, int? PromptTokens)
    {
        public static RequestOutcome Failed(string error) => new(error, null, [], 0, 0, null);
    }

    static async Task<RequestOutcome> SendAsync(HttpClient http, string root, string model, string prompt, ServeLoadOptions o, CancellationToken ct)
    {
        var body = new JsonObject
        {
            ["model"] = model, ["prompt"] = prompt, ["max_tokens"] = o.MaxTokens, ["temperature"] = 0, ["stream"] = true,
            ["stream_options"] = new JsonObject { ["include_usage"] = true },
        };
        using var request = new HttpRequestMessage(HttpMethod.Post, root + "/v1/completions")
        {
            Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"),
        };
        Authorize(request, o.ApiKey);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(o.RequestTimeout);
        long sent = Stopwatch.GetTimestamp();
        try
        {
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
                return RequestOutcome.Failed($"HTTP {(int)response.StatusCode} {response.ReasonPhrase}: {ErrorMessage(await response.Content.ReadAsStringAsync(timeout.Token).ConfigureAwait(false))}");
            if (response.Content.Headers.ContentType?.MediaType != "text/event-stream")
                return RequestOutcome.Failed($"the response is {response.Content.Headers.ContentType?.MediaType ?? "untyped"}, not a server-sent event stream (text/event-stream)");
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(timeout.Token).ConfigureAwait(false), Encoding.UTF8);
            return await ReadStreamAsync(reader, sent, timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return RequestOutcome.Failed($"no complete answer within {o.RequestTimeout.TotalSeconds:0.#} s");
        }
        catch (Exception e) when (e is HttpRequestException or IOException)
        {
            return RequestOutcome.Failed($"{e.GetType().Name}: {e.Message}");
        }
    }

    static async Task<RequestOutcome> ReadStreamAsync(StreamReader reader, long sent, CancellationToken ct)
    {
        double? first = null;
        double last = 0;
        var gaps = new List<double>();
        long chunks = 0;
        long? completionTokens = null;
        int? promptTokens = null;
        await foreach (var data in ServerSentEvents.ReadDataAsync(reader, ct).ConfigureAwait(false))
        {
            if (data == "[DONE]")
                return new RequestOutcome(null, first, gaps, Stopwatch.GetElapsedTime(sent).TotalMilliseconds, completionTokens ?? chunks, promptTokens);
            double now = Stopwatch.GetElapsedTime(sent).TotalMilliseconds;
            JsonNode? chunk;
            try { chunk = JsonNode.Parse(data); }
            catch (JsonException) { return RequestOutcome.Failed($"a streamed event is not JSON: {Shorten(data)}"); }
            if (chunk?["error"] is { } error) return RequestOutcome.Failed($"error in the stream: {ErrorMessage(error.ToJsonString())}");
            if (chunk?["usage"] is JsonObject usage)
            {
                completionTokens = usage["completion_tokens"]?.GetValue<long>() ?? completionTokens;
                promptTokens = usage["prompt_tokens"]?.GetValue<int>() ?? promptTokens;
            }
            // A chunk that carries text is a token as the client sees it (servers stream one token per chunk).
            if (chunk?["choices"] is JsonArray { Count: > 0 } choices && choices[0]?["text"]?.GetValue<string>() is { Length: > 0 })
            {
                if (first is null) first = now;
                else gaps.Add(now - last);
                last = now;
                chunks++;
            }
        }
        return RequestOutcome.Failed("the stream ended without data: [DONE]");
    }

    static async Task<string> FirstModelAsync(HttpClient http, string root, string? apiKey, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, root + "/v1/models");
        Authorize(request, apiKey);
        using var response = await http.SendAsync(request, ct).ConfigureAwait(false);
        string text = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
            throw new InvalidOperationException($"{root}/v1/models answered HTTP {(int)response.StatusCode}: {ErrorMessage(text)}; give the model with --model");
        try
        {
            return JsonNode.Parse(text)?["data"]?[0]?["id"]?.GetValue<string>()
                ?? throw new InvalidOperationException($"{root}/v1/models lists no model; give one with --model");
        }
        catch (JsonException)
        {
            throw new InvalidOperationException($"{root}/v1/models did not answer JSON: {Shorten(text)}; give the model with --model");
        }
    }

    static void Authorize(HttpRequestMessage request, string? apiKey)
    {
        if (!string.IsNullOrEmpty(apiKey)) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
    }

    /// <summary>The server's base address: the endpoint without a trailing slash or <c>/v1</c>.</summary>
    internal static string BaseAddress(Uri endpoint)
    {
        string s = endpoint.ToString().TrimEnd('/');
        return s.EndsWith("/v1", StringComparison.Ordinal) ? s[..^3] : s;
    }

    // OpenAI's error body is {"error": {"message": ...}}; anything else is shown as it came.
    static string ErrorMessage(string body)
    {
        try
        {
            if (JsonNode.Parse(body) is JsonObject json && (json["error"]?["message"] ?? json["message"]) is JsonValue message)
                return message.ToString();
        }
        catch (JsonException) { }
        return Shorten(body);
    }

    static string Shorten(string text) => text.Length <= 200 ? text : text[..200] + "...";
}
