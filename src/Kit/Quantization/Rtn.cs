using static TorchSharp.torch;

namespace Kit.Quantization;

/// <summary>Round-to-nearest: every group fitted on its own values and snapped, with no error compensation.</summary>
public static class Rtn
{
    /// <summary>Quantizes <paramref name="w"/> [out, in] onto the grid of <paramref name="args"/>.</summary>
    public static QuantizedWeight Quantize(Tensor w, QuantizationArgs args)
    {
        args.Validated();
        using var scope = NewDisposeScope();
        long rows = w.shape[0], columns = w.shape[1];
        int perScale = args.ColumnsPerScale(columns);
        // A last, shorter group covers the columns left over (as in the GPTQ reference and compressed-tensors).
        int groups = (int)((columns + perScale - 1) / perScale);
        var codes = new List<Tensor>();
        var scales = new List<Tensor>();
        var zeros = new List<Tensor>();
        for (int g = 0; g < groups; g++)
        {
            var block = w[.., (g * perScale)..(int)Math.Min(columns, (g + 1) * perScale)];
            var p = Quantizer.Fit(block, args);
            codes.Add(Quantizer.Quantize(block, p, args));
            scales.Add(p.Scale);
            zeros.Add(p.ZeroPoint);
        }
        var gIdx = (arange(columns, ScalarType.Int64, w.device) / perScale).to_type(ScalarType.Int32);
        return new QuantizedWeight(cat(codes, 1).to_type(ScalarType.Int8), cat(scales, 1).to_type(ScalarType.Float32),
            cat(zeros, 1).to_type(ScalarType.Int8), gIdx, args).MoveToOuterDisposeScope();
    }
}
