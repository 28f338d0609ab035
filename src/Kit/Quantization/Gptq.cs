using System.Diagnostics;
using static TorchSharp.torch;
using Kit.Runtime;

namespace Kit.Quantization;

/// <summary>
/// GPTQ (Frantar et al. 2022, arXiv:2210.17323) as the IST-DASLab reference's <c>fasterquant</c>: columns are
/// quantized one at a time and each one's error is pushed onto the columns not yet quantized through the
/// inverse Hessian, with the updates to later columns batched per block.
/// </summary>
/// <remarks>
/// Symbols as in the reference: W [out, in] the weight being updated, H the Hessian of the layer's inputs,
/// Hinv the upper Cholesky factor of (H + λI)⁻¹, Q the quantized weight, W1/Q1/Err1/Hinv1 their slices for
/// the current block [i1, i2). One deliberate difference: a group whose grid is fitted when GPTQ reaches it
/// is fitted on the weight with every earlier column's update applied, including the current block's
/// pending ones. The reference fits on W, which misses those when a group starts inside a block; with
/// group size a multiple of the block size (128/128 by default) every group starts a block and the two agree,
/// and otherwise Kit's result does not depend on the block size.
/// </remarks>
public static class Gptq
{
    /// <summary>Quantizes one layer's weight with GPTQ.</summary>
    /// <param name="W">Weight [out, in], any float dtype, any device; not changed.</param>
    /// <param name="H">Hessian of the layer's inputs [in, in] (e.g. <see cref="Kit.Calibration.HessianAccumulator.H"/>); not changed.</param>
    /// <param name="args">The grid.</param>
    /// <param name="options">Block size, damping, act-order and precision; defaults when null.</param>
    /// <param name="pruned">
    /// Weights pruned beforehand (bool [out, in], true = pruned), which stay exactly zero: no update reaches
    /// them (llm-compressor's <c>preserve_zeros</c> when GPTQ follows SparseGPT) and a zero quantizes to zero on
    /// every grid. Null keeps no mask.
    /// </param>
    /// <exception cref="HessianNotPositiveDefiniteException">H stayed indefinite with every damping tried.</exception>
    public static CompressionResult Quantize(Tensor W, Tensor H, QuantizationArgs args, GptqOptions? options = null, Tensor? pruned = null)
    {
        args.Validated();
        options = (options ?? new GptqOptions()).Validated(args);
        long start = Stopwatch.GetTimestamp();
        if (W.dim() != 2)
            throw new ArgumentException($"GPTQ needs a weight [out, in], got shape [{string.Join(", ", W.shape)}]", nameof(W));
        long rows = W.shape[0];
        int columns = checked((int)W.shape[1]);
        if (H.dim() != 2 || H.shape[0] != columns || H.shape[1] != columns)
            throw new ArgumentException($"GPTQ needs H [{columns}, {columns}] for a weight [{rows}, {columns}], got [{string.Join(", ", H.shape)}]", nameof(H));
        if (pruned is not null && (pruned.dim() != 2 || pruned.shape[0] != rows || pruned.shape[1] != columns))
            throw new ArgumentException($"GPTQ needs a pruned mask [{rows}, {columns}], got [{string.Join(", ", pruned.shape)}]", nameof(pruned));
        bool grouped = args.Strategy == QuantizationStrategy.Group;
        int groupSize = args.ColumnsPerScale(columns);
        // Columns left over after the last full group form a shorter group, as in the reference.
        int groups = (columns + groupSize - 1) / groupSize;
        bool staticGroups = grouped && (options.StaticGroups || options.ActOrder == ActOrder.Static);
        bool lazyGroups = grouped && !staticGroups;
        var weightDType = W.dtype;
        var dtype = options.ComputeDType;
        // Scales in float32 at least, the precision QuantizedWeight holds, so that dequantizing the stored codes
        // reproduces GPTQ's output whatever the compute precision.
        args = args with { ScaleDType = args.ScaleDType ?? ScalarType.Float32 };

        using var scope = NewDisposeScope();
        W = W.to(dtype, W.device, copy: true);
        H = H.to(dtype, W.device, copy: true);
        // 1 where a weight may move, 0 where it was pruned: every update is multiplied by it.
        var Keep = pruned is null ? null : pruned.to(W.device).logical_not().to_type(dtype);
        if (Keep is not null) W.mul_(Keep);

        // Reference step 1: a per-channel or per-tensor grid comes from the whole weight, dead columns included.
        QuantizationParams? grid = grouped ? null : Quantizer.Fit(W, args);
        HessianInverse.FixDeadColumns(H, W);
        var groupGrids = new List<QuantizationParams>();
        if (staticGroups)
        {
            var all = Quantizer.FitGroups(W, groupSize, args);
            for (int g = 0; g < groups; g++)
                groupGrids.Add(new QuantizationParams(all.Scale.narrow(1, g, 1), all.ZeroPoint.narrow(1, g, 1)));
        }

        Tensor? perm = null;
        long[]? permIndex = null;
        if (options.ActOrder != ActOrder.None)
        {
            // Stable, so that equal diagonals keep their order on every device.
            perm = H.diagonal().sort(descending: true, stable: true).Indices;
            W = W.index_select(1, perm);
            Keep = Keep?.index_select(1, perm);
            H = H.index_select(0, perm).index_select(1, perm);
            permIndex = perm.cpu().data<long>().ToArray();
        }

        var inverse = HessianInverse.Compute(H, options.DampeningFraction, options.MaxDampingRetries);
        var Hinv = inverse.Hinv;
        // One transfer per layer, so that the column loop never waits on the device for a scalar.
        var d = Hinv.diagonal().to_type(ScalarType.Float64).cpu().data<double>().ToArray();

        var Codes = zeros_like(W);
        var Loss = zeros(1, dtype, W.device);
        for (int i1 = 0; i1 < columns; i1 += options.BlockSize)
        {
            using var blockScope = NewDisposeScope();
            int i2 = Math.Min(i1 + options.BlockSize, columns), count = i2 - i1;
            var W1 = W.narrow(1, i1, count).clone();
            var Codes1 = Codes.narrow(1, i1, count);
            var Err1 = zeros_like(W1);
            var Hinv1 = Hinv.narrow(0, i1, count).narrow(1, i1, count);
            var Keep1 = Keep?.narrow(1, i1, count);
            for (int i = 0; i < count; i++)
            {
                int column = i1 + i;
                if (lazyGroups && column % groupSize == 0)
                {
                    grid = Quantizer.Fit(LazyBlockColumns.ForGroup(W, W1, Err1, Hinv, Keep, i1, i, groupSize), args);
                    grid.Scale.MoveToOuterDisposeScope();
                    grid.ZeroPoint.MoveToOuterDisposeScope();
                    groupGrids.Add(grid);
                }
                using var columnScope = NewDisposeScope();
                var p = staticGroups ? groupGrids[(int)((permIndex?[column] ?? column) / groupSize)] : grid!;
                var w = W1.narrow(1, i, 1);
                var code = Quantizer.Quantize(w, p, args);
                Codes1.narrow(1, i, 1).copy_(code);
                var err = (w - Quantizer.Dequantize(code, p)).DivideInPlace(d[column]);
                Err1.narrow(1, i, 1).copy_(err);
                // The reference also moves column i itself (onto q); nothing reads it again.
                if (i + 1 < count && Keep1 is null)
                    W1.narrow(1, i + 1, count - i - 1).addmm_(err, Hinv1.narrow(0, i, 1).narrow(1, i + 1, count - i - 1), 1, -1);
                else if (i + 1 < count)
                    W1.narrow(1, i + 1, count - i - 1).sub_(err.matmul(Hinv1.narrow(0, i, 1).narrow(1, i + 1, count - i - 1)).mul_(Keep1!.narrow(1, i + 1, count - i - 1)));
            }
            // Σ (w − q)² / Hinv[i, i]² / 2
            Loss.add_((Err1 * Err1).sum(), HeldScalars.Of(0.5));
            if (i2 < columns && Keep is null)
                W.narrow(1, i2, columns - i2).addmm_(Err1, Hinv.narrow(0, i1, count).narrow(1, i2, columns - i2), 1, -1);
            else if (i2 < columns)
                W.narrow(1, i2, columns - i2).sub_(Err1.matmul(Hinv.narrow(0, i1, count).narrow(1, i2, columns - i2)).mul_(Keep!.narrow(1, i2, columns - i2)));
        }

        if (perm is not null)
            Codes = Codes.index_select(1, perm.argsort());
        var visited = QuantizedWeight.InOrderGroups(columns, groupSize, W.device);
        // Act-order groups are formed in visiting order: g_idx[perm[j]] = j / group size (AutoGPTQ desc_act).
        var gIdx = options.ActOrder == ActOrder.Group ? zeros_like(visited).index_copy_(0, perm!, visited) : visited;
        var scale = grouped ? cat(groupGrids.Select(g => g.Scale).ToList(), 1) : grid!.Scale;
        var zeroPoint = grouped ? cat(groupGrids.Select(g => g.ZeroPoint).ToList(), 1) : grid!.ZeroPoint;
        // Q from the codes, each column with its group's grid: the values the column loop snapped to.
        var Q = Quantizer.Dequantize(Codes, grouped
            ? new QuantizationParams(scale.index_select(1, gIdx), zeroPoint.index_select(1, gIdx))
            : grid!);
        var quantized = QuantizedWeight.FromGridCodes(Codes, scale.to_type(ScalarType.Float32), zeroPoint, gIdx.to_type(ScalarType.Int32), args);
        // Rounded through float32 as QuantizedWeight.Dequantize computes it, so that the two agree in bf16/fp16 too.
        var weight = weightDType == ScalarType.Float64 ? Q.to_type(ScalarType.Float64) : Q.to_type(ScalarType.Float32).to_type(weightDType);
        double loss = Loss.to_type(ScalarType.Float64).item<double>();
        return new CompressionResult(weight, quantized, null, loss, inverse.DampeningFraction, Stopwatch.GetElapsedTime(start))
            .MoveToOuterDisposeScope();
    }
}
