using Kit.Inference;
using Kit.Models;
using Kit.Serving;

namespace Kit.Tests.Serving;

/// <summary>The scheduler's loop survives a failing step, and cancelling a request frees its place in the batch.</summary>
public sealed class SchedulerTests
{
    static async Task<(string Text, Finished End)> Drain(System.Threading.Channels.ChannelReader<CompletionEvent> events)
    {
        var text = new System.Text.StringBuilder();
        Finished? end = null;
        await foreach (var e in events.ReadAllAsync())
            if (e is TextDelta d) text.Append(d.Text);
            else end = (Finished)e;
        return (text.ToString(), end!);
    }

    [Fact]
    public async Task A_step_that_throws_fails_its_request_with_the_reason_and_the_loop_serves_the_next()
    {
        using var lm = LanguageModel.Load("default", new ModelLoadOptions { Device = "cpu" });
        await using var scheduler = new ContinuousBatchScheduler(lm, maxBatch: 4);
        var greedy = new GenerationOptions { MaxNewTokens = 10 };
        // A token id past the vocabulary makes the embedding lookup throw inside the loop.
        var bad = scheduler.Submit(new CompletionJob([1, lm.Config.VocabSize + 5], greedy, []));
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => Drain(bad));
        Assert.StartsWith("generation failed:", error.Message);

        var prompt = lm.Tokenizer.Encode("Once upon a time");
        var (text, end) = await Drain(scheduler.Submit(new CompletionJob(prompt, greedy, [])));
        var alone = lm.Generate("Once upon a time", greedy);
        Assert.Equal(alone.Text, text);
        Assert.Equal(new Finished(alone.StopReason == "eos" ? "stop" : "length", prompt.Count, alone.TokenIds.Count), end);
        Assert.Equal(0, scheduler.Metrics.Running);
    }

    [Fact]
    public async Task A_cancelled_request_leaves_the_batch_and_a_waiting_one_takes_its_place()
    {
        using var lm = LanguageModel.Load("default", new ModelLoadOptions { Device = "cpu" });
        await using var scheduler = new ContinuousBatchScheduler(lm, maxBatch: 1);
        var prompt = lm.Tokenizer.Encode("Tom");
        using var leave = new CancellationTokenSource();
        var endless = scheduler.Submit(new CompletionJob(prompt, new GenerationOptions { MaxNewTokens = 400, StopOnEos = false }, []), leave.Token);
        var next = scheduler.Submit(new CompletionJob(prompt, new GenerationOptions { MaxNewTokens = 5 }, []));
        await endless.ReadAsync();
        Assert.Equal((1, 1), (scheduler.Metrics.Running, scheduler.Metrics.Waiting));
        leave.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Drain(endless));
        var (_, end) = await Drain(next);
        Assert.Equal(1, scheduler.Metrics.Cancelled);
        Assert.True(end.CompletionTokens is > 0 and <= 5);
        Assert.True(scheduler.Metrics.GenerationTokens < 400, "the cancelled request stopped generating");
    }
}
