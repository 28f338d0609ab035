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
        if (groups == 1)
        {
            var grid = Quantizer.Fit(w, args);
            return QuantizedWeight.FromGridCodes(Quantizer.Quantize(w, grid, args), grid.Scale, grid.ZeroPoint, gIdx, args).MoveToOuterDisposeScope();
        }
        var grids = Quantizer.FitGroups(w, perScale, args);
        if (columns == (long)groups * perScale)
        {
            // Whole groups: each group of each row becomes a row of its own, so one snap covers the matrix (the same
            // per-row arithmetic as group by group, without a copy of every group).
            var rowsOfGroups = w.contiguous().view(rows * groups, perScale);
            var snapped = Quantizer.Quantize(rowsOfGroups, new QuantizationParams(grids.Scale.reshape(-1, 1), grids.ZeroPoint.reshape(-1, 1)), args);
            return QuantizedWeight.FromGridCodes(snapped.view(rows, columns), grids.Scale, grids.ZeroPoint, gIdx, args).MoveToOuterDisposeScope();
        }
        var codes = Enumerable.Range(0, groups).Select(g => Quantizer.Quantize(
            w.narrow(1, (long)g * perScale, Math.Min(perScale, columns - (long)g * perScale)),
            new QuantizationParams(grids.Scale.narrow(1, g, 1), grids.ZeroPoint.narrow(1, g, 1)), args)).ToList();
        return QuantizedWeight.FromGridCodes(cat(codes, 1), grids.Scale, grids.ZeroPoint, gIdx, args).MoveToOuterDisposeScope();
    }
}
