using Kit.Models;
using Kit.Quantization;
using Kit.Quantization.Transforms;
using static TorchSharp.torch;

namespace Kit.Calibration.Transforms;

/// <summary>What smoothing did to one mapping of one layer.</summary>
/// <param name="Layer">The decoder layer's index.</param>
/// <param name="Smooth">The operation the scales were folded into (model.layers.N.input_layernorm, ...).</param>
/// <param name="Ratio">AWQ's chosen α (null: no candidate beat the unscaled weights), or SmoothQuant's strength.</param>
/// <param name="Error">AWQ's output error with the chosen scales (tr ΔHΔᵀ summed over the Linears); NaN for SmoothQuant.</param>
/// <param name="UnscaledError">The same error without scales; NaN for SmoothQuant.</param>
public sealed record SmoothingReport(int Layer, string Smooth, double? Ratio, double Error, double UnscaledError);

/// <summary>
/// Applies AWQ or SmoothQuant to one decoder layer of the pipeline: captures the statistics of each mapping's inputs in
/// one calibration pass, computes the scales (<see cref="AwqScaleSearch"/>, <see cref="SmoothQuantScales"/>) and folds
/// them into the layer, so that it computes the same function (up to rounding) before its Linears are quantized.
/// </summary>
internal static class LayerSmoothing
{
    /// <summary>An operation whose output channels the scales divide, and the Linears reading that output.</summary>
    sealed record Mapping(string Smooth, string[] Balance);

    // llm-compressor's Llama mappings (AWQ_MAPPING_REGISTRY["LlamaForCausalLM"], DEFAULT_SMOOTHQUANT_MAPPINGS).
    static readonly Mapping[] AwqMappings =
    [
        new("input_layernorm", ["self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj"]),
        new("self_attn.v_proj", ["self_attn.o_proj"]),
        new("post_attention_layernorm", ["mlp.gate_proj", "mlp.up_proj"]),
        new("mlp.up_proj", ["mlp.down_proj"]),
    ];

    static readonly Mapping[] SmoothQuantMappings =
    [
        new("input_layernorm", ["self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj"]),
        new("post_attention_layernorm", ["mlp.gate_proj", "mlp.up_proj"]),
    ];

    /// <summary>
    /// Smooths <paramref name="layer"/> (index <paramref name="index"/>, names under <paramref name="prefix"/>):
    /// <paramref name="runLayer"/> runs the calibration inputs through it once. A mapping is skipped where none of its
    /// Linears is quantized by <paramref name="recipe"/>, or where the smoothed operation's outputs are not the
    /// Linears' inputs one for one (v_proj → o_proj under grouped-query attention), as llm-compressor skips it.
    /// </summary>
    public static IReadOnlyList<SmoothingReport> Apply(DecoderLayer layer, int index, string prefix, CompressionRecipe recipe,
        QuantizationArgs? grid, Action runLayer)
    {
        var options = recipe.Smoothing ?? throw new ArgumentException("the recipe has no smoothing step", nameof(recipe));
        bool awq = options is AwqOptions;
        if (awq && grid is null) throw new ArgumentException("AWQ searches its scales on the weight grid: give a quantization scheme");
        var mappings = (awq ? AwqMappings : SmoothQuantMappings)
            .Where(m => m.Balance.Any(b => recipe.Quantizes(prefix + b)) && Fits(layer, m)).ToList();
        if (mappings.Count == 0) return [];
        using var scope = NewDisposeScope();
        var device = Linear(layer, mappings[0].Balance[0]).Weight.device;
        var statistics = new List<ChannelStatistics>();
        var hessians = new List<HessianAccumulator?>();
        var hooks = new List<Action>();
        try
        {
            foreach (var mapping in mappings)
            {
                var first = Linear(layer, mapping.Balance[0]);
                long inputs = first.Weight.shape[1];
                var stats = new ChannelStatistics(inputs, device);
                var hessian = awq ? new HessianAccumulator(inputs, device) : null;
                statistics.Add(stats);
                hessians.Add(hessian);
                var hook = first.register_forward_pre_hook((_, input) =>
                {
                    stats.Add(input);
                    hessian?.Add(input);
                    return null!;
                });
                hooks.Add(hook.remove);
            }
            runLayer();
            foreach (var remove in hooks) remove();
            hooks.Clear();
            var reports = new List<SmoothingReport>();
            for (int m = 0; m < mappings.Count; m++)
            {
                var mapping = mappings[m];
                var balance = mapping.Balance.Select(b => Linear(layer, b)).ToList();
                Tensor scales;
                if (options is AwqOptions awqOptions)
                {
                    var quantized = mapping.Balance.Where(b => recipe.Quantizes(prefix + b)).Select(b => (Tensor)Linear(layer, b).Weight).ToList();
                    var result = AwqScaleSearch.Search(quantized, hessians[m]!.H, statistics[m].MeanAbs, grid!, awqOptions);
                    scales = result.Scales;
                    reports.Add(new SmoothingReport(index, prefix + mapping.Smooth, result.Ratio, result.Error, result.UnscaledError));
                }
                else
                {
                    var smoothQuant = (SmoothQuantOptions)options;
                    scales = SmoothQuantScales.Compute(balance.Select(l => (Tensor)l.Weight).ToList(), statistics[m].Min, statistics[m].Max, smoothQuant);
                    reports.Add(new SmoothingReport(index, prefix + mapping.Smooth, smoothQuant.Strength, double.NaN, double.NaN));
                }
                Fold(layer, mapping, balance, scales);
            }
            return reports;
        }
        finally
        {
            foreach (var remove in hooks) remove();
            foreach (var s in statistics) s.Dispose();
            foreach (var h in hessians) h?.Dispose();
        }
    }

    // Divides the smoothed operation's output channels by s and multiplies the Linears' input columns by s.
    static void Fold(DecoderLayer layer, Mapping mapping, IReadOnlyList<Linear> balance, Tensor scales)
    {
        foreach (var linear in balance)
            linear.Weight.set_(linear.Weight * scales.to(linear.Weight.device).to_type(linear.Weight.dtype).unsqueeze(0));
        switch (mapping.Smooth)
        {
            case "input_layernorm": Divide(layer.InputLayerNorm.Weight, scales); break;
            case "post_attention_layernorm": Divide(layer.PostAttentionLayerNorm.Weight, scales); break;
            default:
                var smooth = Linear(layer, mapping.Smooth);
                smooth.Weight.set_(smooth.Weight / scales.to(smooth.Weight.device).to_type(smooth.Weight.dtype).unsqueeze(1));
                if (smooth.Bias is { } bias) Divide(bias, scales);
                break;
        }
    }

    static void Divide(Tensor vector, Tensor scales) => vector.set_(vector / scales.to(vector.device).to_type(vector.dtype));

    static bool Fits(DecoderLayer layer, Mapping mapping) =>
        mapping.Smooth.EndsWith("layernorm", StringComparison.Ordinal)
        || mapping.Balance.All(b => Linear(layer, b).Weight.shape[1] == Linear(layer, mapping.Smooth).Weight.shape[0]);

    static Linear Linear(DecoderLayer layer, string name) => DenseLinears.Of(layer, name);
}
