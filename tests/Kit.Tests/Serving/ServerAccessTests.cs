using System.ClientModel;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Kit.Models;
using Kit.Models.Tokenizers;
using Kit.Serving;
using OpenAI;
using OpenAI.Chat;

namespace Kit.Tests.Serving;

/// <summary>The API key guards /v1 when configured, and the official OpenAI .NET client talks to Kit's server, streaming included.</summary>
public sealed class ServerAccessTests
{
    const string Key = "sk-kit-test-key";

    static async Task<(LanguageModel Model, KitServer Server)> Start(string? apiKey)
    {
        var lm = LanguageModel.Load("default", new ModelLoadOptions { Device = "cpu" });
        var server = await KitServer.StartAsync(lm, new ServerOptions { Port = 0, ApiKey = apiKey, ChatTemplate = ChatTemplateFamily.ChatML });
        return (lm, server);
    }

    [Fact]
    public async Task With_a_key_configured_v1_needs_the_right_bearer_token_and_health_does_not()
    {
        var (lm, server) = await Start(Key);
        await using var _ = server;
        using var __ = lm;
        using var http = new HttpClient { BaseAddress = new Uri(server.Url) };
        async Task<(int, string)> Completion(string? authorization)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/completions")
            {
                Content = new StringContent("{\"model\": \"default\", \"prompt\": \"Tom\", \"max_tokens\": 3}", Encoding.UTF8, "application/json"),
            };
            if (authorization != null) request.Headers.Authorization = AuthenticationHeaderValue.Parse(authorization);
            using var response = await http.SendAsync(request);
            return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
        }

        var (missing, body) = await Completion(null);
        Assert.Equal(401, missing);
        Assert.Equal("invalid_api_key", (string)JsonNode.Parse(body)!["error"]!["code"]!);
        Assert.Equal(401, (await Completion("Bearer sk-wrong")).Item1);
        Assert.Equal(401, (await Completion("Basic " + Key)).Item1);
        Assert.Equal(200, (await Completion("Bearer " + Key)).Item1);
        Assert.Equal(200, (int)(await http.GetAsync("/health")).StatusCode);
        Assert.Equal(401, (int)(await http.GetAsync("/v1/models")).StatusCode);
    }

    [Fact]
    public async Task The_official_openai_client_chats_with_the_server_streaming_and_not_alike()
    {
        var (lm, server) = await Start(Key);
        await using var _ = server;
        using var __ = lm;
        var client = new ChatClient("default", new ApiKeyCredential(Key), new OpenAIClientOptions { Endpoint = new Uri(server.Url + "/v1") });
        var messages = new List<OpenAI.Chat.ChatMessage> { new SystemChatMessage("You tell stories."), new UserChatMessage("Tell me about a cat.") };
        var options = new ChatCompletionOptions { Temperature = 0, MaxOutputTokenCount = 24 };

        ChatCompletion whole = await client.CompleteChatAsync(messages, options);
        Assert.Equal(ChatMessageRole.Assistant, whole.Role);
        string text = whole.Content[0].Text;
        Assert.False(string.IsNullOrEmpty(text));
        string rendered = lm.Tokenizer.ApplyChatTemplate(
            [new("system", "You tell stories."), new("user", "Tell me about a cat.")], family: ChatTemplateFamily.ChatML);
        Assert.Equal(lm.Tokenizer.Encode(rendered, addSpecialTokens: false).Count, whole.Usage.InputTokenCount);

        var streamed = new StringBuilder();
        ChatFinishReason? finish = null;
        await foreach (var update in client.CompleteChatStreamingAsync(messages, options))
        {
            foreach (var part in update.ContentUpdate) streamed.Append(part.Text);
            finish ??= update.FinishReason;
        }
        Assert.Equal(text, streamed.ToString());
        Assert.Equal(whole.FinishReason, finish);
    }
}
