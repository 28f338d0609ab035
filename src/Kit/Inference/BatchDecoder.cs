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
    /// One step: prefills the sequences added since the last step and samples their first tokens, then decodes one
    /// token for every sequence that was already running. Prompts of similar lengths are prefilled in one pass, the
    /// shorter ones padded to the longest, so that their matrix products share one read of the weights; a pass
    /// takes no more than <see cref="MaxPrefillPadding"/> of padding. Returns the tokens produced, in sequence order
    /// within each pass.
    /// </summary>
    public IReadOnlyList<(GenerationSequence Sequence, int Token)> Step()
    {
        var running = sequences.Where(s => s.StopReason == null && s.Prefilled).ToList();
        var produced = new List<(GenerationSequence, int)>();
        using var _ = no_grad();
        var added = sequences.Where(s => s.StopReason == null && !s.Prefilled).ToList();
        foreach (var pass in PrefillPasses(added.Select(s => s.Prompt.Count).ToList()))
            Pass(pass.Select(i => added[i]).ToList(), s => s.Prompt, produced);
        if (running.Count > 0) Pass(running, s => new[] { s.Generated[^1] }, produced);
        return produced;
    }

    /// <summary>Padding a prefill pass may add, as a fraction of its prompts' tokens.</summary>
    public const double MaxPrefillPadding = 0.25;

    /// <summary>
    /// Prefill passes for prompts of <paramref name="promptLengths"/>, as indices in increasing order: shortest prompts
    /// first, a pass grows while padding every prompt to its longest adds at most <see cref="MaxPrefillPadding"/>.
    /// </summary>
    internal static IEnumerable<int[]> PrefillPasses(IReadOnlyList<int> promptLengths)
    {
        var pass = new List<int>();
        long tokens = 0;
        foreach (int i in Enumerable.Range(0, promptLengths.Count).OrderBy(i => promptLengths[i]))
        {
            long padded = (long)(pass.Count + 1) * promptLengths[i];
            if (pass.Count > 0 && padded > (1 + MaxPrefillPadding) * (tokens + promptLengths[i]))
            {
                yield return pass.Order().ToArray();
                (pass, tokens) = (new List<int>(), 0);
            }
            pass.Add(i);
            tokens += promptLengths[i];
        }
        if (pass.Count > 0) yield return pass.Order().ToArray();
    }

    void Pass(IReadOnlyList<GenerationSequence> batch, Func<GenerationSequence, IReadOnlyList<int>> tokens, List<(GenerationSequence, int)> produced)
    {
        var next = new long[batch.Count];
        using (var scope = NewDisposeScope())
        {
            var lengths = batch.Select(s => (long)tokens(s).Count).ToArray();
            int t = (int)lengths.Max();
            // Padding repeats a row's last token: any id would do, since padding is neither attended to nor cached.
            var ids = new long[batch.Count * t];
            for (int s = 0; s < batch.Count; s++)
            {
                var row = tokens(batch[s]);
                for (int j = 0; j < t; j++) ids[s * t + j] = row[Math.Min(j, row.Count - 1)];
            }
            var logits = model.Forward(tensor(ids, batch.Count, t), batch.Select(s => s.Cache).ToArray(), lastOnly: true, lengths)[.., 0];
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
