using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Kit.Inference;
using Kit.Models;
using Kit.Models.Tokenizers;
using Kit.Serving;

namespace Kit.Tests.Serving;

/// <summary>
/// One server on 127.0.0.1 (a free port) over the bundled default model, shared by a test class; and a second copy
/// of the model for the answers each request gets alone, computed by the library without the server.
/// </summary>
public sealed class ServerFixture : IAsyncLifetime
{
    public LanguageModel Served { get; private set; } = null!;
    public LanguageModel Reference { get; private set; } = null!;
    public KitServer Server { get; private set; } = null!;
    public HttpClient Http { get; } = new() { Timeout = TimeSpan.FromMinutes(2) };

    public async Task InitializeAsync()
    {
        Served = LanguageModel.Load("default", new ModelLoadOptions { Device = "cpu" });
        Reference = LanguageModel.Load("default", new ModelLoadOptions { Device = "cpu" });
        // The default model has no chat template of its own; ChatML's markers tokenize as plain text.
        Server = await KitServer.StartAsync(Served, new ServerOptions { Port = 0, MaxBatch = 8, ChatTemplate = ChatTemplateFamily.ChatML });
        Http.BaseAddress = new Uri(Server.Url);
    }

    public async Task DisposeAsync()
    {
        await Server.DisposeAsync();
        Http.Dispose();
        Served.Dispose();
        Reference.Dispose();
    }

    /// <summary>What the library generates for the prompt alone, greedy.</summary>
    public GenerationResult Alone(string prompt, int maxTokens) =>
        Reference.Generate(prompt, new GenerationOptions { MaxNewTokens = maxTokens });

    public async Task<(int Status, JsonObject Body)> Post(string route, string json)
    {
        using var response = await Http.PostAsync(route, new StringContent(json, Encoding.UTF8, "application/json"));
        return ((int)response.StatusCode, JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject());
    }

    public Task<(int Status, JsonObject Body)> Post(string route, object body) =>
        Post(route, System.Text.Json.JsonSerializer.Serialize(body));

    /// <summary>The <c>data:</c> payloads of a server-sent event stream, in order ([DONE] included).</summary>
    public async Task<List<string>> Stream(string route, object body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, route) { Content = JsonContent.Create(body) };
        using var response = await Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType!.MediaType);
        var events = new List<string>();
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        while (await reader.ReadLineAsync() is { } line)
        {
            if (line.Length == 0) continue;
            Assert.StartsWith("data: ", line);
            events.Add(line["data: ".Length..]);
        }
        return events;
    }
}
