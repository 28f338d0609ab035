using static TorchSharp.torch;

namespace Kit.Quantization;

/// <summary>Round-to-nearest: every group fitted on its own values and snapped, with no error compensation.</summary>
public static class Rtn
{
    /// <summary>Quantizes <paramref name="w"/> [out, in] onto the grid of <paramref name="args"/>.</summary>
    public static QuantizedWeight Quantize(Tensor w, QuantizationArgs args)
    {
        using var scope = NewDisposeScope();
        long rows = w.shape[0], columns = w.shape[1];
        int groups = args.ScalesPerRow(columns);
        int perScale = args.ColumnsPerScale(columns);
        var gIdx = QuantizedWeight.InOrderGroups(columns, perScale, w.device).to_type(ScalarType.Int32);
        if (groups > 1 && columns == (long)groups * perScale)
        {
            // Whole groups: each group of each row becomes a row of its own, so one fit and one snap cover the
            // matrix (the same per-row arithmetic as group by group, without a copy of every group).
            var rowsOfGroups = w.contiguous().view(rows * groups, perScale);
            var fit = Quantizer.Fit(rowsOfGroups, args);
            var snapped = Quantizer.Quantize(rowsOfGroups, fit, args).view(rows, columns);
            return QuantizedWeight.FromGridCodes(snapped, fit.Scale.view(rows, groups), fit.ZeroPoint.view(rows, groups), gIdx, args)
                .MoveToOuterDisposeScope();
        }
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
        return QuantizedWeight.FromGridCodes(cat(codes, 1), cat(scales, 1), cat(zeros, 1), gIdx, args).MoveToOuterDisposeScope();
    }
}
