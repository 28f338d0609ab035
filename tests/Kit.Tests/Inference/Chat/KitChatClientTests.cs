using Kit.Inference;
using Kit.Inference.Chat;
using Kit.Models;
using Kit.Models.Tokenizers;
using Microsoft.Extensions.AI;
using AiChatMessage = Microsoft.Extensions.AI.ChatMessage;
using KitChatMessage = Kit.Models.Tokenizers.ChatMessage;

namespace Kit.Tests.Inference.Chat;

/// <summary>The default model loaded once for the chat client's tests.</summary>
public sealed class DefaultModelFixture : IDisposable
{
    /// <summary>Kit's tiny default model.</summary>
    public LanguageModel Model { get; } = LanguageModel.Load("default", new ModelLoadOptions { Device = "cpu" });

    /// <summary>Frees the weights.</summary>
    public void Dispose() => Model.Dispose();
}

/// <summary>
/// A loaded model behind <see cref="IChatClient"/>: the same tokens as <see cref="TextGeneration"/> on the rendered chat,
/// streamed and whole alike, with OpenAI's option semantics.
/// </summary>
public sealed class KitChatClientTests(DefaultModelFixture fixture) : IClassFixture<DefaultModelFixture>
{
    // The default model has no chat template of its own; ChatML's markers are plain text to it.
    readonly KitChatClient client = new(fixture.Model, chatFamily: ChatTemplateFamily.ChatML);

    static readonly AiChatMessage[] Chat =
    [
        new(ChatRole.System, "You tell short stories."),
        new(ChatRole.User, "Once upon a time there was a little girl named Lily."),
    ];

    string Rendered() => fixture.Model.Tokenizer.ApplyChatTemplate(
        [new KitChatMessage("system", "You tell short stories."), new KitChatMessage("user", "Once upon a time there was a little girl named Lily.")],
        family: ChatTemplateFamily.ChatML);

    static async Task<(string Text, List<ChatResponseUpdate> Updates)> Stream(IChatClient c, ChatOptions? options, CancellationToken ct = default)
    {
        var updates = new List<ChatResponseUpdate>();
        await foreach (var u in c.GetStreamingResponseAsync(Chat, options, ct)) updates.Add(u);
        return (string.Concat(updates.Select(u => u.Text)), updates);
    }

    [Fact]
    public async Task Greedy_text_and_usage_equal_TextGeneration_on_the_rendered_chat()
    {
        var expected = fixture.Model.Generate(Rendered(), new GenerationOptions { MaxNewTokens = 40 });

        var response = await client.GetResponseAsync(Chat, new ChatOptions { MaxOutputTokens = 40 });

        Assert.True(expected.Text.Length > 20, $"the default model wrote too little to compare: '{expected.Text}'");
        Assert.Equal(expected.Text, response.Text);
        Assert.Equal(expected.PromptTokenCount, response.Usage!.InputTokenCount);
        Assert.Equal(expected.TokenIds.Count, response.Usage.OutputTokenCount);
        Assert.Equal(expected.PromptTokenCount + expected.TokenIds.Count, response.Usage.TotalTokenCount);
        Assert.Equal(expected.StopReason == "eos" ? ChatFinishReason.Stop : ChatFinishReason.Length, response.FinishReason);
        Assert.Equal("default", response.ModelId);
    }

    [Fact]
    public async Task Streamed_pieces_join_to_the_whole_response()
    {
        var options = new ChatOptions { MaxOutputTokens = 40 };
        var whole = await client.GetResponseAsync(Chat, options);

        var (text, updates) = await Stream(client, options);

        Assert.Equal(whole.Text, text);
        Assert.True(updates.Count(u => u.Text.Length > 0) > 10, "text should arrive token by token");
        Assert.Equal(whole.FinishReason, updates[^1].FinishReason);
        Assert.All(updates, u => Assert.Equal(ChatRole.Assistant, u.Role));
    }

    [Fact]
    public async Task A_stop_sequence_cuts_the_text_before_its_first_occurrence()
    {
        var full = (await client.GetResponseAsync(Chat, new ChatOptions { MaxOutputTokens = 40 })).Text;
        // A stop string taken from the middle of the greedy text, so it certainly occurs; the cut is at its first occurrence.
        string stop = full.Substring(full.Length / 2, 4);
        string expected = full[..full.IndexOf(stop, StringComparison.Ordinal)];
        var options = new ChatOptions { MaxOutputTokens = 40, StopSequences = [stop, "a stop string that never occurs"] };

        var response = await client.GetResponseAsync(Chat, options);
        var (streamed, _) = await Stream(client, options);

        Assert.Equal(expected, response.Text);
        Assert.Equal(expected, streamed);
        Assert.DoesNotContain(stop, response.Text);
        Assert.Equal(ChatFinishReason.Stop, response.FinishReason);
        Assert.True(response.Usage!.OutputTokenCount < 40);
    }

    [Fact]
    public async Task Max_output_tokens_ends_with_finish_reason_length()
    {
        var response = await client.GetResponseAsync(Chat, new ChatOptions { MaxOutputTokens = 5 });
        var longer = fixture.Model.Generate(Rendered(), new GenerationOptions { MaxNewTokens = 5 });

        Assert.Equal(ChatFinishReason.Length, response.FinishReason);
        Assert.Equal(5, response.Usage!.OutputTokenCount);
        Assert.Equal(longer.Text, response.Text);
    }

    [Fact]
    public async Task Cancelling_stops_the_stream_between_tokens_and_frees_the_model()
    {
        using var cts = new CancellationTokenSource();
        var received = new List<ChatResponseUpdate>();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var u in client.GetStreamingResponseAsync(Chat, new ChatOptions { MaxOutputTokens = 200 }, cts.Token))
            {
                received.Add(u);
                cts.Cancel();
            }
        });

        Assert.Single(received);
        // The model's lock was released: the next call runs.
        var after = await client.GetResponseAsync(Chat, new ChatOptions { MaxOutputTokens = 3 });
        Assert.Equal(3, after.Usage!.OutputTokenCount);
    }

    [Fact]
    public async Task A_seed_reproduces_sampled_output_and_other_seeds_differ()
    {
        ChatOptions Sampled(long seed) => new() { MaxOutputTokens = 30, Temperature = 1.0f, TopP = 0.95f, Seed = seed };

        var first = (await client.GetResponseAsync(Chat, Sampled(7))).Text;
        var again = (await client.GetResponseAsync(Chat, Sampled(7))).Text;
        var others = new List<string>();
        foreach (var seed in new long[] { 8, 9, 10 }) others.Add((await client.GetResponseAsync(Chat, Sampled(seed))).Text);

        Assert.Equal(first, again);
        Assert.Contains(others, o => o != first);
    }

    [Fact]
    public async Task Calls_from_several_threads_each_get_the_greedy_text_of_a_call_alone()
    {
        var options = new ChatOptions { MaxOutputTokens = 20 };
        var alone = (await client.GetResponseAsync(Chat, options)).Text;
        var other = new KitChatClient(fixture.Model, chatFamily: ChatTemplateFamily.ChatML);

        var together = await Task.WhenAll(Enumerable.Range(0, 4).Select(i => Task.Run(() => (i % 2 == 0 ? client : other).GetResponseAsync(Chat, options))));

        Assert.All(together, r => Assert.Equal(alone, r.Text));
    }

    [Theory]
    [InlineData(-1f, null, "ChatOptions.Temperature must be ≥ 0")]
    [InlineData(null, 0f, "ChatOptions.TopP must be in (0, 1]")]
    [InlineData(null, 1.5f, "ChatOptions.TopP must be in (0, 1]")]
    public async Task A_bad_option_is_refused_with_its_name(float? temperature, float? topP, string message)
    {
        var e = await Assert.ThrowsAsync<ArgumentException>(() => client.GetResponseAsync(Chat, new ChatOptions { Temperature = temperature, TopP = topP }));
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public async Task Max_output_tokens_beyond_the_context_is_refused()
    {
        var e = await Assert.ThrowsAsync<ArgumentException>(() => client.GetResponseAsync(Chat, new ChatOptions { MaxOutputTokens = 100_000 }));
        Assert.Contains("exceeds the model's context of 512 tokens", e.Message);
    }

    [Fact]
    public async Task Messages_other_than_text_and_roles_the_template_lacks_are_refused()
    {
        var image = new AiChatMessage(ChatRole.User, [new DataContent(new byte[] { 1, 2, 3 }, "image/png")]);
        var e = await Assert.ThrowsAsync<NotSupportedException>(() => client.GetResponseAsync([image]));
        Assert.Contains("message 0 holds DataContent", e.Message);
        var tool = await Assert.ThrowsAsync<ArgumentException>(() => client.GetResponseAsync([new AiChatMessage(ChatRole.Tool, "42")]));
        Assert.Contains("chat role 'tool' is not supported", tool.Message);
    }

    [Fact]
    public void Metadata_names_the_provider_and_the_model()
    {
        var metadata = client.GetService<ChatClientMetadata>();
        Assert.Equal("kit", metadata!.ProviderName);
        Assert.Equal("default", metadata.DefaultModelId);
        Assert.Same(fixture.Model, client.GetService<LanguageModel>());
        Assert.Null(client.GetService<ChatClientMetadata>("a key"));
    }

    [Fact]
    public void A_model_without_a_chat_template_needs_a_family()
    {
        var e = Assert.Throws<NotSupportedException>(() => new KitChatClient(fixture.Model));
        Assert.Contains("no chat_template", e.Message);
    }
}
