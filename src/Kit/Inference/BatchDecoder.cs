using System.Diagnostics;
using Kit.Models;
using static TorchSharp.torch;

namespace Kit.Inference;

/// <summary>
/// Decodes several sequences together, each with its own KV cache: the Linears multiply every sequence's rows
/// at once while attention reads only the sequence's own keys, so prompts of different lengths need no padding
/// and each sequence's greedy tokens are those it would get alone. Sequences may be added between steps
/// (continuous batching), each with the decoder's options or its own (budget, temperature, top-p, seed); one that
/// stops frees its cache at once and leaves the batch, and <see cref="Remove"/> takes one out before it stops.
/// </summary>
public sealed class BatchDecoder : IDisposable
{
    readonly CausalLM model;
    readonly GenerationOptions options;
    readonly IReadOnlySet<int> stopIds;
    readonly Sampler sampler;
    readonly Sampler greedy;
    readonly Stopwatch clock = Stopwatch.StartNew();
    readonly List<GenerationSequence> sequences = new();
    int added;

    /// <summary>Creates an empty decoder; <paramref name="stopIds"/> end a sequence when <see cref="GenerationOptions.StopOnEos"/> is set.</summary>
    public BatchDecoder(CausalLM model, GenerationOptions options, IReadOnlySet<int> stopIds)
    {
        options.Validate();
        (this.model, this.options, this.stopIds) = (model, options, stopIds);
        sampler = new Sampler(options, model.Device);
        greedy = new Sampler(new GenerationOptions(), model.Device);
    }

    /// <summary>Every sequence added and not removed, in order.</summary>
    public IReadOnlyList<GenerationSequence> Sequences => sequences;

    /// <summary>Whether every sequence has stopped (true for none).</summary>
    public bool Finished => sequences.All(s => s.StopReason != null);

    /// <summary>
    /// Adds a sequence; the next <see cref="Step"/> prefills it and produces its first token. With
    /// <paramref name="own"/> the sequence decodes with those options and a sampler of its own (seeded from them),
    /// so its tokens do not depend on which other sequences share its steps; without, it shares the decoder's.
    /// </summary>
    /// <exception cref="ArgumentException">The prompt is empty, the options are out of range, or the prompt and the new tokens do not fit the model's context.</exception>
    public GenerationSequence Add(IReadOnlyList<int> prompt, GenerationOptions? own = null)
    {
        if (prompt.Count == 0) throw new ArgumentException("every prompt needs at least one token (a BOS token counts)", nameof(prompt));
        var o = own ?? options;
        o.Validate();
        if (prompt.Count + o.MaxNewTokens > model.Config.MaxPositionEmbeddings)
            throw new ArgumentException($"prompt ({prompt.Count} tokens) plus max-new-tokens ({o.MaxNewTokens}) exceeds the model's context of {model.Config.MaxPositionEmbeddings}", nameof(prompt));
        var sequence = new GenerationSequence(added++, prompt, new KvCache(model.Config.NumHiddenLayers, prompt.Count + o.MaxNewTokens),
            o, own is { Temperature: > 0 } ? new Sampler(own, model.Device) : null);
        sequences.Add(sequence);
        if (o.MaxNewTokens == 0) sequence.StopEmpty();
        return sequence;
    }

    /// <summary>Takes a sequence out of the decoder whether or not it has stopped, freeing its cache and sampler.</summary>
    /// <returns>Whether the sequence was in this decoder.</returns>
    public bool Remove(GenerationSequence sequence)
    {
        if (!sequences.Remove(sequence)) return false;
        sequence.Release();
        return true;
    }

    /// <summary>
    /// One step: prefills the sequences added since the last step (those of equal prompt length in one pass) and
    /// samples their first tokens, then decodes one token for every sequence that was already running. Returns the
    /// tokens produced, in sequence order within each pass.
    /// </summary>
    public IReadOnlyList<(GenerationSequence Sequence, int Token)> Step()
    {
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
        var next = new long[batch.Count];
        using (var scope = NewDisposeScope())
        {
            int t = tokens(batch[0]).Count;
            var ids = new long[batch.Count * t];
            for (int s = 0; s < batch.Count; s++)
            {
                var row = tokens(batch[s]);
                for (int j = 0; j < t; j++) ids[s * t + j] = row[j];
            }
            var logits = model.Forward(tensor(ids, batch.Count, t), batch.Select(s => s.Cache).ToArray(), lastOnly: true)[.., 0];
            // Rows that share a sampler draw together, so the shared-options decoder samples exactly as before; a
            // sampled sequence with its own options draws from its own random stream alone, and greedy ones share one argmax.
            foreach (var rows in Enumerable.Range(0, batch.Count).GroupBy(s => batch[s].Sampler ?? (batch[s].Options.Temperature > 0 ? sampler : greedy)))
            {
                var r = rows.ToArray();
                var picked = rows.Key.Next(r.Length == batch.Count ? logits : logits.index_select(0, tensor(r.Select(i => (long)i).ToArray(), device: logits.device)));
                for (int i = 0; i < r.Length; i++) next[r[i]] = picked[i];
            }
        }
        double now = clock.Elapsed.TotalMilliseconds;
        for (int s = 0; s < batch.Count; s++)
        {
            int id = (int)next[s];
            var o = batch[s].Options;
            batch[s].Add(id, now, o.StopOnEos && stopIds.Contains(id), o.MaxNewTokens);
            produced.Add((batch[s], id));
        }
    }

    /// <summary>Frees every sequence's cache and the samplers.</summary>
    public void Dispose()
    {
        foreach (var s in sequences) s.Release();
        sampler.Dispose();
        greedy.Dispose();
    }
}
