using System.Diagnostics;
using Kit.Models;
using static TorchSharp.torch;

namespace Kit.Inference;

/// <summary>The ids generated for one prompt and when they came.</summary>
/// <param name="TokenIds">Generated ids, including a final stop token if one was produced.</param>
/// <param name="TimeToFirstTokenMs">Milliseconds from the call to the first generated token.</param>
/// <param name="TotalMs">Milliseconds from the call to the last generated token.</param>
/// <param name="StopReason">"eos" when a stop token ended it, "length" when the budget did.</param>
public sealed record GeneratedIds(IReadOnlyList<int> TokenIds, double TimeToFirstTokenMs, double TotalMs, string StopReason)
{
    /// <summary>Decode speed after the first token.</summary>
    public double TokensPerSecond => TokenIds.Count > 1 && TotalMs > TimeToFirstTokenMs
        ? (TokenIds.Count - 1) / ((TotalMs - TimeToFirstTokenMs) / 1000) : 0;
}

/// <summary>
/// Autoregressive decoding over token ids with a KV cache: one prefill of the (left-padded) prompts,
/// then one token per step for every sequence that has not stopped.
/// </summary>
public static class TokenGenerator
{
    /// <summary>
    /// Generates continuations of <paramref name="prompts"/>. <paramref name="onToken"/> is called with
    /// (sequence index, token id) as each token is produced, for streaming.
    /// </summary>
    public static IReadOnlyList<GeneratedIds> Generate(CausalLM model, IReadOnlyList<IReadOnlyList<int>> prompts,
        GenerationOptions options, IReadOnlySet<int> stopIds, int padId = 0, Action<int, int>? onToken = null)
    {
        options.Validate();
        if (prompts.Count == 0) return Array.Empty<GeneratedIds>();
        if (prompts.Any(p => p.Count == 0)) throw new ArgumentException("every prompt needs at least one token (a BOS token counts)");
        int longest = prompts.Max(p => p.Count);
        if (longest + options.MaxNewTokens > model.Config.MaxPositionEmbeddings)
            throw new ArgumentException($"prompt ({longest} tokens) plus max-new-tokens ({options.MaxNewTokens}) exceeds the model's context of {model.Config.MaxPositionEmbeddings}");

        var clock = Stopwatch.StartNew();
        int b = prompts.Count;
        var generated = Enumerable.Range(0, b).Select(_ => new List<int>()).ToArray();
        var firstAt = new double[b];
        var lastAt = new double[b];
        var stopped = new string?[b];
        if (options.MaxNewTokens == 0)
            return generated.Select(g => new GeneratedIds(g, 0, 0, "length")).ToArray();

        using var sampler = new Sampler(options, model.Device);
        using var cache = new KvCache(model.Config.NumHiddenLayers, longest + options.MaxNewTokens);
        using var _ = no_grad();

        // Left padding keeps every prompt's last token in the last column, where the next token is read.
        var ids = new long[b * longest];
        var mask = new long[b * longest];
        for (int s = 0; s < b; s++)
            for (int j = 0; j < prompts[s].Count; j++)
            {
                int col = longest - prompts[s].Count + j;
                ids[s * longest + col] = prompts[s][j];
                mask[s * longest + col] = 1;
            }
        for (int s = 0; s < b; s++)
            for (int col = 0; col < longest - prompts[s].Count; col++) ids[s * longest + col] = padId;

        Tensor input = tensor(ids, b, longest), stepMask = tensor(mask, b, longest);
        for (int step = 0; step < options.MaxNewTokens; step++)
        {
            long[] next;
            using (var scope = NewDisposeScope())
            {
                var logits = model.Forward(input, cache, stepMask, lastOnly: true);
                next = sampler.Next(logits[.., 0]);
            }
            input.Dispose();
            stepMask.Dispose();
            double now = clock.Elapsed.TotalMilliseconds;
            for (int s = 0; s < b; s++)
            {
                if (stopped[s] != null) continue;
                int id = (int)next[s];
                generated[s].Add(id);
                if (step == 0) firstAt[s] = now;
                lastAt[s] = now;
                onToken?.Invoke(s, id);
                if (options.StopOnEos && stopIds.Contains(id)) stopped[s] = "eos";
            }
            if (stopped.All(r => r != null)) break;
            // Finished sequences keep decoding padding (masked out) so the batch stays rectangular.
            input = tensor(next.Select((id, s) => stopped[s] != null ? padId : id).ToArray(), b, 1);
            stepMask = tensor(stopped.Select(r => r != null ? 0L : 1L).ToArray(), b, 1);
        }
        return generated.Select((g, s) => new GeneratedIds(g, firstAt[s], lastAt[s], stopped[s] ?? "length")).ToArray();
    }
}
