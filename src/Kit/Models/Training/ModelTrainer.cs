using Kit.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Kit.Models.Training;

/// <summary>
/// Trains a <see cref="CausalLM"/> from scratch on a token stream: GPT-2 style initialisation, AdamW,
/// next-token cross-entropy on random windows. Used to build Kit's embedded default model.
/// </summary>
public static class ModelTrainer
{
    /// <summary>Initialises every weight of <paramref name="model"/>: N(0, 0.02), residual outputs scaled by 1/√(2·layers), norms 1.</summary>
    public static void Initialize(CausalLM model, long seed)
    {
        using var _ = no_grad();
        var generator = new Generator((ulong)seed, model.Device);
        double residualStd = 0.02 / Math.Sqrt(2.0 * model.Config.NumHiddenLayers);
        foreach (var (name, p) in model.named_parameters())
        {
            if (name.EndsWith("norm.weight")) p.fill_(HeldScalars.Of(1.0));
            else if (name.EndsWith(".bias")) p.zero_();
            else p.normal_(0, name.EndsWith("o_proj.weight") || name.EndsWith("down_proj.weight") ? residualStd : 0.02, generator);
        }
    }

    /// <summary>
    /// Trains on <paramref name="train"/> and reports held-out loss on <paramref name="validation"/>.
    /// Returns the final validation loss.
    /// </summary>
    public static double Train(CausalLM model, IReadOnlyList<int> train, IReadOnlyList<int> validation, TrainingOptions options,
        IProgress<TrainingProgress>? progress = null)
    {
        if (train.Count <= options.SeqLen + 1 || validation.Count <= options.SeqLen + 1)
            throw new ArgumentException($"training and validation text must each be longer than seq-len {options.SeqLen} tokens");
        // A tied head is the embedding itself: list it once, or AdamW would step it twice.
        var named = model.named_parameters().Where(p => !(model.Config.TieWordEmbeddings && p.name == "lm_head.weight")).ToList();
        foreach (var (_, p) in named) p.requires_grad = true;
        var decay = named.Where(p => p.parameter.dim() >= 2).Select(p => p.parameter).ToList();
        var noDecay = named.Where(p => p.parameter.dim() < 2).Select(p => p.parameter).ToList();
        var optimizer = optim.AdamW(new[]
        {
            new TorchSharp.Modules.AdamW.ParamGroup(decay, new TorchSharp.Modules.AdamW.Options { weight_decay = options.WeightDecay }),
            new TorchSharp.Modules.AdamW.ParamGroup(noDecay, new TorchSharp.Modules.AdamW.Options { weight_decay = 0 }),
        }, lr: options.LearningRate, beta1: 0.9, beta2: 0.95);

        var rng = new Random((int)options.Seed);
        var trainIds = train.Select(i => (long)i).ToArray();
        double lastValidation = double.NaN;
        model.train();
        try
        {
            for (int step = 1; step <= options.Steps; step++)
            {
                double lr = LearningRateAt(step, options);
                foreach (var g in optimizer.ParamGroups) g.LearningRate = lr;
                double loss;
                using (var scope = NewDisposeScope())
                {
                    var (x, y) = Batch(trainIds, options.BatchSize, options.SeqLen, rng, model.Device);
                    var logits = model.Forward(x);
                    var ce = nn.functional.cross_entropy(logits.view(-1, logits.shape[^1]), y.view(-1));
                    optimizer.zero_grad();
                    ce.backward();
                    nn.utils.clip_grad_norm_(named.Select(p => p.parameter), 1.0);
                    optimizer.step();
                    loss = ce.item<float>();
                }
                double? validationLoss = null;
                if (step % options.EvalEvery == 0 || step == options.Steps)
                    validationLoss = lastValidation = ValidationLoss(model, validation, options.SeqLen);
                progress?.Report(new TrainingProgress(step, options.Steps, loss, validationLoss, lr));
            }
        }
        finally
        {
            foreach (var (_, p) in named) p.requires_grad = false;
            model.eval();
        }
        return lastValidation;
    }

    /// <summary>Linear warm-up to the peak rate, then cosine decay to the minimum.</summary>
    public static double LearningRateAt(int step, TrainingOptions o)
    {
        if (step <= o.WarmupSteps) return o.LearningRate * step / Math.Max(1, o.WarmupSteps);
        double progress = (step - o.WarmupSteps) / (double)Math.Max(1, o.Steps - o.WarmupSteps);
        return o.MinLearningRate + 0.5 * (o.LearningRate - o.MinLearningRate) * (1 + Math.Cos(Math.PI * progress));
    }

    /// <summary>Mean next-token cross-entropy over consecutive non-overlapping windows of <paramref name="tokens"/>.</summary>
    public static double ValidationLoss(CausalLM model, IReadOnlyList<int> tokens, int seqLen)
    {
        using var _ = no_grad();
        double total = 0;
        long count = 0;
        for (int begin = 0; begin + seqLen + 1 <= tokens.Count; begin += seqLen)
        {
            using var scope = NewDisposeScope();
            var ids = tensor(tokens.Skip(begin).Take(seqLen + 1).Select(i => (long)i).ToArray(), device: model.Device);
            var logits = model.Forward(ids[..^1].unsqueeze(0))[0];
            total += nn.functional.cross_entropy(logits, ids[1..], reduction: nn.Reduction.Sum).item<float>();
            count += seqLen;
        }
        return total / count;
    }

    static (Tensor X, Tensor Y) Batch(long[] ids, int batch, int seqLen, Random rng, Device device)
    {
        var x = new long[batch * seqLen];
        var y = new long[batch * seqLen];
        for (int b = 0; b < batch; b++)
        {
            int start = rng.Next(0, ids.Length - seqLen - 1);
            Array.Copy(ids, start, x, b * seqLen, seqLen);
            Array.Copy(ids, start + 1, y, b * seqLen, seqLen);
        }
        return (tensor(x, batch, seqLen).to(device), tensor(y, batch, seqLen).to(device));
    }
}
