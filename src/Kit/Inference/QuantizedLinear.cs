using Kit.Inference.Kernels;
using Kit.Models.Safetensors;
using Kit.Quantization;
using TorchSharp;
using static TorchSharp.torch;
using Kit.Runtime;

namespace Kit.Inference;

/// <summary>
/// A linear layer y = x Ŵᵀ + b whose weight stays packed (<see cref="PackedWeight"/>): memory holds the
/// codes, never a dequantized copy. On the CPU, weight-only layers quantize the rows of x (leading dimensions
/// flattened) to int8 per 32-column block and multiply in integers (<see cref="KernelActivations.Int8PerBlock"/>,
/// as llama.cpp does): the kernel tiles many rows for the caches and reads the codes in place. Prefill passes on
/// CPUs with matrix units multiply in bfloat16 instead (<see cref="BFloat16Prefill"/>). With <see cref="ExactActivations"/> up to <see cref="KernelRows"/> rows go through the
/// float32-activation kernels instead, and more rows are multiplied tile by tile against weight rows decoded for
/// that call. W8A8 layers quantize x per token (scale = absmax / 127) and multiply int8 × int8 → int32, with a
/// tiled GEMM from <see cref="QuantizedMatmul"/>'s GemmRows rows on. On any other device the weight is dequantized
/// into x's dtype per call and multiplied with tensor ops, W8A8 on x replaced by its per-token grid values, so
/// all devices compute the same thing.
/// </summary>
public sealed class QuantizedLinear : CompressedLinear
{
    /// <summary>
    /// The most rows of x the float32-activation kernels take (<see cref="ExactActivations"/>); more rows multiply
    /// decoded tiles with a dense matmul. Measured on TinyLlama's MLP shapes (2 cores): the kernels win clearly at
    /// 32 rows, draw around 64 and lose at 128.
    /// </summary>
    public const int KernelRows = 32;
    /// <summary>The packed weight.</summary>
    public PackedWeight Weight { get; private set; }
    /// <summary>Whether activations are quantized to int8 per token (W8A8).</summary>
    public bool QuantizesActivations { get; }
    /// <summary>
    /// For weight-only layers on the CPU: multiply x in float32 (the product with the dequantized weight up to
    /// float32 rounding, as on other devices) instead of quantizing it to int8 per 32-column block first
    /// (<see cref="KernelActivations.Int8PerBlock"/>, llama.cpp's Q8_0, about 2× faster at decode and 1.3–2× at
    /// prefill). False by default; W8A8 layers ignore it.
    /// </summary>
    public bool ExactActivations { get; set; }
    /// <summary>
    /// For weight-only layers on the CPU without <see cref="ExactActivations"/>: multiply prefill passes (several
    /// positions per sequence) in bfloat16, x and the weight decoded for the call rounded to bfloat16 as a W4A16 or
    /// W8A16 model runs on a GPU, with libtorch's matmul, instead of the int8-per-block kernels; decode steps keep
    /// the kernels, which read the packed codes once. Defaults to <see cref="MatrixUnits.BFloat16"/>: on Intel AMX a
    /// 64-row prefill runs about 2.5× faster this way, on other CPUs slower.
    /// </summary>
    public bool BFloat16Prefill { get; set; } = MatrixUnits.BFloat16;
    /// <inheritdoc />
    public override int InFeatures => Weight.InFeatures;
    /// <inheritdoc />
    public override int OutFeatures => Weight.OutFeatures;
    private protected override long CompressedBytes => Weight.WeightBytes;
    private protected override Device WeightDevice => Weight.Device;

    /// <summary>
    /// Wraps <paramref name="weight"/> (the layer takes ownership) and an optional <paramref name="bias"/> [out]
    /// (copied to the weight's device). <paramref name="quantizeActivations"/> needs int8 weights.
    /// </summary>
    public QuantizedLinear(PackedWeight weight, Tensor? bias = null, bool quantizeActivations = false)
        : base("QuantizedLinear", bias, (weight ?? throw new ArgumentNullException(nameof(weight))).OutFeatures, weight.Device)
    {
        if (quantizeActivations && weight.Format != PackedFormat.Int8)
            throw new ArgumentException($"PackedWeight.Format: int8 activations need int8 weights, got {weight.Format}", nameof(quantizeActivations));
        Weight = weight;
        QuantizesActivations = quantizeActivations;
    }

    /// <summary>
    /// Packs <paramref name="weight"/> into a layer. <paramref name="inputActivations"/> is the scheme's
    /// activation setting (<see cref="QuantizationPresets.InputActivations"/>): "int8-dynamic-token" selects
    /// W8A8 for int8 weights; null means weight-only. Other settings throw <see cref="NotSupportedException"/>.
    /// </summary>
    public static QuantizedLinear From(QuantizedWeight weight, Tensor? bias = null, string? inputActivations = null)
    {
        bool int8Activations = Int8Activations(inputActivations);
        return From(PackedWeight.From(weight), bias, int8Activations);
    }

    /// <summary>
    /// A layer over the already packed <paramref name="weight"/> (the layer takes ownership), with
    /// <paramref name="inputActivations"/> as in <see cref="From(QuantizedWeight, Tensor?, string?)"/>.
    /// </summary>
    public static QuantizedLinear From(PackedWeight weight, Tensor? bias = null, string? inputActivations = null) =>
        From(weight, bias, Int8Activations(inputActivations));

    // W4A8 keeps its int4 weights and runs weight-only: the int8 kernel multiplies int8 codes.
    static QuantizedLinear From(PackedWeight weight, Tensor? bias, bool int8Activations) =>
        new(weight, bias, int8Activations && weight.Format == PackedFormat.Int8);

    static bool Int8Activations(string? inputActivations) => inputActivations switch
    {
        null => false,
        "int8-dynamic-token" => true,
        _ => throw new NotSupportedException($"inputActivations: '{inputActivations}' is not supported; use null or int8-dynamic-token"),
    };

    private protected override Tensor Multiply(Tensor x, bool sequencePass)
    {
        if (!OnCpu(x))
            return nn.functional.linear(QuantizesActivations ? FakeQuantizeActivations(x) : x, Weight.Dequantize(x.dtype));
        return QuantizesActivations ? Kernel(x, KernelActivations.Int8PerToken)
            : ExactActivations ? (x.shape[0] <= KernelRows ? Kernel(x, KernelActivations.Float32) : Tiled(Weight, x))
            : sequencePass && BFloat16Prefill ? TiledBFloat16(Weight, x)
            : Kernel(x, KernelActivations.Int8PerBlock);
    }

    Tensor Kernel(Tensor x, KernelActivations activations) =>
        RunKernel(x, (xs, rows, ys) => QuantizedMatmul.Multiply(Weight, xs, rows, ys, activations));

    /// <summary>x [rows, in] · Ŵᵀ in float32 by tiles of weight rows decoded for this call and a libtorch matmul.</summary>
    internal static Tensor Tiled(PackedWeight weight, Tensor x) =>
        TiledMatmul(x, weight.OutFeatures, weight.InFeatures, (start, count, tile) => RowDequantizer.Rows(weight, start, count, tile));

    /// <summary>x [rows, in] · Ŵᵀ in bfloat16 by tiles of weight rows decoded for this call (<see cref="BFloat16Prefill"/>).</summary>
    internal static Tensor TiledBFloat16(PackedWeight weight, Tensor x) =>
        TiledMatmulBFloat16(x, weight.OutFeatures, weight.InFeatures, (start, count, tile) => RowDequantizer.RowsBFloat16(weight, start, count, tile));

    // The device-agnostic W8A8 path: x replaced by its per-token int8 grid values.
    static Tensor FakeQuantizeActivations(Tensor x)
    {
        var scale = TokenScales.Of(x, 127f);
        return ((x.to_type(ScalarType.Float32) / scale).round().clamp(HeldScalars.Of(-127), HeldScalars.Of(127)) * scale).to_type(x.dtype);
    }

    private protected override void MoveWeight(Device device)
    {
        var moved = Weight.To(device);
        Weight.Dispose();
        Weight = moved;
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing) Weight.Dispose();
        base.Dispose(disposing);
    }
}
