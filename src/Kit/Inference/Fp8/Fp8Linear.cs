using Kit.Inference.Kernels;
using Kit.Models.Safetensors;
using Kit.Quantization;
using Kit.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Kit.Inference.Fp8;

/// <summary>
/// A linear layer with FP8 E4M3 weights kept as one byte per weight (their bit patterns) and one float32
/// scale per output row or per tensor, as compressed-tensors' <c>float-quantized</c> format stores them: no
/// dequantized copy is held. On the CPU, up to <see cref="KernelRows"/> rows of x go through a kernel that
/// decodes the bytes in registers (<see cref="Fp8Matmul"/>); more rows (prefill) are multiplied with libtorch's
/// float32 matmul tile by tile against weight rows decoded for the call (the CPU has no FP8 arithmetic, and the
/// decode costs a few percent of the matmul); every other device dequantizes the weight into x's dtype per call
/// and multiplies with tensor ops. With dynamic per-token FP8 activations
/// (FP8_DYNAMIC) each row of x is first rounded to the E4M3 grid scaled to its absolute maximum, as vLLM does.
/// </summary>
public sealed class Fp8Linear : CompressedLinear
{
    /// <summary>The most rows of x the CPU kernel takes; more rows are multiplied against weight tiles decoded for the call.</summary>
    public const int KernelRows = 32;

    Tensor bits, rowScales;

    /// <inheritdoc />
    public override int InFeatures { get; }
    /// <inheritdoc />
    public override int OutFeatures { get; }
    /// <summary>Whether activations are rounded to FP8 per token before the product (FP8_DYNAMIC).</summary>
    public bool QuantizesActivations { get; }
    /// <summary>The weight's E4M3 bit patterns [out, in], uint8.</summary>
    public Tensor Bits => bits;
    /// <summary>The scale of every output row [out], float32 (a per-tensor scale repeated).</summary>
    public Tensor RowScales => rowScales;
    private protected override long CompressedBytes => TensorMemory.ByteLength(bits) + TensorMemory.ByteLength(rowScales);
    private protected override Device WeightDevice => bits.device;

    Fp8Linear(Tensor bits, Tensor rowScales, Tensor? bias, bool quantizeActivations) : base("Fp8Linear", bias, (int)bits.shape[0], bits.device)
    {
        (this.bits, this.rowScales, QuantizesActivations) = (bits, rowScales, quantizeActivations);
        (OutFeatures, InFeatures) = ((int)bits.shape[0], (int)bits.shape[1]);
    }

    /// <summary>
    /// Wraps an FP8 <paramref name="weight"/> (per-tensor or per-channel scales; the layer copies what it needs)
    /// and an optional <paramref name="bias"/>. <paramref name="name"/> names the layer in errors.
    /// </summary>
    /// <exception cref="ArgumentException">The grid is not FP8 per tensor or per channel, a code is NaN (0x7F or 0xFF), or a scale is not finite.</exception>
    public static Fp8Linear From(QuantizedWeight weight, Tensor? bias = null, bool quantizeActivations = false, string name = "weight")
    {
        ArgumentNullException.ThrowIfNull(weight);
        if (weight.Args.Type != QuantizationType.Float || weight.Codes.dim() != 2)
            throw new ArgumentException($"{name}: expected FP8 E4M3 codes [out, in], got {weight.Args.Type} [{string.Join(", ", weight.Codes.shape)}]", nameof(weight));
        long rows = weight.Codes.shape[0];
        if (weight.Scale.shape[1] != 1 || (weight.Scale.shape[0] != 1 && weight.Scale.shape[0] != rows))
            throw new ArgumentException($"{name}: FP8 layers take one scale per tensor or per output row, got scales [{string.Join(", ", weight.Scale.shape)}]", nameof(weight));
        using var scope = NewDisposeScope();
        var codes = weight.Codes.to_type(ScalarType.Byte).contiguous();
        var nan = codes.bitwise_and(0x7F).eq(HeldScalars.Of(0x7F));
        if (nan.any().item<bool>())
        {
            var at = nan.nonzero()[0];
            throw new ArgumentException($"{name}: weight [{at[0].item<long>()}, {at[1].item<long>()}] is NaN (E4M3 0x7F); the checkpoint is corrupt", nameof(weight));
        }
        var scales = weight.Scale.to_type(ScalarType.Float32).reshape(-1).expand(rows).contiguous();
        if (!scales.isfinite().all().item<bool>())
            throw new ArgumentException($"{name}: a weight scale is not finite", nameof(weight));
        return new Fp8Linear(codes.clone().DetachFromDisposeScope(), scales.clone().DetachFromDisposeScope(), bias, quantizeActivations);
    }

    /// <summary>The weight [out, in] in <paramref name="dtype"/>, computed with tensor ops on the layer's device.</summary>
    public Tensor Dequantize(ScalarType dtype = ScalarType.Float32)
    {
        using var scope = NewDisposeScope();
        return (Fp8E4M3.Decode(bits) * rowScales.unsqueeze(1)).to_type(dtype).MoveToOuterDisposeScope();
    }

    private protected override Tensor Multiply(Tensor x, bool sequencePass)
    {
        if (QuantizesActivations) x = RoundActivations(x);
        if (!OnCpu(x)) return nn.functional.linear(x, Dequantize(x.dtype));
        return x.shape[0] <= KernelRows ? Kernel(x) : TiledMatmul(x, OutFeatures, InFeatures, DecodeRows);
    }

    unsafe void DecodeRows(int start, int count, Span<float> tile) =>
        Fp8Matmul.DecodeRows(new ReadOnlySpan<byte>(TensorMemory.Address(bits), OutFeatures * InFeatures),
            new ReadOnlySpan<float>(TensorMemory.Address(rowScales), OutFeatures), InFeatures, start, count, tile, KernelPaths.Best);

    unsafe Tensor Kernel(Tensor x) => RunKernel(x, (xs, rows, ys) =>
        Fp8Matmul.Multiply(new ReadOnlySpan<byte>(TensorMemory.Address(bits), OutFeatures * InFeatures),
            new ReadOnlySpan<float>(TensorMemory.Address(rowScales), OutFeatures), OutFeatures, InFeatures, xs, rows, ys, KernelPaths.Best));

    // FP8_DYNAMIC's activations: per token, scale = absmax / 448, values rounded to the E4M3 grid.
    static Tensor RoundActivations(Tensor x)
    {
        var scale = TokenScales.Of(x, Fp8E4M3.Max);
        return (Fp8E4M3.Round(x.to_type(ScalarType.Float32) / scale) * scale).to_type(x.dtype);
    }

    private protected override void MoveWeight(Device device)
    {
        bits = Replaced(bits, bits.to(device));
        rowScales = Replaced(rowScales, rowScales.to(device));
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            bits.Dispose();
            rowScales.Dispose();
        }
        base.Dispose(disposing);
    }
}
