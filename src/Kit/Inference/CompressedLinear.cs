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
public abstract class CompressedLinear : nn.Module<Tensor, Tensor>, Kit.Models.ICompressedWeights
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
    /// <summary>
    /// x [rows, in] · Ŵᵀ as [rows, out], in any floating dtype (the caller converts to x's).
    /// <paramref name="sequencePass"/> says that x came as [batch, positions, in] with more than one position per
    /// sequence (a prefill or a scoring pass) rather than one new token per sequence (a decode step): a layer may
    /// multiply the two kinds differently, but never a row differently by what else shares its pass.
    /// </summary>
    private protected abstract Tensor Multiply(Tensor x, bool sequencePass);
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
        var y = Multiply(shape.Length == 2 ? x : x.reshape(x.numel() / InFeatures, InFeatures), shape.Length == 3 && shape[1] > 1);
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

    // Bytes decoded per prefill tile (64 MB): whole layers of 1–3B models in one tile. Many small tiles are slow:
    // each switch between the .NET decoding threads and libtorch's OpenMP threads, which keep spinning after a
    // matmul, costs milliseconds.
    const long TileBytes = 1L << 26;
    // One tile per element type for the process, reused by every layer and call: a fresh one per call (tens of MB,
    // a new mapping) took more page faults than the decode took time. Held only once a prefill has used it.
    static readonly object TileLock = new();
    static readonly Dictionary<ScalarType, Tensor> sharedTiles = new();

    /// <summary>Rows of x that one bfloat16 matmul takes (<see cref="TiledMatmulBFloat16"/>).</summary>
    internal const int BFloat16ChunkRows = 64;

    /// <summary>Writes weight rows [start, start + count) in float32, [count, in], into the tile.</summary>
    private protected delegate void RowDecoder(int start, int count, Span<float> tile);

    /// <summary>Writes weight rows [start, start + count) as bfloat16 bit patterns, [count, in], into the tile.</summary>
    private protected delegate void BFloat16RowDecoder(int start, int count, Span<ushort> tile);

    /// <summary>
    /// x [rows, in] · Ŵᵀ in float32 on the CPU by tiles of weight rows that <paramref name="decode"/> writes for
    /// this call and a libtorch matmul per tile: no float copy of a weight larger than a tile is ever held, and
    /// the tile's memory is reused from call to call (a call that finds it busy on another thread takes its own).
    /// </summary>
    private protected static unsafe Tensor TiledMatmul(Tensor x, int outFeatures, int inFeatures, RowDecoder decode)
    {
        var input = x.to_type(ScalarType.Float32);
        var y = empty(input.shape[0], outFeatures, ScalarType.Float32);
        WithTile(ScalarType.Float32, sizeof(float), outFeatures, inFeatures, (tile, start, count) =>
        {
            decode(start, count, new Span<float>(TensorMemory.Address(tile), count * inFeatures));
            y.narrow(1, start, count).copy_(input.matmul(tile.t()));
        });
        return y;
    }

    /// <summary>
    /// x [rows, in] · Ŵᵀ in bfloat16 on the CPU, as <see cref="TiledMatmul"/> does in float32: x and the decoded
    /// weight rounded to bfloat16, each product rounded to bfloat16 by libtorch, returned as float32 [rows, out].
    /// x is multiplied <see cref="BFloat16ChunkRows"/> rows at a time, the last chunk padded with zeros, because
    /// libtorch (oneDNN) picks its kernel and reduction order by the number of rows: at a fixed count a row's
    /// result does not depend on which other rows share the call, so a sequence batched with others gets the
    /// values it gets alone.
    /// </summary>
    private protected static unsafe Tensor TiledMatmulBFloat16(Tensor x, int outFeatures, int inFeatures, BFloat16RowDecoder decode)
    {
        long rows = x.shape[0], padded = (rows + BFloat16ChunkRows - 1) / BFloat16ChunkRows * BFloat16ChunkRows;
        var input = zeros(padded, inFeatures, ScalarType.BFloat16);
        input.narrow(0, 0, rows).copy_(x);
        var y = empty(padded, outFeatures, ScalarType.Float32);
        WithTile(ScalarType.BFloat16, sizeof(ushort), outFeatures, inFeatures, (tile, start, count) =>
        {
            decode(start, count, new Span<ushort>(TensorMemory.Address(tile), count * inFeatures));
            var weightT = tile.t();
            for (long chunk = 0; chunk < padded; chunk += BFloat16ChunkRows)
            {
                using var product = input.narrow(0, chunk, BFloat16ChunkRows).matmul(weightT);
                y.narrow(0, chunk, BFloat16ChunkRows).narrow(1, start, count).copy_(product);
            }
        });
        return y.narrow(0, 0, rows);
    }

    /// <summary>
    /// Calls <paramref name="multiply"/> once per tile of weight rows with the tile [count, in] of
    /// <paramref name="dtype"/> to fill and use: the process's shared tile, or a tile of its own when another
    /// thread holds that one.
    /// </summary>
    static void WithTile(ScalarType dtype, int elementBytes, int outFeatures, int inFeatures, Action<Tensor, int, int> multiply)
    {
        int tileRows = (int)Math.Clamp(TileBytes / elementBytes / inFeatures, 1, outFeatures);
        long elements = (long)tileRows * inFeatures;
        if (!Monitor.TryEnter(TileLock))
        {
            using var own = empty(elements, dtype);
            Tiles(own, tileRows, outFeatures, inFeatures, multiply);
            return;
        }
        try
        {
            if (!sharedTiles.TryGetValue(dtype, out var tile) || tile.numel() < elements)
            {
                tile?.Dispose();
                long most = TileBytes / elementBytes;
                sharedTiles[dtype] = tile = empty(Math.Max(elements, Math.Min(most, (long)outFeatures * inFeatures)), dtype).DetachFromDisposeScope();
            }
            Tiles(tile, tileRows, outFeatures, inFeatures, multiply);
        }
        finally
        {
            Monitor.Exit(TileLock);
        }
    }

    static void Tiles(Tensor buffer, int tileRows, int outFeatures, int inFeatures, Action<Tensor, int, int> multiply)
    {
        for (int start = 0; start < outFeatures; start += tileRows)
        {
            using var scope = NewDisposeScope();
            int count = Math.Min(tileRows, outFeatures - start);
            multiply(buffer.narrow(0, 0, (long)count * inFeatures).view(count, inFeatures), start, count);
        }
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
