using System.Threading.Channels;
using Kit.Inference;

namespace Kit.Serving;

/// <summary>What the scheduler generates for one request: prompt ids, decoding options (budget, temperature, top-p, seed) and stop strings.</summary>
/// <param name="PromptIds">The prompt, tokenized as the route does it (chat: rendered template; completions: with BOS).</param>
/// <param name="Options">The request's own decoding options; <see cref="GenerationOptions.MaxNewTokens"/> is its max_tokens.</param>
/// <param name="Stop">Stop strings: generation ends before the first one, which the text never contains.</param>
public sealed record CompletionJob(IReadOnlyList<int> PromptIds, GenerationOptions Options, IReadOnlyList<string> Stop);

/// <summary>One event of a request's stream: a piece of text, or the end with its reason and token counts.</summary>
public abstract record CompletionEvent;

/// <summary>Text generated since the previous event (never part of a stop string).</summary>
/// <param name="Text">The text.</param>
public sealed record TextDelta(string Text) : CompletionEvent;

/// <summary>The request has finished.</summary>
/// <param name="FinishReason">"stop" (end-of-sequence token or a stop string) or "length" (max_tokens reached).</param>
/// <param name="PromptTokens">Prompt tokens.</param>
/// <param name="CompletionTokens">Generated tokens, counting a final end-of-sequence token.</param>
public sealed record Finished(string FinishReason, int PromptTokens, int CompletionTokens) : CompletionEvent;

/// <summary>A submitted request as the scheduler tracks it.</summary>
sealed class ScheduledRequest
{
    public ScheduledRequest(CompletionJob job, CancellationToken cancelled, long submittedAt)
    {
        (Job, Cancelled, SubmittedAt) = (job, cancelled, submittedAt);
        Stops = new StopStrings(job.Stop);
    }

    public CompletionJob Job { get; }
    public CancellationToken Cancelled { get; }
    /// <summary><see cref="System.Diagnostics.Stopwatch"/> timestamp of submission: time to first token counts the wait.</summary>
    public long SubmittedAt { get; }
    public Channel<CompletionEvent> Events { get; } = Channel.CreateUnbounded<CompletionEvent>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
    public StopStrings Stops { get; }
    public Kit.Models.Tokenizers.StreamingDecoder? Decoder { get; set; }
    public GenerationSequence? Sequence { get; set; }
    public long LastTokenAt { get; set; }
    public CancellationTokenRegistration Registration { get; set; }
}
