using Kit.Models.Safetensors;
using Kit.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Kit.Inference;

/// <summary>
/// A linear layer y = x Ŵᵀ + b whose weight stays in a compressed form in memory (packed integer codes, FP8
/// bytes, 2:4 values and positions), never as a dense copy: the shape handling, bias, device moves and byte
/// accounting that <see cref="QuantizedLinear"/>, <see cref="Fp8.Fp8Linear"/> and <see cref="Sparse.Sparse24Linear"/>
/// share. A subclass multiplies a [rows, in] matrix; leading dimensions of x are flattened around that call and
/// the result comes back in x's dtype.
/// </summary>
/// <remarks>
/// The compressed tensors and the bias are not registered parameters or buffers (a dtype change must not turn
/// codes into floats); <c>to(device)</c> moves them and <see cref="WeightBytes"/> counts them.
/// </remarks>
public abstract class CompressedLinear : nn.Module<Tensor, Tensor>
{
    Tensor? bias;

    /// <summary>Takes a copy of <paramref name="bias"/> [<paramref name="outFeatures"/>] on <paramref name="device"/>, or none.</summary>
    /// <exception cref="ArgumentException">The bias has another shape.</exception>
    private protected CompressedLinear(string name, Tensor? bias, int outFeatures, Device device) : base(name)
    {
        if (bias is not null && (bias.dim() != 1 || bias.shape[0] != outFeatures))
            throw new ArgumentException($"bias: expected [{outFeatures}], got [{string.Join(", ", bias.shape)}]", nameof(bias));
        this.bias = bias?.to(device).detach().clone().DetachFromDisposeScope();
    }

    /// <summary>The bias [out], or null.</summary>
    public Tensor? Bias => bias;
    /// <summary>Input features.</summary>
    public abstract int InFeatures { get; }
    /// <summary>Output features.</summary>
    public abstract int OutFeatures { get; }
    /// <summary>Bytes actually held: the compressed weight and the bias.</summary>
    public long WeightBytes => CompressedBytes + (bias is null ? 0 : TensorMemory.ByteLength(bias));

    /// <summary>Bytes the compressed weight holds.</summary>
    private protected abstract long CompressedBytes { get; }
    /// <summary>Where the compressed weight lives.</summary>
    private protected abstract Device WeightDevice { get; }
    /// <summary>x [rows, in] · Ŵᵀ as [rows, out], in any floating dtype (the caller converts to x's).</summary>
    private protected abstract Tensor Multiply(Tensor x);
    /// <summary>Replaces the compressed weight by a copy on <paramref name="device"/>.</summary>
    private protected abstract void MoveWeight(Device device);
    /// <summary>Converts the weight's values to <paramref name="dtype"/> where they follow dtype changes; true when they did (the bias follows).</summary>
    private protected virtual bool ConvertWeight(ScalarType dtype) => false;

    /// <inheritdoc />
    public sealed override Tensor forward(Tensor x)
    {
        // Decode calls this 7 times per layer per token: every TorchSharp call saved here (a shape query, a
        // no-op conversion or reshape) is a measurable share of the step.
        var shape = x.shape;
        if (shape[^1] != InFeatures)
            throw new ArgumentException($"x: expected last dimension {InFeatures}, got [{string.Join(", ", shape)}]", nameof(x));
        using var scope = NewDisposeScope();
        var y = Multiply(shape.Length == 2 ? x : x.reshape(x.numel() / InFeatures, InFeatures));
        if (bias is not null) y = y.Plus(bias.to_type(y.dtype));
        if (y.dtype != x.dtype) y = y.to_type(x.dtype);
        shape[^1] = OutFeatures;
        return (shape.Length == 2 ? y : y.reshape(shape)).MoveToOuterDisposeScope();
    }

    /// <summary>A CPU kernel: x [rows, in] float32 in, y [rows, out] float32 out.</summary>
    private protected delegate void CpuKernel(ReadOnlySpan<float> x, int rows, Span<float> y);

    /// <summary>
    /// Runs <paramref name="kernel"/> on x [rows, in] (any floating dtype, on the CPU) in place of tensor memory:
    /// x as contiguous float32 (x itself when it already is), y a new [rows, out] float32 tensor.
    /// </summary>
    private protected unsafe Tensor RunKernel(Tensor x, CpuKernel kernel)
    {
        var input = x.dtype == ScalarType.Float32 && x.is_contiguous() ? x : x.to_type(ScalarType.Float32).contiguous();
        int rows = (int)(input.numel() / InFeatures);
        var y = empty(rows, OutFeatures, ScalarType.Float32);
        kernel(new ReadOnlySpan<float>(TensorMemory.Address(input), rows * InFeatures), rows,
            new Span<float>(TensorMemory.Address(y), rows * OutFeatures));
        return y;
    }

    // Float32 values decoded per prefill tile (64 MB): whole layers of 1–3B models in one tile. Many small
    // tiles are slow: each switch between the .NET decoding threads and libtorch's OpenMP threads, which
    // keep spinning after a matmul, costs milliseconds.
    const int TileElements = 1 << 24;
    // One tile for the process, reused by every layer and call: a fresh one per call (tens of MB, a new
    // mapping) took more page faults than the decode took time. Held only once a prefill has used it.
    static readonly object TileLock = new();
    static Tensor? sharedTile;

    /// <summary>Writes weight rows [start, start + count) in float32, [count, in], into the tile.</summary>
    private protected delegate void RowDecoder(int start, int count, Span<float> tile);

    /// <summary>
    /// x [rows, in] · Ŵᵀ in float32 on the CPU by tiles of weight rows that <paramref name="decode"/> writes for
    /// this call and a libtorch matmul per tile: no float copy of a weight larger than a tile is ever held, and
    /// the tile's memory is reused from call to call (a call that finds it busy on another thread takes its own).
    /// </summary>
    private protected static Tensor TiledMatmul(Tensor x, int outFeatures, int inFeatures, RowDecoder decode)
    {
        int tileRows = Math.Clamp(TileElements / inFeatures, 1, outFeatures);
        long elements = (long)tileRows * inFeatures;
        if (!Monitor.TryEnter(TileLock))
        {
            using var own = empty(elements, ScalarType.Float32);
            return TiledMatmul(x, outFeatures, inFeatures, tileRows, own, decode);
        }
        try
        {
            if (sharedTile is null || sharedTile.numel() < elements)
            {
                sharedTile?.Dispose();
                sharedTile = empty(Math.Max(elements, Math.Min(TileElements, (long)outFeatures * inFeatures)), ScalarType.Float32).DetachFromDisposeScope();
            }
            return TiledMatmul(x, outFeatures, inFeatures, tileRows, sharedTile, decode);
        }
        finally
        {
            Monitor.Exit(TileLock);
        }
    }

    static unsafe Tensor TiledMatmul(Tensor x, int outFeatures, int inFeatures, int tileRows, Tensor buffer, RowDecoder decode)
    {
        var input = x.to_type(ScalarType.Float32);
        var y = empty(input.shape[0], outFeatures, ScalarType.Float32);
        var tileSpan = new Span<float>(TensorMemory.Address(buffer), tileRows * inFeatures);
        for (int start = 0; start < outFeatures; start += tileRows)
        {
            using var scope = NewDisposeScope();
            int count = Math.Min(tileRows, outFeatures - start);
            decode(start, count, tileSpan[..(count * inFeatures)]);
            var tile = buffer.narrow(0, 0, (long)count * inFeatures).view(count, inFeatures);
            y.narrow(1, start, count).copy_(input.matmul(tile.t()));
        }
        return y;
    }

    /// <summary>Whether x and the weight are both on the CPU, where the kernels run.</summary>
    private protected bool OnCpu(Tensor x) => x.device_type == DeviceType.CPU && WeightDevice.type == DeviceType.CPU;

    /// <inheritdoc />
    protected override nn.Module _to(Device device, ScalarType dtype, bool non_blocking)
    {
        MoveTo(device);
        Convert(dtype);
        return this;
    }

    /// <inheritdoc />
    protected override nn.Module _to(DeviceType deviceType, int deviceIndex, bool non_blocking)
    {
        MoveTo(new Device(deviceType, deviceIndex));
        return this;
    }

    /// <inheritdoc />
    protected override nn.Module _to(ScalarType dtype, bool non_blocking)
    {
        Convert(dtype);
        return this;
    }

    void MoveTo(Device device)
    {
        if (WeightDevice.type == device.type && WeightDevice.index == device.index) return;
        MoveWeight(device);
        if (bias is not null) bias = Replaced(bias, bias.to(device));
    }

    void Convert(ScalarType dtype)
    {
        if (ConvertWeight(dtype) && bias is not null) bias = Replaced(bias, bias.to_type(dtype));
    }

    /// <summary><paramref name="replacement"/>, kept past the caller's dispose scope, after disposing <paramref name="old"/>.</summary>
    private protected static Tensor Replaced(Tensor old, Tensor replacement)
    {
        replacement = replacement.DetachFromDisposeScope();
        old.Dispose();
        return replacement;
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing) bias?.Dispose();
        base.Dispose(disposing);
    }
}
