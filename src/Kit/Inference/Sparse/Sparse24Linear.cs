using Kit.Models.Safetensors;
using TorchSharp;
using static TorchSharp.torch;

namespace Kit.Inference.Sparse;

/// <summary>
/// A linear layer y = x Wᵀ + b whose 2:4 sparse weight stays compressed (<see cref="Sparse24Weight"/>):
/// memory holds the kept values and their positions, never the dense weight. On the CPU, with float32
/// values, up to <see cref="KernelRows"/> rows of x (leading dimensions flattened) go through
/// <see cref="Sparse24Matmul"/>; more rows (prefill), other value dtypes and other devices multiply x by the
/// weight expanded to dense for that call (float32 on the CPU, x's dtype elsewhere), tile by tile when it is large.
/// </summary>
/// <remarks>
/// <c>to(dtype)</c> converts the values and the bias, like a dense Linear's weight; the positions stay bytes.
/// </remarks>
public sealed class Sparse24Linear : CompressedLinear
{
    /// <summary>
    /// The most rows of x the CPU kernel takes; more rows expand the weight and use a dense matmul. Measured on
    /// a 2048 × 5632 layer (one core, AVX-512): the kernel takes about 0.6–1 ms per row, expanding costs
    /// 40–50 ms once plus the matmul's 0.2 ms per row, so they draw between 32 and 64 rows.
    /// </summary>
    public const int KernelRows = 32;
    // Dense elements expanded per tile (64 MB of float32): layers of 1–3B models in one tile. Settable for tests.
    internal int TileElements { get; set; } = 1 << 24;

    /// <summary>The compressed weight.</summary>
    public Sparse24Weight Weight { get; private set; }
    /// <inheritdoc />
    public override int InFeatures => Weight.InFeatures;
    /// <inheritdoc />
    public override int OutFeatures => Weight.OutFeatures;
    /// <summary>Bool [out, in]: true where the weight is pruned (<see cref="Sparse24Weight.Mask"/>).</summary>
    public Tensor Mask => Weight.Mask;
    private protected override long CompressedBytes => Weight.WeightBytes;
    private protected override Device WeightDevice => Weight.Device;

    /// <summary>
    /// Wraps <paramref name="weight"/> (the layer takes ownership) and an optional <paramref name="bias"/> [out]
    /// (copied to the weight's device).
    /// </summary>
    public Sparse24Linear(Sparse24Weight weight, Tensor? bias = null)
        : base("Sparse24Linear", bias, (weight ?? throw new ArgumentNullException(nameof(weight))).OutFeatures, weight.Device) => Weight = weight;

    /// <summary>
    /// Compresses a dense <paramref name="weight"/> [out, in] with at most 2 non-zeros in every 4 input columns;
    /// errors name <paramref name="name"/> (<see cref="Sparse24Weight.From"/>).
    /// </summary>
    public static Sparse24Linear From(Tensor weight, Tensor? bias = null, string? name = null) =>
        new(Sparse24Weight.From(weight, name), bias);

    private protected override Tensor Multiply(Tensor x, bool sequencePass) =>
        x.shape[0] <= KernelRows && OnCpu(x) && Weight.Values.dtype == ScalarType.Float32 ? Kernel(x) : Expanded(x);

    Tensor Kernel(Tensor x) => RunKernel(x, (xs, rows, ys) => Sparse24Matmul.Multiply(Weight, xs, rows, ys));

    // The dense weight in x's dtype, a tile of output rows at a time: decoded in C# on the CPU (float32
    // values), by tensor ops anywhere else.
    unsafe Tensor Expanded(Tensor x)
    {
        bool decode = x.device_type == DeviceType.CPU && Weight.Device.type == DeviceType.CPU && Weight.Values.dtype == ScalarType.Float32;
        var input = decode ? x.to_type(ScalarType.Float32) : x;
        int tileRows = Math.Clamp(TileElements / InFeatures, 1, OutFeatures);
        using var tile = decode ? empty(tileRows, InFeatures, ScalarType.Float32) : null;
        var y = empty(x.shape[0], OutFeatures, input.dtype, x.device);
        for (int start = 0; start < OutFeatures; start += tileRows)
        {
            using var scope = NewDisposeScope();
            int count = Math.Min(tileRows, OutFeatures - start);
            Tensor w;
            if (tile is not null)
            {
                Sparse24RowDecoder.Rows(Weight, start, count, new Span<float>(TensorMemory.Address(tile), count * InFeatures));
                w = tile.narrow(0, 0, count);
            }
            else w = Weight.DenseRows(start, count, x.dtype);
            y.narrow(1, start, count).copy_(input.matmul(w.t()));
        }
        return y;
    }

    private protected override void MoveWeight(Device device) => Replace(Weight.To(device));

    // Like a dense Linear's weight, the values follow a floating dtype change; the positions stay bytes.
    private protected override bool ConvertWeight(ScalarType dtype)
    {
        if (Weight.Values.dtype == dtype || !torch.is_floating_point(dtype)) return false;
        Replace(Weight.ToType(dtype));
        return true;
    }

    void Replace(Sparse24Weight weight)
    {
        Weight.Dispose();
        Weight = weight;
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing) Weight.Dispose();
        base.Dispose(disposing);
    }
}
