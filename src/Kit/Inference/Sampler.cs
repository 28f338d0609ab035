using static TorchSharp.torch;
using Kit.Runtime;

namespace Kit.Inference;

/// <summary>Picks next tokens from logits: argmax, or temperature / top-k / top-p sampling as Hugging Face does.</summary>
public sealed class Sampler : IDisposable
{
    readonly GenerationOptions options;
    readonly Generator? generator;

    /// <summary>Creates a sampler whose random state lives on <paramref name="device"/>, seeded from the options.</summary>
    public Sampler(GenerationOptions options, Device device)
    {
        options.Validate();
        this.options = options;
        if (options.Temperature > 0) generator = new Generator((ulong)options.Seed, device);
    }

    /// <summary>Next token ids [B] for logits [B, vocab].</summary>
    public long[] Next(Tensor logits)
    {
        using var scope = NewDisposeScope();
        var scores = logits.to_type(ScalarType.Float32);
        if (generator is null) return scores.argmax(-1).cpu().data<long>().ToArray();

        scores = scores.DividedBy(options.Temperature);
        if (options.TopK > 0 && options.TopK < scores.shape[^1])
        {
            var kth = scores.topk(options.TopK, -1).values[.., ^1..];
            scores = scores.masked_fill(scores.lt(kth), HeldScalars.Of(double.NegativeInfinity));
        }
        if (options.TopP < 1)
        {
            // Drop the least likely tokens whose total probability stays within 1 − p; the most likely always stays.
            var (sorted, order) = scores.sort(-1, descending: false);
            var cumulative = sorted.softmax(-1).cumsum(-1);
            var drop = cumulative.IsAtMost(1 - options.TopP);
            drop[.., ^1] = tensor(false);
            scores = scores.masked_fill(drop.scatter(-1, order, drop), HeldScalars.Of(double.NegativeInfinity));
        }
        var probs = scores.softmax(-1);
        return multinomial(probs, 1, generator: generator).squeeze(-1).cpu().data<long>().ToArray();
    }

    /// <summary>Frees the random generator.</summary>
    public void Dispose() => generator?.Dispose();
}
