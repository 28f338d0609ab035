using System.Diagnostics;
using System.Threading.Channels;
using Kit.Inference;
using Kit.Models;

namespace Kit.Serving;

/// <summary>
/// Continuous batching: one background loop owns the model and a <see cref="BatchDecoder"/>. Between decode
/// steps it admits waiting requests up to <see cref="MaxBatch"/>, then steps every running sequence at once and
/// streams each token's text to its request. A request whose client goes away leaves the batch at the next step
/// and its cache is freed; an error fails only the requests it touched, and the loop goes on.
/// </summary>
public sealed class ContinuousBatchScheduler : IAsyncDisposable
{
    readonly LanguageModel lm;
    readonly BatchDecoder decoder;
    readonly List<ScheduledRequest> waiting = new();     // guarded by itself
    readonly Dictionary<GenerationSequence, ScheduledRequest> running = new();
    readonly SemaphoreSlim wake = new(0);
    readonly CancellationTokenSource stopping = new();
    readonly Task loop;

    /// <summary>Starts the loop over <paramref name="lm"/>, which the scheduler uses alone until disposed.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxBatch"/> is below 1.</exception>
    public ContinuousBatchScheduler(LanguageModel lm, int maxBatch, ServingMetrics? metrics = null)
    {
        if (maxBatch < 1) throw new ArgumentOutOfRangeException(nameof(maxBatch), maxBatch, "max-batch must be at least 1");
        (this.lm, MaxBatch, Metrics) = (lm, maxBatch, metrics ?? new ServingMetrics());
        // Every request brings its own options; the decoder's shared ones are never used.
        decoder = new BatchDecoder(lm.Model, new GenerationOptions(), lm.Tokenizer.EosIds.ToHashSet());
        loop = Task.Factory.StartNew(Loop, TaskCreationOptions.LongRunning);
    }

    /// <summary>The most sequences decoded together.</summary>
    public int MaxBatch { get; }

    /// <summary>Counters and histograms the loop updates.</summary>
    public ServingMetrics Metrics { get; }

    /// <summary>
    /// Queues a request. Its events (text deltas, then one <see cref="Finished"/>) arrive on the returned reader;
    /// a failure completes the reader with an <see cref="InvalidOperationException"/> naming it, and cancelling
    /// <paramref name="cancelled"/> takes the sequence out of the batch and completes the reader with
    /// <see cref="OperationCanceledException"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The prompt is empty or does not fit the context with its max tokens, or an option is out of range.</exception>
    /// <exception cref="ObjectDisposedException">The scheduler is shutting down.</exception>
    public ChannelReader<CompletionEvent> Submit(CompletionJob job, CancellationToken cancelled = default)
    {
        ObjectDisposedException.ThrowIf(stopping.IsCancellationRequested, this);
        job.Options.Validate();
        if (job.PromptIds.Count == 0) throw new ArgumentException("the prompt has no tokens");
        int context = lm.Config.MaxPositionEmbeddings;
        if (job.PromptIds.Count + job.Options.MaxNewTokens > context)
            throw new ArgumentException($"prompt ({job.PromptIds.Count} tokens) plus max tokens ({job.Options.MaxNewTokens}) exceeds the model's context of {context}");
        var request = new ScheduledRequest(job, cancelled, Stopwatch.GetTimestamp());
        lock (waiting) waiting.Add(request);
        request.Registration = cancelled.Register(() => wake.Release());
        wake.Release();
        return request.Events.Reader;
    }

    void Loop()
    {
        while (!stopping.IsCancellationRequested)
        {
            DropCancelled();
            Admit();
            if (running.Count == 0)
            {
                try { wake.Wait(stopping.Token); }
                catch (OperationCanceledException) { break; }
                continue;
            }
            StepOnce();
        }
        var shutdown = new InvalidOperationException("the server is shutting down");
        foreach (var r in running.Values.ToList()) Fail(r, shutdown);
        lock (waiting)
        {
            foreach (var r in waiting) Fail(r, shutdown);
            waiting.Clear();
        }
    }

    void StepOnce()
    {
        int batch = running.Count;
        IReadOnlyList<(GenerationSequence Sequence, int Token)> produced;
        try { produced = decoder.Step(); }
        catch (Exception e)
        {
            // The step touched every running sequence and may have left their caches half written.
            foreach (var r in running.Values.ToList()) Fail(r, new InvalidOperationException($"generation failed: {e.Message}", e));
            return;
        }
        Metrics.BatchOccupancy.Observe(batch);
        foreach (var (sequence, token) in produced)
        {
            var r = running[sequence];
            try { Deliver(r, token); }
            catch (Exception e) { Fail(r, new InvalidOperationException($"decoding the generated text failed: {e.Message}", e)); }
        }
    }

    void Deliver(ScheduledRequest r, int token)
    {
        long now = Stopwatch.GetTimestamp();
        var sequence = r.Sequence!;
        if (sequence.Generated.Count == 1) Metrics.TimeToFirstToken.Observe(Stopwatch.GetElapsedTime(r.SubmittedAt, now).TotalSeconds);
        else Metrics.InterTokenLatency.Observe(Stopwatch.GetElapsedTime(r.LastTokenAt, now).TotalSeconds);
        r.LastTokenAt = now;
        Metrics.AddGenerationTokens(1);
        string text = r.Stops.Push(r.Decoder!.Push(token));
        if (sequence.StopReason != null) text += r.Stops.Push(r.Decoder.Flush()) + r.Stops.Flush();
        if (text.Length > 0) r.Events.Writer.TryWrite(new TextDelta(text));
        if (r.Stops.Stopped || sequence.StopReason != null)
            Complete(r, new Finished(r.Stops.Stopped || sequence.StopReason == "eos" ? "stop" : "length", sequence.Prompt.Count, sequence.Generated.Count));
    }

    void Admit()
    {
        while (running.Count < MaxBatch)
        {
            ScheduledRequest r;
            lock (waiting)
            {
                if (waiting.Count == 0) break;
                r = waiting[0];
                waiting.RemoveAt(0);
            }
            try { r.Sequence = decoder.Add(r.Job.PromptIds, r.Job.Options); }
            catch (Exception e)
            {
                Fail(r, new InvalidOperationException($"the request could not join the batch: {e.Message}", e));
                continue;
            }
            r.Decoder = lm.Tokenizer.CreateStreamingDecoder();
            running.Add(r.Sequence, r);
            Metrics.AddPromptTokens(r.Sequence.Prompt.Count);
            if (r.Sequence.StopReason != null) Complete(r, new Finished("length", r.Sequence.Prompt.Count, 0));
        }
        lock (waiting) Metrics.SetQueues(running.Count, waiting.Count);
    }

    void DropCancelled()
    {
        foreach (var r in running.Values.Where(r => r.Cancelled.IsCancellationRequested).ToList())
        {
            Metrics.CountCancelled();
            End(r, new OperationCanceledException(r.Cancelled));
        }
        List<ScheduledRequest> gone;
        lock (waiting)
        {
            gone = waiting.Where(r => r.Cancelled.IsCancellationRequested).ToList();
            waiting.RemoveAll(gone.Contains);
        }
        foreach (var r in gone)
        {
            Metrics.CountCancelled();
            End(r, new OperationCanceledException(r.Cancelled));
        }
    }

    void Complete(ScheduledRequest r, Finished finished)
    {
        r.Events.Writer.TryWrite(finished);
        End(r, null);
    }

    void Fail(ScheduledRequest r, Exception error) => End(r, error);

    /// <summary>Takes the request out of the batch, frees its cache and closes its stream.</summary>
    void End(ScheduledRequest r, Exception? error)
    {
        if (r.Sequence is { } s && running.Remove(s)) decoder.Remove(s);
        r.Registration.Dispose();
        r.Events.Writer.TryComplete(error);
        lock (waiting) Metrics.SetQueues(running.Count, waiting.Count);
    }

    /// <summary>Stops the loop; requests still running or waiting fail with "the server is shutting down".</summary>
    public async ValueTask DisposeAsync()
    {
        if (stopping.IsCancellationRequested) return;
        stopping.Cancel();
        await loop.ConfigureAwait(false);
        decoder.Dispose();
        wake.Dispose();
        stopping.Dispose();
    }
}
