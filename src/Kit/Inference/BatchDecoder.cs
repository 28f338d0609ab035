using System.Diagnostics;
using Kit.Models;
using static TorchSharp.torch;

namespace Kit.Inference;

/// <summary>
/// Decodes several sequences together, each with its own KV cache: the Linears multiply every sequence's rows
/// at once while attention reads only the sequence's own keys, so prompts of different lengths need no padding
/// and each sequence's greedy tokens are those it would get alone. Sequences may be added between steps
/// (continuous batching); one that stops frees its cache at once and leaves the batch.
/// </summary>
public sealed class BatchDecoder : IDisposable
{
    readonly CausalLM model;
    readonly GenerationOptions options;
    readonly IReadOnlySet<int> stopIds;
    readonly Sampler sampler;
    readonly Stopwatch clock = Stopwatch.StartNew();
    readonly List<GenerationSequence> sequences = new();

    /// <summary>Creates an empty decoder; <paramref name="stopIds"/> end a sequence when <see cref="GenerationOptions.StopOnEos"/> is set.</summary>
    public BatchDecoder(CausalLM model, GenerationOptions options, IReadOnlySet<int> stopIds)
    {
        options.Validate();
        (this.model, this.options, this.stopIds) = (model, options, stopIds);
        sampler = new Sampler(options, model.Device);
    }

    /// <summary>Every sequence added so far, in order.</summary>
    public IReadOnlyList<GenerationSequence> Sequences => sequences;

    /// <summary>Whether every sequence has stopped (true for none).</summary>
    public bool Finished => sequences.All(s => s.StopReason != null);

    /// <summary>Adds a sequence; the next <see cref="Step"/> prefills it and produces its first token.</summary>
    /// <exception cref="ArgumentException">The prompt is empty, or it and the new tokens do not fit the model's context.</exception>
    public GenerationSequence Add(IReadOnlyList<int> prompt)
    {
        if (prompt.Count == 0) throw new ArgumentException("every prompt needs at least one token (a BOS token counts)", nameof(prompt));
        if (prompt.Count + options.MaxNewTokens > model.Config.MaxPositionEmbeddings)
            throw new ArgumentException($"prompt ({prompt.Count} tokens) plus max-new-tokens ({options.MaxNewTokens}) exceeds the model's context of {model.Config.MaxPositionEmbeddings}", nameof(prompt));
        var sequence = new GenerationSequence(sequences.Count, prompt, new KvCache(model.Config.NumHiddenLayers, prompt.Count + options.MaxNewTokens));
        sequences.Add(sequence);
        if (options.MaxNewTokens == 0) sequence.StopEmpty();
        return sequence;
    }

    /// <summary>
    /// One step: prefills the sequences added since the last step (those of equal prompt length in one pass) and
    /// samples their first tokens, then decodes one token for every sequence that was already running. Returns the
    /// tokens produced, in sequence order within each pass.
    /// </summary>
    public IReadOnlyList<(GenerationSequence Sequence, int Token)> Step()
    {
        if (options.MaxNewTokens == 0) return [];
        var running = sequences.Where(s => s.StopReason == null && s.Prefilled).ToList();
        var produced = new List<(GenerationSequence, int)>();
        using var _ = no_grad();
        foreach (var group in sequences.Where(s => s.StopReason == null && !s.Prefilled).GroupBy(s => s.Prompt.Count))
            Pass(group.ToList(), s => s.Prompt, produced);
        if (running.Count > 0) Pass(running, s => new[] { s.Generated[^1] }, produced);
        return produced;
    }

    void Pass(IReadOnlyList<GenerationSequence> batch, Func<GenerationSequence, IReadOnlyList<int>> tokens, List<(GenerationSequence, int)> produced)
    {
        long[] next;
        using (var scope = NewDisposeScope())
        {
            int t = tokens(batch[0]).Count;
            var ids = new long[batch.Count * t];
            for (int s = 0; s < batch.Count; s++)
            {
                var row = tokens(batch[s]);
                for (int j = 0; j < t; j++) ids[s * t + j] = row[j];
            }
            var logits = model.Forward(tensor(ids, batch.Count, t), batch.Select(s => s.Cache).ToArray(), lastOnly: true);
            next = sampler.Next(logits[.., 0]);
        }
        double now = clock.Elapsed.TotalMilliseconds;
        for (int s = 0; s < batch.Count; s++)
        {
            int id = (int)next[s];
            batch[s].Add(id, now, options.StopOnEos && stopIds.Contains(id), options.MaxNewTokens);
            produced.Add((batch[s], id));
        }
    }

    /// <summary>Frees every sequence's cache and the sampler.</summary>
    public void Dispose()
    {
        foreach (var s in sequences) s.Release();
        sampler.Dispose();
    }
}
