using Kit.Models;
using static TorchSharp.torch;

namespace Kit.Evaluation;

/// <summary>How large each input channel of one Linear gets on a text: the outliers that AWQ, SmoothQuant and rotations deal with.</summary>
/// <param name="Model">The model measured, as given.</param>
/// <param name="Module">The Linear whose inputs were measured (model.layers.N.self_attn.q_proj, ...).</param>
/// <param name="MaxAbs">The largest |x| of each input channel over every token.</param>
public sealed record ActivationProfile(string Model, string Module, double[] MaxAbs)
{
    /// <summary>The largest channel's maximum ÷ the median channel's: about 1 when no channel stands out.</summary>
    public double OutlierRatio
    {
        get
        {
            var sorted = MaxAbs.Order().ToArray();
            double median = sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
            return median > 0 ? sorted[^1] / median : double.PositiveInfinity;
        }
    }

    /// <summary>
    /// Runs <paramref name="text"/> through <paramref name="model"/> (a folder, hub id or name <see cref="LanguageModel.Load"/>
    /// takes) in at most <paramref name="windows"/> windows of <paramref name="seqLen"/> tokens and records the inputs of
    /// <paramref name="module"/>. A smoothed or rotated model's Linears read other inputs than the original's: that is
    /// what the profile shows.
    /// </summary>
    /// <exception cref="ArgumentException">The model has no Linear called <paramref name="module"/>.</exception>
    public static ActivationProfile Measure(string model, string module, string text, int seqLen = 256, int windows = 4)
    {
        using var lm = LanguageModel.Load(model, new ModelLoadOptions { ExactActivations = true });
        var linear = lm.Model.Linears().Where(l => l.Name == module).Select(l => l.Module).FirstOrDefault()
            ?? throw new ArgumentException($"{model} has no Linear '{module}' (e.g. model.layers.0.self_attn.q_proj)", nameof(module));
        var tokens = lm.Tokenizer.Encode(text);
        int length = Math.Min(seqLen, lm.Config.MaxPositionEmbeddings);
        if (tokens.Count < 2) throw new ArgumentException("the text is too short to measure activations on", nameof(text));
        Tensor? max = null;
        var hook = linear.register_forward_pre_hook((_, input) =>
        {
            using var scope = NewDisposeScope();
            var current = input.abs().reshape(-1, input.shape[^1]).amax(new long[] { 0 }).to_type(ScalarType.Float64);
            var next = max is null ? current : maximum(max, current);
            max?.Dispose();
            max = next.DetachFromDisposeScope();
            return null!;
        });
        try
        {
            using var _ = no_grad();
            for (int start = 0, w = 0; start < tokens.Count - 1 && w < windows; start += length, w++)
            {
                using var scope = NewDisposeScope();
                var ids = tensor(tokens.Skip(start).Take(length).Select(t => (long)t).ToArray(), device: lm.Model.Device).unsqueeze(0);
                lm.Model.Forward(ids);
            }
        }
        finally
        {
            hook.remove();
        }
        using (max) return new ActivationProfile(model, module, max!.cpu().data<double>().ToArray());
    }
}
