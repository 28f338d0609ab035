using Kit.Models;
using static TorchSharp.torch;

namespace Kit.Evaluation.Tasks;

/// <summary>
/// Log-likelihoods from a <see cref="LanguageModel"/>, tokenized and windowed as lm-evaluation-harness's
/// <c>HFLM</c> does (<c>lm_eval/models/huggingface.py</c>: <c>_encode_pair</c>, <c>_loglikelihood_tokens</c>).
/// </summary>
public sealed class ModelLoglikelihood : ILoglikelihoodSource
{
    readonly LanguageModel _model;
    readonly LoglikelihoodOptions _options;

    /// <summary>Wraps <paramref name="model"/>; it stays owned by the caller.</summary>
    /// <exception cref="ArgumentException">The batch size or context length is below 1.</exception>
    public ModelLoglikelihood(LanguageModel model, LoglikelihoodOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        _options = options ?? new LoglikelihoodOptions();
        if (_options.BatchSize < 1) throw new ArgumentException($"batch size must be at least 1, got {_options.BatchSize}", nameof(options));
        if (_options.MaxLength is < 2) throw new ArgumentException($"max length must be at least 2, got {_options.MaxLength}", nameof(options));
        _model = model;
    }

    /// <summary>The most tokens one forward pass reads.</summary>
    public int MaxLength => _options.MaxLength ?? _model.Config.MaxPositionEmbeddings;

    /// <summary>
    /// The context and continuation tokens of <paramref name="request"/> as <c>HFLM._encode_pair</c> makes them:
    /// trailing whitespace moves from the context to the continuation, the continuation's tokens are those of
    /// context + continuation after the context's own tokens (so a merge across the boundary is scored as the
    /// tokenizer really splits the text), and an empty context becomes the BOS (else EOS) token.
    /// </summary>
    public (IReadOnlyList<int> Context, IReadOnlyList<int> Continuation) Encode(LoglikelihoodRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var tokenizer = _model.Tokenizer;
        string context = request.Context, continuation = request.Continuation;
        string trimmed = context.TrimEnd();
        if (trimmed.Length < context.Length) (context, continuation) = (trimmed, context[trimmed.Length..] + continuation);
        var contextIds = context.Length == 0 ? [] : tokenizer.Encode(context, _options.AddBos);
        if (contextIds.Count == 0)
        {
            int prefix = tokenizer.BosId ?? (tokenizer.EosIds.Count > 0 ? tokenizer.EosIds[0]
                : throw new InvalidOperationException("the tokenizer has neither BOS nor EOS to stand for an empty context"));
            return ([prefix], tokenizer.Encode(continuation, addSpecialTokens: false));
        }
        var whole = tokenizer.Encode(context + continuation, _options.AddBos);
        return (contextIds, whole.Skip(contextIds.Count).ToList());
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">A continuation has more tokens than <see cref="MaxLength"/>.</exception>
    public IReadOnlyList<Loglikelihood> Score(IReadOnlyList<LoglikelihoodRequest> requests, IProgress<double>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(requests);
        var windows = new (int[] Input, int[] Continuation)[requests.Count];
        for (int i = 0; i < requests.Count; i++)
        {
            var (context, continuation) = Encode(requests[i]);
            if (continuation.Count > MaxLength)
                throw new ArgumentException($"request {i}: the continuation has {continuation.Count} tokens, more than the context length {MaxLength}", nameof(requests));
            // The last MaxLength + 1 tokens, all but the last fed to the model: context is cut from the left.
            var tokens = context.Concat(continuation).ToArray();
            var window = tokens[Math.Max(0, tokens.Length - (MaxLength + 1))..];
            windows[i] = (window[..^1], [.. continuation]);
        }

        var order = Enumerable.Range(0, requests.Count).OrderByDescending(i => windows[i].Input.Length).ThenBy(i => i).ToArray();
        var results = new Loglikelihood[requests.Count];
        using var _ = no_grad();
        for (int start = 0; start < order.Length; start += _options.BatchSize)
        {
            var batch = order[start..Math.Min(order.Length, start + _options.BatchSize)];
            var answers = ScoreBatch(batch.Select(i => windows[i]).ToArray());
            for (int k = 0; k < batch.Length; k++) results[batch[k]] = answers[k];
            progress?.Report(Math.Min(order.Length, start + _options.BatchSize) / (double)order.Length);
        }
        return results;
    }

    /// <summary>
    /// One forward pass over right-padded inputs. Causal attention keeps real tokens from seeing the padding after
    /// them, so no mask is needed and each row's logits equal an unpadded pass (HFLM pads causal models the same way).
    /// </summary>
    Loglikelihood[] ScoreBatch((int[] Input, int[] Continuation)[] rows)
    {
        using var scope = NewDisposeScope();
        var model = _model.Model;
        int width = rows.Max(r => r.Input.Length);
        var ids = new long[rows.Length * width];
        for (int b = 0; b < rows.Length; b++)
            for (int t = 0; t < rows[b].Input.Length; t++) ids[b * width + t] = rows[b].Input[t];
        var logits = model.Forward(tensor(ids, [rows.Length, width], device: model.Device));       // [B, T, V]
        var wide = model.DType == ScalarType.Float64 ? ScalarType.Float64 : ScalarType.Float32;

        var answers = new Loglikelihood[rows.Length];
        for (int b = 0; b < rows.Length; b++)
        {
            var (input, continuation) = rows[b];
            if (continuation.Length == 0) { answers[b] = new Loglikelihood(0, true); continue; }
            // Position t predicts token t + 1, so the continuation is predicted by the input's last |continuation| positions.
            var logProbs = logits[b, (input.Length - continuation.Length)..input.Length].to_type(wide).log_softmax(-1);   // [C, V]
            var targets = tensor(continuation.Select(t => (long)t).ToArray(), device: model.Device);
            double logProb = logProbs.gather(-1, targets.unsqueeze(-1)).sum().to_type(ScalarType.Float64).item<double>();
            bool greedy = logProbs.argmax(-1).eq(targets).all().item<bool>();
            answers[b] = new Loglikelihood(logProb, greedy);
        }
        return answers;
    }
}
