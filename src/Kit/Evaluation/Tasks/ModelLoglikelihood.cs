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
    /// <exception cref="ArgumentException">
    /// The batch size or context length is below 1, or <see cref="LoglikelihoodOptions.AddBosToken"/> is true for a
    /// tokenizer without a BOS token.
    /// </exception>
    public ModelLoglikelihood(LanguageModel model, LoglikelihoodOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        _options = options ?? new LoglikelihoodOptions();
        if (_options.BatchSize < 1) throw new ArgumentException($"batch size must be at least 1, got {_options.BatchSize}", nameof(options));
        if (_options.MaxLength is < 2) throw new ArgumentException($"max length must be at least 2, got {_options.MaxLength}", nameof(options));
        if (_options.AddBosToken == true && model.Tokenizer.BosId is null)
            throw new ArgumentException("add_bos_token is true, but the model's tokenizer has no BOS token", nameof(options));
        _model = model;
    }

    /// <summary>The most tokens one forward pass reads.</summary>
    public int MaxLength => _options.MaxLength ?? _model.Config.MaxPositionEmbeddings;

    /// <summary>Whether a non-empty context starts with BOS: <see cref="LoglikelihoodOptions.AddBosToken"/>, else the tokenizer's configuration.</summary>
    public bool AddsBos => _options.AddBosToken ?? _model.Tokenizer.AddsBosToken;

    /// <summary>The BOS policy as the results table records it (<see cref="LoglikelihoodOptions.Describe"/>).</summary>
    public string BosPolicy => LoglikelihoodOptions.Describe(_options.AddBosToken, AddsBos);

    /// <summary>
    /// The context and continuation tokens of <paramref name="request"/> as <c>HFLM</c> makes them
    /// (<c>TemplateLM.loglikelihood</c>, <c>_encode_pair</c>): trailing whitespace moves from the context to the
    /// continuation; the context is encoded alone and with the continuation, each with the tokenizer's special
    /// tokens under the BOS policy, and the continuation's tokens are the whole's after the context's (so BOS, when
    /// added, leads the context only, and a merge across the boundary is scored as the tokenizer really splits the
    /// text). An empty context becomes the prefix token, BOS (else EOS), whatever the policy, before the continuation
    /// encoded without special tokens, unless the continuation already starts with that token.
    /// </summary>
    public (IReadOnlyList<int> Context, IReadOnlyList<int> Continuation) Encode(LoglikelihoodRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var tokenizer = _model.Tokenizer;
        string context = request.Context, continuation = request.Continuation;
        string trimmed = context.TrimEnd();
        if (trimmed.Length < context.Length) (context, continuation) = (trimmed, context[trimmed.Length..] + continuation);
        var contextIds = context.Length == 0 ? [] : Tokens(context);
        if (contextIds.Count == 0)
        {
            int prefix = PrefixId ?? throw new InvalidOperationException("the tokenizer has neither BOS nor EOS to stand for an empty context");
            var ids = tokenizer.Encode(continuation, addSpecialTokens: false);
            return ids.Count > 0 && ids[0] == prefix ? (ids.Take(1).ToList(), ids.Skip(1).ToList()) : ([prefix], ids);
        }
        var whole = Tokens(context + continuation);
        return (contextIds, whole.Skip(contextIds.Count).ToList());
    }

    /// <summary>lm-eval's <c>prefix_token_id</c>: BOS, else the first EOS.</summary>
    int? PrefixId => _model.Tokenizer.BosId ?? (_model.Tokenizer.EosIds.Count > 0 ? _model.Tokenizer.EosIds[0] : null);

    /// <summary>
    /// <c>HFLM.tok_encode</c>: special tokens as the policy says, and none for text that already starts with the
    /// prefix token's text (<c>has_bos_prefix</c>), so that a spelled-out BOS is not doubled.
    /// </summary>
    IReadOnlyList<int> Tokens(string text)
    {
        var tokenizer = _model.Tokenizer;
        if (PrefixId is { } prefix && tokenizer.TokenToString(prefix) is { Length: > 0 } spelled && text.StartsWith(spelled, StringComparison.Ordinal))
            return tokenizer.Encode(text, addSpecialTokens: false);
        return _options.AddBosToken switch
        {
            null => tokenizer.Encode(text),
            false => tokenizer.Encode(text, addSpecialTokens: false),
            // add_bos_token=True rebuilds the tokenizer's template with BOS first; the rest of it (an EOS) stays.
            true => tokenizer.AddsBosToken ? tokenizer.Encode(text) : [tokenizer.BosId!.Value, .. tokenizer.Encode(text)],
        };
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
