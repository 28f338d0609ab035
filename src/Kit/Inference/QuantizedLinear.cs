using Kit.Inference.Kernels;
using Kit.Models.Safetensors;
using Kit.Quantization;
using TorchSharp;
using static TorchSharp.torch;

namespace Kit.Inference;

/// <summary>
/// A linear layer y = x Ŵᵀ + b whose weight stays packed (<see cref="PackedWeight"/>): memory holds the
/// codes, never a dequantized copy. On the CPU, weight-only layers quantize up to <see cref="IntegerKernelRows"/>
/// rows of x (leading dimensions flattened) to int8 per 32-column block and multiply in integers
/// (<see cref="KernelActivations.Int8PerBlock"/>, as llama.cpp does); with <see cref="ExactActivations"/> up to
/// <see cref="KernelRows"/> rows go through the float32-activation kernels instead. More rows (prefill) are
/// multiplied tile by tile against weight rows decoded for that call. On any other device the weight is
/// dequantized into x's dtype per call and multiplied with tensor ops. With int8 activations (W8A8) every
/// path quantizes x per token (scale = absmax / 127) first, so all devices compute the same thing.
/// </summary>
/// <remarks>
/// The packed tensors and the bias are not registered parameters or buffers (a dtype change must not turn
/// codes into floats); <c>to(device)</c> moves them and <see cref="WeightBytes"/> counts them.
/// </remarks>
public sealed class QuantizedLinear : nn.Module<Tensor, Tensor>
{
    /// <summary>
    /// The most rows of x the CPU kernels take; more rows multiply decoded tiles with a dense matmul. Measured
    /// on TinyLlama's MLP shapes (2 cores): the kernels win clearly at 32 rows, draw around 64 and lose at 128.
    /// </summary>
    public const int KernelRows = 32;
    /// <summary>
    /// The most rows of x the int8-activation kernels take for weight-only layers; more rows multiply decoded
    /// tiles with a dense matmul. Measured on TinyLlama's 5632 × 2048 MLP layer (W4A16 g128, 2 shared cores,
    /// 2026-11-28): 64 rows 37 ms against 73 ms for the tiles, 128 rows 75 against 84 ms, 256 rows 203 against 169 ms.
    /// </summary>
    public const int IntegerKernelRows = 128;
    // Float32 values decoded per prefill tile (64 MB): whole layers of 1–3B models in one tile. Many small
    // tiles are slow: each switch between the .NET decoding threads and libtorch's OpenMP threads, which
    // keep spinning after a matmul, costs milliseconds.
    const int TileElements = 1 << 24;

    Tensor? bias;

    /// <summary>The packed weight.</summary>
    public PackedWeight Weight { get; private set; }
    /// <summary>The bias [out], or null.</summary>
    public Tensor? Bias => bias;
    /// <summary>Whether activations are quantized to int8 per token (W8A8).</summary>
    public bool QuantizesActivations { get; }
    /// <summary>
    /// For weight-only layers on the CPU: multiply up to <see cref="IntegerKernelRows"/> rows of x in float32
    /// (the product with the dequantized weight up to float32 rounding, as on other devices and for longer
    /// inputs) instead of quantizing them to int8 per 32-column block first (<see cref="KernelActivations.Int8PerBlock"/>,
    /// llama.cpp's Q8_0, about 2× faster at decode). False by default; W8A8 layers ignore it.
    /// </summary>
    public bool ExactActivations { get; set; }
    /// <summary>Input features.</summary>
    public int InFeatures => Weight.InFeatures;
    /// <summary>Output features.</summary>
    public int OutFeatures => Weight.OutFeatures;
    /// <summary>Bytes actually held: packed codes, scales, zero points, layout and bias.</summary>
    public long WeightBytes => Weight.WeightBytes + (bias is null ? 0 : TensorMemory.ByteLength(bias));

    /// <summary>
    /// Wraps <paramref name="weight"/> (the layer takes ownership) and an optional <paramref name="bias"/> [out]
    /// (copied to the weight's device). <paramref name="quantizeActivations"/> needs int8 weights.
    /// </summary>
    public QuantizedLinear(PackedWeight weight, Tensor? bias = null, bool quantizeActivations = false) : base("QuantizedLinear")
    {
        ArgumentNullException.ThrowIfNull(weight);
        if (quantizeActivations && weight.Format != PackedFormat.Int8)
            throw new ArgumentException($"PackedWeight.Format: int8 activations need int8 weights, got {weight.Format}", nameof(quantizeActivations));
        if (bias is not null && (bias.dim() != 1 || bias.shape[0] != weight.OutFeatures))
            throw new ArgumentException($"bias: expected [{weight.OutFeatures}], got [{string.Join(", ", bias.shape)}]", nameof(bias));
        Weight = weight;
        this.bias = bias?.to(weight.Device).detach().clone().DetachFromDisposeScope();
        QuantizesActivations = quantizeActivations;
    }

    /// <summary>
    /// Packs <paramref name="weight"/> into a layer. <paramref name="inputActivations"/> is the scheme's
    /// activation setting (<see cref="QuantizationPresets.InputActivations"/>): "int8-dynamic-token" selects
    /// W8A8 for int8 weights; null means weight-only. Other settings throw <see cref="NotSupportedException"/>.
    /// </summary>
    public static QuantizedLinear From(QuantizedWeight weight, Tensor? bias = null, string? inputActivations = null)
    {
        bool int8Activations = inputActivations switch
        {
            null => false,
            "int8-dynamic-token" => true,
            _ => throw new NotSupportedException($"inputActivations: '{inputActivations}' is not supported; use null or int8-dynamic-token"),
        };
        var packed = PackedWeight.From(weight);
        // W4A8 keeps its int4 weights and runs weight-only: the int8 kernel multiplies int8 codes.
        return new QuantizedLinear(packed, bias, int8Activations && packed.Format == PackedFormat.Int8);
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor x)
    {
        // Decode calls this 7 times per layer per token: every TorchSharp call saved here (a shape query,
        // a no-op conversion or reshape) is a measurable share of the step.
        var shape = x.shape;
        if (shape[^1] != InFeatures)
            throw new ArgumentException($"x: expected last dimension {InFeatures}, got [{string.Join(", ", shape)}]", nameof(x));
        using var scope = NewDisposeScope();
        long rows = x.numel() / InFeatures;
        var flat = shape.Length == 2 ? x : x.reshape(rows, InFeatures);
        Tensor y;
        if (x.device_type == DeviceType.CPU && Weight.Device.type == DeviceType.CPU)
            y = QuantizesActivations ? Kernel(flat, KernelActivations.Int8PerToken)
                : ExactActivations ? (rows <= KernelRows ? Kernel(flat, KernelActivations.Float32) : Tiled(Weight, flat))
                : rows <= IntegerKernelRows ? Kernel(flat, KernelActivations.Int8PerBlock) : Tiled(Weight, flat);
        else
            y = nn.functional.linear(QuantizesActivations ? FakeQuantizeActivations(flat) : flat, Weight.Dequantize(x.dtype));
        if (bias is not null) y = y + bias.to_type(y.dtype);
        if (y.dtype != x.dtype) y = y.to_type(x.dtype);
        shape[^1] = OutFeatures;
        return (shape.Length == 2 ? y : y.reshape(shape)).MoveToOuterDisposeScope();
    }

    unsafe Tensor Kernel(Tensor x, KernelActivations activations)
    {
        var input = x.dtype == ScalarType.Float32 && x.is_contiguous() ? x : x.to_type(ScalarType.Float32).contiguous();
        int rows = (int)(input.numel() / InFeatures);
        var y = empty(rows, OutFeatures, ScalarType.Float32);
        var xs = new ReadOnlySpan<float>(TensorMemory.Address(input), rows * InFeatures);
        var ys = new Span<float>(TensorMemory.Address(y), rows * OutFeatures);
        QuantizedMatmul.Multiply(Weight, xs, rows, ys, activations);
        return y;
    }

    /// <summary>x [rows, in] · Ŵᵀ in float32 by tiles of weight rows decoded for this call and a libtorch matmul.</summary>
    internal static unsafe Tensor Tiled(PackedWeight weight, Tensor x)
    {
        int inFeatures = weight.InFeatures, outFeatures = weight.OutFeatures;
        var input = x.to_type(ScalarType.Float32);
        var y = empty(input.shape[0], outFeatures, ScalarType.Float32);
        int tileRows = Math.Clamp(TileElements / inFeatures, 1, outFeatures);
        using var tile = empty(tileRows, inFeatures, ScalarType.Float32);
        var tileSpan = new Span<float>(TensorMemory.Address(tile), (int)tile.numel());
        for (int start = 0; start < outFeatures; start += tileRows)
        {
            using var scope = NewDisposeScope();
            int count = Math.Min(tileRows, outFeatures - start);
            RowDequantizer.Rows(weight, start, count, tileSpan[..(count * inFeatures)]);
            y.narrow(1, start, count).copy_(input.matmul(tile.narrow(0, 0, count).t()));
        }
        return y;
    }

    // The device-agnostic W8A8 path: x replaced by its per-token int8 grid values.
    static Tensor FakeQuantizeActivations(Tensor x)
    {
        var wide = x.to_type(ScalarType.Float32);
        var scale = wide.abs().amax(new long[] { 1 }, keepdim: true) / 127f;
        var safe = where(scale == 0, ones_like(scale), scale);
        return ((wide / safe).round().clamp(-127, 127) * scale).to_type(x.dtype);
    }

    /// <inheritdoc />
    protected override nn.Module _to(Device device, ScalarType dtype, bool non_blocking)
    {
        MoveTo(device);
        return this;
    }

    /// <inheritdoc />
    protected override nn.Module _to(DeviceType deviceType, int deviceIndex, bool non_blocking)
    {
        MoveTo(new Device(deviceType, deviceIndex));
        return this;
    }

    // Codes, scales and bias keep their dtypes: outputs come back in x's dtype whatever the layer holds.
    /// <inheritdoc />
    protected override nn.Module _to(ScalarType dtype, bool non_blocking) => this;

    void MoveTo(Device device)
    {
        if (Weight.Device.type == device.type && Weight.Device.index == device.index) return;
        var moved = Weight.To(device);
        Weight.Dispose();
        Weight = moved;
        if (bias is null) return;
        var movedBias = bias.to(device).DetachFromDisposeScope();
        bias.Dispose();
        bias = movedBias;
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            Weight.Dispose();
            bias?.Dispose();
        }
        base.Dispose(disposing);
    }
}
