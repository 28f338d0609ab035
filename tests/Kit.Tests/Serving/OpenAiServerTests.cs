using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Kit.Models.Tokenizers;

namespace Kit.Tests.Serving;

/// <summary>Kit's server, started in-process on 127.0.0.1, answers every OpenAI route as vLLM does, driven by a real HttpClient.</summary>
public sealed class OpenAiServerTests(ServerFixture f) : IClassFixture<ServerFixture>
{
    const string Prompt = "Once upon a time, there was a little girl named";

    [Fact]
    public async Task Models_lists_the_served_model_with_its_context()
    {
        var body = JsonNode.Parse(await f.Http.GetStringAsync("/v1/models"))!;
        Assert.Equal("list", (string)body["object"]!);
        var model = body["data"]![0]!;
        Assert.Equal("default", (string)model["id"]!);
        Assert.Equal("model", (string)model["object"]!);
        Assert.Equal(512, (int)model["max_model_len"]!);
    }

    [Fact]
    public async Task Health_answers_200_and_metrics_are_prometheus_text_counting_requests_and_tokens()
    {
        Assert.Equal(HttpStatusCode.OK, (await f.Http.GetAsync("/health")).StatusCode);
        var (status, body) = await f.Post("/v1/completions", new { model = "default", prompt = Prompt, max_tokens = 5, temperature = 0 });
        Assert.Equal(200, status);
        using var response = await f.Http.GetAsync("/metrics");
        Assert.StartsWith("text/plain", response.Content.Headers.ContentType!.ToString());
        string text = await response.Content.ReadAsStringAsync();
        Assert.Contains("kit_requests_total{route=\"/v1/completions\",status=\"200\"}", text);
        Assert.Contains("kit_requests_total{route=\"/health\",status=\"200\"}", text);
        Assert.Contains("# TYPE kit_time_to_first_token_seconds histogram", text);
        Assert.Contains("kit_inter_token_latency_seconds_bucket{le=\"+Inf\"}", text);
        Assert.Contains("kit_batch_occupancy_count", text);
        Assert.Contains("kit_num_requests_running", text);
        Assert.Contains("kit_num_requests_waiting", text);
        long generated = long.Parse(text.Split('\n').Single(l => l.StartsWith("kit_generation_tokens_total ")).Split(' ')[1]);
        Assert.True(generated >= (int)body["usage"]!["completion_tokens"]!);
    }

    [Fact]
    public async Task A_greedy_completion_is_what_the_library_generates_and_usage_counts_the_tokenizers_tokens()
    {
        var alone = f.Alone(Prompt, 24);
        var (status, body) = await f.Post("/v1/completions", new { model = "default", prompt = Prompt, max_tokens = 24, temperature = 0 });
        Assert.Equal(200, status);
        Assert.Equal("text_completion", (string)body["object"]!);
        Assert.StartsWith("cmpl-", (string)body["id"]!);
        var choice = body["choices"]![0]!;
        Assert.Equal(alone.Text, (string)choice["text"]!);
        Assert.Equal(alone.StopReason == "eos" ? "stop" : "length", (string)choice["finish_reason"]!);
        var usage = body["usage"]!;
        Assert.Equal(f.Reference.Tokenizer.Encode(Prompt).Count, (int)usage["prompt_tokens"]!);
        Assert.Equal(alone.TokenIds.Count, (int)usage["completion_tokens"]!);
        Assert.Equal((int)usage["prompt_tokens"]! + (int)usage["completion_tokens"]!, (int)usage["total_tokens"]!);
    }

    [Fact]
    public async Task A_streamed_completion_is_openai_chunks_ending_in_done_whose_text_equals_the_whole_reply()
    {
        var request = new { model = "default", prompt = Prompt, max_tokens = 30, temperature = 0, stream = true, stream_options = new { include_usage = true } };
        var events = await f.Stream("/v1/completions", request);
        Assert.Equal("[DONE]", events[^1]);
        var chunks = events[..^1].Select(e => JsonNode.Parse(e)!).ToList();
        Assert.All(chunks, c => Assert.Equal("text_completion", (string)c["object"]!));
        Assert.Single(chunks.Select(c => (string)c["id"]!).Distinct());
        var usageChunk = chunks[^1];
        Assert.Empty(usageChunk["choices"]!.AsArray());
        var textChunks = chunks[..^1];
        Assert.All(textChunks[..^1], c => Assert.Null(c["choices"]![0]!["finish_reason"]));
        Assert.True(textChunks.Count > 5, "the text arrives in many chunks");
        string streamed = string.Concat(textChunks.Select(c => (string)c["choices"]![0]!["text"]!));

        var (_, whole) = await f.Post("/v1/completions", new { model = "default", prompt = Prompt, max_tokens = 30, temperature = 0 });
        Assert.Equal((string)whole["choices"]![0]!["text"]!, streamed);
        Assert.Equal((string)whole["choices"]![0]!["finish_reason"]!, (string)textChunks[^1]["choices"]![0]!["finish_reason"]!);
        Assert.Equal(whole["usage"]!.ToJsonString(), usageChunk["usage"]!.ToJsonString());
    }

    [Fact]
    public async Task A_chat_renders_the_template_and_streams_deltas_equal_to_the_whole_message()
    {
        var messages = new[] { new { role = "system", content = "You tell stories." }, new { role = "user", content = "Tell me about a dog." } };
        string rendered = ChatTemplate.For(ChatTemplateFamily.ChatML).Render(messages.Select(m => new ChatMessage(m.role, m.content)).ToList());
        var (status, body) = await f.Post("/v1/chat/completions", new { model = "default", messages, max_tokens = 20, temperature = 0 });
        Assert.Equal(200, status);
        Assert.Equal("chat.completion", (string)body["object"]!);
        var message = body["choices"]![0]!["message"]!;
        Assert.Equal("assistant", (string)message["role"]!);
        Assert.Equal(f.Reference.Tokenizer.Encode(rendered, addSpecialTokens: false).Count, (int)body["usage"]!["prompt_tokens"]!);

        var events = await f.Stream("/v1/chat/completions", new { model = "default", messages, max_tokens = 20, temperature = 0, stream = true });
        Assert.Equal("[DONE]", events[^1]);
        var chunks = events[..^1].Select(e => JsonNode.Parse(e)!).ToList();
        Assert.All(chunks, c => Assert.Equal("chat.completion.chunk", (string)c["object"]!));
        Assert.Equal("assistant", (string)chunks[0]["choices"]![0]!["delta"]!["role"]!);
        Assert.Equal((string)body["choices"]![0]!["finish_reason"]!, (string)chunks[^1]["choices"]![0]!["finish_reason"]!);
        string streamed = string.Concat(chunks.Select(c => (string?)c["choices"]![0]!["delta"]!["content"] ?? ""));
        Assert.Equal((string)message["content"]!, streamed);
    }

    [Fact]
    public async Task A_stop_string_ends_the_text_just_before_it_streamed_or_not()
    {
        string full = f.Alone(Prompt, 40).Text;
        // A stop string from the middle of the greedy text: the reply is everything before its first occurrence.
        string stop = full.Substring(full.Length / 2, 4);
        string expected = full[..full.IndexOf(stop, StringComparison.Ordinal)];
        var (_, body) = await f.Post("/v1/completions", new { model = "default", prompt = Prompt, max_tokens = 40, temperature = 0, stop = new[] { "never appears ~~", stop } });
        Assert.Equal(expected, (string)body["choices"]![0]!["text"]!);
        Assert.Equal("stop", (string)body["choices"]![0]!["finish_reason"]!);

        var events = await f.Stream("/v1/completions", new { model = "default", prompt = Prompt, max_tokens = 40, temperature = 0, stop, stream = true });
        string streamed = string.Concat(events[..^1].Select(e => (string)JsonNode.Parse(e)!["choices"]![0]!["text"]!));
        Assert.Equal(expected, streamed);
    }

    [Fact]
    public async Task The_same_seed_samples_the_same_text_and_another_seed_does_not()
    {
        async Task<string> Sample(long seed) => (string)(await f.Post("/v1/completions",
            new { model = "default", prompt = "Tom", max_tokens = 40, temperature = 1.0, top_p = 0.95, seed })).Body["choices"]![0]!["text"]!;
        string a = await Sample(7), b = await Sample(7), c = await Sample(8);
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
        Assert.NotEqual(f.Alone("Tom", 40).Text, a);
    }

    [Fact]
    public async Task Eight_concurrent_greedy_requests_each_get_what_they_get_alone()
    {
        string[] prompts = { "Once upon a time", "Tom", "Lily went to the park with her mom and saw a big red", "The dog was",
            "One day, a little boy", "The sun was shining", "Sam and his friend", "There was a cat who liked to" };
        var alone = new string[prompts.Length];
        for (int i = 0; i < prompts.Length; i++)
            alone[i] = (string)(await f.Post("/v1/completions", new { model = "default", prompt = prompts[i], max_tokens = 32, temperature = 0 })).Body["choices"]![0]!["text"]!;
        var together = await Task.WhenAll(prompts.Select(p => f.Post("/v1/completions", new { model = "default", prompt = p, max_tokens = 32, temperature = 0 })));
        for (int i = 0; i < prompts.Length; i++)
        {
            Assert.Equal(alone[i], (string)together[i].Body["choices"]![0]!["text"]!);
            Assert.Equal(f.Alone(prompts[i], 32).Text, alone[i]);
        }
        Assert.True(f.Server.Metrics.BatchOccupancy.Count > 0);
    }

    [Theory]
    [InlineData("/v1/completions", "{\"model\": \"default\", \"prompt\": ", 400, null)]
    [InlineData("/v1/completions", "{\"model\": \"default\"}", 400, "prompt")]
    [InlineData("/v1/chat/completions", "{\"model\": \"default\"}", 400, "messages")]
    [InlineData("/v1/chat/completions", "{\"model\": \"default\", \"messages\": []}", 400, "messages")]
    [InlineData("/v1/completions", "{\"model\": \"default\", \"prompt\": \"Tom\", \"max_tokens\": 600}", 400, "max_tokens")]
    [InlineData("/v1/completions", "{\"model\": \"default\", \"prompt\": \"Tom\", \"max_tokens\": 0}", 400, "max_tokens")]
    [InlineData("/v1/completions", "{\"model\": \"default\", \"prompt\": \"Tom\", \"temperature\": 3}", 400, "temperature")]
    [InlineData("/v1/completions", "{\"model\": \"default\", \"prompt\": \"Tom\", \"temperature\": \"hot\"}", 400, "temperature")]
    [InlineData("/v1/completions", "{\"model\": \"default\", \"prompt\": \"Tom\", \"top_p\": 0}", 400, "top_p")]
    [InlineData("/v1/completions", "{\"model\": \"default\", \"prompt\": \"Tom\", \"n\": 2}", 400, "n")]
    [InlineData("/v1/completions", "{\"model\": \"default\", \"prompt\": \"Tom\", \"stop\": 5}", 400, "stop")]
    [InlineData("/v1/completions", "{\"model\": \"default\", \"prompt\": \"Tom\", \"seed\": 1.5}", 400, "seed")]
    [InlineData("/v1/completions", "{\"model\": \"default\", \"prompt\": \"Tom\", \"stream_options\": {\"include_usage\": true}}", 400, "stream_options")]
    [InlineData("/v1/completions", "{\"model\": \"gpt-4\", \"prompt\": \"Tom\"}", 404, "model")]
    [InlineData("/v1/embeddings", "{\"model\": \"default\", \"input\": \"Tom\"}", 404, null)]
    public async Task Bad_requests_get_openai_error_bodies(string route, string json, int status, string? param)
    {
        var (code, body) = await f.Post(route, json);
        Assert.Equal(status, code);
        var error = body["error"]!;
        Assert.False(string.IsNullOrWhiteSpace((string)error["message"]!));
        Assert.Equal("invalid_request_error", (string)error["type"]!);
        Assert.Equal(param, (string?)error["param"]);
        Assert.True(error.AsObject().ContainsKey("code"));
    }

    [Fact]
    public async Task A_prompt_longer_than_the_context_is_a_400_that_says_so()
    {
        string longPrompt = string.Join(' ', Enumerable.Repeat("the little dog ran home", 200));
        Assert.True(f.Reference.Tokenizer.Encode(longPrompt).Count > 512);
        var (status, body) = await f.Post("/v1/completions", new { model = "default", prompt = longPrompt, max_tokens = 1 });
        Assert.Equal(400, status);
        Assert.Equal("prompt", (string)body["error"]!["param"]!);
        Assert.Contains("maximum context length is 512 tokens", (string)body["error"]!["message"]!);
    }

    [Fact]
    public async Task A_client_that_disconnects_mid_stream_leaves_the_batch_and_others_finish_unaffected()
    {
        string other = "The dog was";
        var expected = f.Alone(other, 200).Text;
        long cancelledBefore = f.Server.Metrics.Cancelled;
        // A client of its own that closes the connection when it leaves (HttpClient's pool would otherwise drain the rest to reuse it).
        using var leavingClient = new HttpClient(new SocketsHttpHandler { MaxResponseDrainSize = 0 }) { BaseAddress = new Uri(f.Server.Url) };
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/completions")
        {
            Content = System.Net.Http.Json.JsonContent.Create(new { model = "default", prompt = Prompt, max_tokens = 480, temperature = 0, ignore_eos = true, stream = true }),
        };
        var response = await leavingClient.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var stream = await response.Content.ReadAsStreamAsync();
        var reader = new StreamReader(stream);
        var staying = f.Post("/v1/completions", new { model = "default", prompt = other, max_tokens = 200, temperature = 0 });
        for (int lines = 0; lines < 6; lines++) await reader.ReadLineAsync();
        Assert.True(f.Server.Metrics.Running >= 1, "the leaving request is still generating");
        stream.Dispose();
        response.Dispose();

        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (f.Server.Metrics.Cancelled == cancelledBefore && DateTime.UtcNow < deadline) await Task.Delay(20);
        Assert.Equal(cancelledBefore + 1, f.Server.Metrics.Cancelled);
        var (status, body) = await staying;
        Assert.Equal(200, status);
        Assert.Equal(expected, (string)body["choices"]![0]!["text"]!);
        while (f.Server.Metrics.Running > 0 && DateTime.UtcNow < deadline) await Task.Delay(20);
        Assert.Equal(0, f.Server.Metrics.Running);
    }
}
