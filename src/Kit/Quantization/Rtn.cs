using static TorchSharp.torch;

namespace Kit.Quantization;

/// <summary>Round-to-nearest: every group fitted on its own values and snapped, with no error compensation.</summary>
public static class Rtn
{
    /// <summary>Quantizes <paramref name="w"/> [out, in] onto the grid of <paramref name="args"/>.</summary>
    public static QuantizedWeight Quantize(Tensor w, QuantizationArgs args)
    {
        using var scope = NewDisposeScope();
        long columns = w.shape[1];
        int groups = args.ScalesPerRow(columns);
        int perScale = args.ColumnsPerScale(columns);
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
        return QuantizedWeight.FromGridCodes(cat(codes, 1), cat(scales, 1), cat(zeros, 1), gIdx, args).MoveToOuterDisposeScope();
    }
}
