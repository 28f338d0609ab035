using Kit.Inference.Kernels;
using Kit.Models.Safetensors;
using Kit.Quantization;
using TorchSharp;
using static TorchSharp.torch;

namespace Kit.Inference.Fp8;

/// <summary>
/// A linear layer with FP8 E4M3 weights kept as one byte per weight (their bit patterns) and one float32
/// scale per output row or per tensor, as compressed-tensors' <c>float-quantized</c> format stores them: no
/// dequantized copy is held. On the CPU, up to <see cref="KernelRows"/> rows of x go through a kernel that
/// decodes the bytes in registers (<see cref="Fp8Matmul"/>); more rows, and every other device, dequantize
/// the weight into x's dtype per call and multiply with tensor ops. With dynamic per-token FP8 activations
/// (FP8_DYNAMIC) each row of x is first rounded to the E4M3 grid scaled to its absolute maximum, as vLLM does.
/// </summary>
public sealed class Fp8Linear : nn.Module<Tensor, Tensor>
{
    /// <summary>The most rows of x the CPU kernel takes; more rows are multiplied against a dequantized copy made for the call.</summary>
    public const int KernelRows = 32;

    Tensor bits, rowScales;
    Tensor? bias;

    /// <summary>Input features.</summary>
    public int InFeatures { get; }
    /// <summary>Output features.</summary>
    public int OutFeatures { get; }
    /// <summary>Whether activations are rounded to FP8 per token before the product (FP8_DYNAMIC).</summary>
    public bool QuantizesActivations { get; }
    /// <summary>The weight's E4M3 bit patterns [out, in], uint8.</summary>
    public Tensor Bits => bits;
    /// <summary>The scale of every output row [out], float32 (a per-tensor scale repeated).</summary>
    public Tensor RowScales => rowScales;
    /// <summary>Bytes held: codes, scales and bias.</summary>
    public long WeightBytes => TensorMemory.ByteLength(bits) + TensorMemory.ByteLength(rowScales) + (bias is null ? 0 : TensorMemory.ByteLength(bias));

    Fp8Linear(Tensor bits, Tensor rowScales, Tensor? bias, bool quantizeActivations) : base("Fp8Linear")
    {
        (this.bits, this.rowScales, this.bias, QuantizesActivations) = (bits, rowScales, bias, quantizeActivations);
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
        var nan = codes.bitwise_and(0x7F).eq(0x7F);
        if (nan.any().item<bool>())
        {
            var at = nan.nonzero()[0];
            throw new ArgumentException($"{name}: weight [{at[0].item<long>()}, {at[1].item<long>()}] is NaN (E4M3 0x7F); the checkpoint is corrupt", nameof(weight));
        }
        var scales = weight.Scale.to_type(ScalarType.Float32).reshape(-1).expand(rows).contiguous();
        if (!scales.isfinite().all().item<bool>())
            throw new ArgumentException($"{name}: a weight scale is not finite", nameof(weight));
        var b = bias?.detach().to(codes.device).clone();
        return new Fp8Linear(codes.clone().DetachFromDisposeScope(), scales.clone().DetachFromDisposeScope(), b?.DetachFromDisposeScope(), quantizeActivations);
    }

    /// <summary>The weight [out, in] in <paramref name="dtype"/>, computed with tensor ops on the layer's device.</summary>
    public Tensor Dequantize(ScalarType dtype = ScalarType.Float32)
    {
        using var scope = NewDisposeScope();
        return (Fp8E4M3.Decode(bits) * rowScales.unsqueeze(1)).to_type(dtype).MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor x)
    {
        if (x.shape[^1] != InFeatures)
            throw new ArgumentException($"x: expected last dimension {InFeatures}, got [{string.Join(", ", x.shape)}]", nameof(x));
        using var scope = NewDisposeScope();
        long rows = x.numel() / InFeatures;
        var flat = x.reshape(rows, InFeatures);
        if (QuantizesActivations) flat = RoundActivations(flat);
        var y = x.device_type == DeviceType.CPU && bits.device_type == DeviceType.CPU && rows <= KernelRows
            ? Kernel(flat)
            : nn.functional.linear(flat.to_type(x.dtype), Dequantize(x.dtype));
        if (bias is not null) y = y + bias.to_type(y.dtype);
        var shape = x.shape.ToArray();
        shape[^1] = OutFeatures;
        return y.to_type(x.dtype).reshape(shape).MoveToOuterDisposeScope();
    }

    unsafe Tensor Kernel(Tensor x)
    {
        var input = x.to_type(ScalarType.Float32).contiguous();
        int rows = (int)input.shape[0];
        var y = empty(rows, OutFeatures, ScalarType.Float32);
        Fp8Matmul.Multiply(new ReadOnlySpan<byte>(TensorMemory.Address(bits), OutFeatures * InFeatures),
            new ReadOnlySpan<float>(TensorMemory.Address(rowScales), OutFeatures), OutFeatures, InFeatures,
            new ReadOnlySpan<float>(TensorMemory.Address(input), rows * InFeatures), rows,
            new Span<float>(TensorMemory.Address(y), rows * OutFeatures), KernelPaths.Best);
        return y;
    }

    // FP8_DYNAMIC's activations: per token, scale = absmax / 448, values rounded to the E4M3 grid.
    static Tensor RoundActivations(Tensor x)
    {
        var wide = x.to_type(ScalarType.Float32);
        var scale = wide.abs().amax(new long[] { 1 }, keepdim: true) / Fp8E4M3.Max;
        var safe = where(scale == 0, ones_like(scale), scale);
        return (Fp8E4M3.Round(wide / safe) * scale).to_type(x.dtype);
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

    // Codes and scales keep their dtypes: outputs come back in x's dtype whatever the layer holds.
    /// <inheritdoc />
    protected override nn.Module _to(ScalarType dtype, bool non_blocking) => this;

    void MoveTo(Device device)
    {
        if (bits.device.type == device.type && bits.device.index == device.index) return;
        bits = Moved(bits, device);
        rowScales = Moved(rowScales, device);
        if (bias is not null) bias = Moved(bias, device);
    }

    static Tensor Moved(Tensor t, Device device)
    {
        var moved = t.to(device).DetachFromDisposeScope();
        t.Dispose();
        return moved;
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            bits.Dispose();
            rowScales.Dispose();
            bias?.Dispose();
        }
        base.Dispose(disposing);
    }
}
