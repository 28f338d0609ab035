using System.Diagnostics;
using static TorchSharp.torch;
using Kit.Runtime;

namespace Kit.Quantization;

/// <summary>
/// SparseGPT (Frantar &amp; Alistarh 2023), line by line as the reference <c>sparsegpt.py::fasterprune</c>:
/// with Hinv the upper Cholesky factor of H⁻¹, columns are pruned left to right and each pruned weight's
/// error err = (w − q) / Hinv[i,i] is pushed onto the columns not yet processed (the OBS update),
/// within a block at once and onto later blocks lazily (W[:, i2:] −= Err1 · Hinv[i1:i2, i2:]).
/// Optionally quantizes the kept weights in the same pass (the reference's <c>--wbits</c>).
/// Tensors are created on W's device; the work is float32, or float64 when W or H is float64.
/// </summary>
public static class SparseGpt
{
    // Tries at 10×, 100×, ... the asked damping before giving up (as GPTQ).
    const int MaxDampingRetries = 5;

    /// <summary>
    /// Prunes <paramref name="W"/> [out, in] given the Hessian <paramref name="H"/> [in, in] of its inputs.
    /// <para>Unstructured: in every block the mask is chosen on the already-compensated block by the OBS
    /// score w² / Hinv[i,i]², as tmp ≤ the int(numel · sparsity)-th smallest score; like the reference
    /// this prunes int(numel · sparsity) + 1 weights per block when scores are distinct (sparsity 0
    /// prunes nothing and 1 prunes all, where the reference would prune one weight or fail).
    /// N:M: at every M-th column the N lowest scores of each row among the next M columns.</para>
    /// <para>With <paramref name="quantize"/>, each column is quantized after masking (joint mode):
    /// channel and tensor grids are fitted on the whole W first, as the reference does; group grids
    /// are fitted when their first column comes up, on the weights as compensated so far. Min-max
    /// ranges always contain 0 and zero points are integer codes, so a pruned 0 stays exactly 0 on
    /// symmetric and asymmetric grids alike; pruned entries are still reset to 0 after quantization so
    /// that the output never depends on that. Groups smaller than a block are fitted before the
    /// compensation of their own pruned columns moves the rest, so the advantage over pruning then
    /// RTN shrinks with the group size.</para>
    /// </summary>
    /// <param name="W">Weight [out, in].</param>
    /// <param name="H">Hessian [in, in] (any positive multiple of X Xᵀ).</param>
    /// <param name="options">Pattern, block size and dampening.</param>
    /// <param name="quantize">Grid for joint pruning and quantization; null prunes only.</param>
    /// <param name="mask">
    /// A fixed bool mask [out, in] (true = prune), the reference's precomputed <c>mask</c>: when given,
    /// the pattern chooses nothing and SparseGPT only compensates.
    /// </param>
    public static CompressionResult Prune(Tensor W, Tensor H, SparseGptOptions options, QuantizationArgs? quantize = null, Tensor? mask = null)
    {
        var watch = Stopwatch.StartNew();
        if (W.dim() != 2) throw new ArgumentException($"W must be a matrix [out, in], got shape [{string.Join(", ", W.shape)}]", nameof(W));
        long rows = W.shape[0], columns = W.shape[1];
        if (H.dim() != 2 || H.shape[0] != columns || H.shape[1] != columns)
            throw new ArgumentException($"H must have shape [{columns}, {columns}] for W [{rows}, {columns}], got [{string.Join(", ", H.shape)}]", nameof(H));
        if (mask is not null && (mask.dim() != 2 || mask.shape[0] != rows || mask.shape[1] != columns))
            throw new ArgumentException($"mask must have W's shape [{rows}, {columns}], got [{string.Join(", ", mask.shape)}]", nameof(mask));
        options.Validated(columns);
        quantize?.Validated();
        int groupSize = quantize?.Strategy == QuantizationStrategy.Group ? quantize.GroupSize!.Value : 0;

        using var scope = NewDisposeScope();
        var device = W.device;
        var dtype = W.dtype == ScalarType.Float64 || H.dtype == ScalarType.Float64 ? ScalarType.Float64 : ScalarType.Float32;
        var pattern = options.Pattern;
        var Wf = W.to_type(dtype).clone();
        var Hf = H.to(device).to_type(dtype).clone();
        var fixedMask = mask?.to(device).to_type(ScalarType.Bool);

        var grids = new List<QuantizationParams>();
        if (quantize is not null && groupSize == 0) grids.Add(Quantizer.Fit(Wf, quantize));

        // Dead inputs (diag H = 0) never reach the output: their weights are zeroed (marked in the mask
        // only where the pattern picks them, which their zero score makes likely) and H made invertible.
        HessianInverse.FixDeadColumns(Hf, Wf);
        var inverse = HessianInverse.Compute(Hf, options.DampeningFraction, MaxDampingRetries);
        var (Hinv, damping) = (inverse.Hinv, inverse.DampeningFraction);
        var Mask = zeros(rows, columns, ScalarType.Bool, device);
        var Losses = zeros(1, dtype: dtype, device: device);

        for (int i1 = 0; i1 < columns; i1 += options.BlockSize)
        {
            using var blockScope = NewDisposeScope();
            int i2 = (int)Math.Min(i1 + options.BlockSize, columns), count = i2 - i1;
            var W1 = Wf[.., i1..i2].clone();
            var Q1 = zeros_like(W1);
            var Err1 = zeros_like(W1);
            var Hinv1 = Hinv[i1..i2, i1..i2];
            var d1 = Hinv1.diagonal();
            var mask1 = fixedMask is not null ? fixedMask[.., i1..i2].clone()
                : pattern.IsNOfM ? zeros(rows, count, ScalarType.Bool, device)
                : UnstructuredMask(W1, d1, pattern.Sparsity);

            for (int i = 0; i < count; i++)
            {
                if (groupSize > 0 && (i1 + i) % groupSize == 0)
                    grids.Add(FitGroup(Wf, W1, Err1, Hinv, i1, i, groupSize, quantize!));
                using var columnScope = NewDisposeScope();
                var w = W1[.., i];
                var d = Hinv1[i, i];

                if (fixedMask is null && pattern.IsNOfM && i % pattern.M == 0)
                {
                    var block = W1[.., i..(i + pattern.M)];
                    var diagonal = d1[i..(i + pattern.M)];
                    var tmp = block * block / (diagonal * diagonal).reshape(1, -1);
                    var index = tmp.topk(pattern.N, dim: 1, largest: false).indexes.Plus(i);
                    mask1.scatter_(1, index, ones_like(index, ScalarType.Bool));
                }

                var pruned = mask1[.., i];
                var q = w.masked_fill(pruned, HeldScalars.Of(0));
                if (quantize is not null)
                    q = Quantizer.FakeQuantize(q.unsqueeze(1), grids[^1], quantize).flatten().masked_fill_(pruned, HeldScalars.Of(0));

                Q1[.., i].copy_(q);
                var err1 = (w - q) / d;
                W1[.., i..].sub_(err1.unsqueeze(1).matmul(Hinv1[i, i..].unsqueeze(0)));
                Err1[.., i].copy_(err1);
            }

            Wf[.., i1..i2].copy_(Q1);
            Mask[.., i1..i2].copy_(mask1);
            // (w − q)² / d² is err1², so the reference's Losses1 need not be kept separately.
            Losses.add_((Err1 * Err1).sum(), HeldScalars.Of(0.5));
            Wf[.., i2..].sub_(Err1.matmul(Hinv[i1..i2, i2..]));
        }

        var quantized = quantize is null ? null : Codes(Wf, grids, quantize, groupSize > 0 ? groupSize : (int)columns);
        double loss = Losses.to_type(ScalarType.Float64).item<double>();
        var result = new CompressionResult(Wf.to_type(W.dtype), quantized, Mask, loss, damping, watch.Elapsed);
        return result.MoveToOuterDisposeScope();
    }

    /// <summary>The reference's adaptive unstructured mask of one block: tmp = W1² / diag(Hinv1)², tmp ≤ its int(numel · sparsity)-th smallest value.</summary>
    static Tensor UnstructuredMask(Tensor W1, Tensor d1, double sparsity)
    {
        if (sparsity == 0) return zeros_like(W1, ScalarType.Bool);
        var tmp = W1 * W1 / (d1 * d1).reshape(1, -1);
        long k = (long)(tmp.numel() * sparsity);
        if (k >= tmp.numel()) return ones_like(W1, ScalarType.Bool);
        var thresh = tmp.flatten().kthvalue(k + 1, 0).values;
        return tmp <= thresh;
    }

    /// <summary>
    /// The grid of the group starting at column i1 + i, fitted on its weights as the column-by-column algorithm
    /// would hold them (<see cref="LazyBlockColumns.ForGroup"/>): the reference reads only the outer W, which
    /// misses this block's updates when a group starts mid-block, and pruning makes those updates large.
    /// </summary>
    static QuantizationParams FitGroup(Tensor Wf, Tensor W1, Tensor Err1, Tensor Hinv, int i1, int i, int groupSize, QuantizationArgs args)
    {
        // Called in the block's scope, which frees the columns; the grid moves out to Prune's scope.
        var p = Quantizer.Fit(LazyBlockColumns.ForGroup(Wf, W1, Err1, Hinv, null, i1, i, groupSize), args);
        p.Scale.MoveToOuterDisposeScope();
        p.ZeroPoint.MoveToOuterDisposeScope();
        return p;
    }

    /// <summary>Codes of the finished weight, whose values already lie on the grids (pruned zeros map to the zero point).</summary>
    static QuantizedWeight Codes(Tensor Wf, List<QuantizationParams> grids, QuantizationArgs args, int perScale)
    {
        long columns = Wf.shape[1];
        var codes = grids.Select((p, g) => Quantizer.Quantize(Wf[.., (g * perScale)..(int)Math.Min(columns, (g + 1) * perScale)], p, args)).ToList();
        var gIdx = QuantizedWeight.InOrderGroups(columns, perScale, Wf.device).to_type(ScalarType.Int32);
        return QuantizedWeight.FromGridCodes(cat(codes, 1), cat(grids.Select(p => p.Scale).ToList(), 1),
            cat(grids.Select(p => p.ZeroPoint).ToList(), 1), gIdx, args);
    }
}
