using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Kit.Models.Safetensors;
using Kit.Quantization;
using Kit.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Kit.Inference.Kernels;

/// <summary>
/// A quantized weight [out, in] kept packed for matrix-vector products: int4 codes two per byte or int8
/// codes one per byte (<see cref="PackedFormat"/>), row by row, each row the concatenation of 32-column
/// blocks grouped by scale (<see cref="PackedLayout"/>), plus one float32 scale per row and group and, for
/// asymmetric grids, one int8 zero point per row and group. Value = (code − zero point) · scale, as in
/// <see cref="QuantizedWeight"/>. The tensors live on <see cref="Device"/>; on the CPU the kernels read
/// them in place through raw pointers.
/// </summary>
public sealed unsafe class PackedWeight : IDisposable
{
    readonly PackedLayout layout;
    PackedView? view;
    int[]? codeSums;
    bool disposed;

    /// <summary>Two codes per byte or one.</summary>
    public PackedFormat Format { get; }
    /// <summary>The grid the codes come from.</summary>
    public QuantizationArgs Args { get; }
    /// <summary>Output features (rows).</summary>
    public int OutFeatures { get; }
    /// <summary>Input features (columns of the unpacked weight).</summary>
    public int InFeatures { get; }
    /// <summary>Codes [out, bytes per row]: uint8 nibble pairs (<see cref="PackedFormat.Int4"/>) or int8.</summary>
    public Tensor Data { get; }
    /// <summary>Scales [out, groups], float32.</summary>
    public Tensor Scale { get; }
    /// <summary>Zero points [out, groups] (int8, in the signed code space), or null for a symmetric grid.</summary>
    public Tensor? ZeroPoint { get; }
    /// <summary>Where the tensors live.</summary>
    public Device Device => Data.device;

    /// <summary>Bytes held: codes, scales, zero points and the column layout.</summary>
    public long WeightBytes =>
        TensorMemory.ByteLength(Data) + TensorMemory.ByteLength(Scale) + (ZeroPoint is null ? 0 : TensorMemory.ByteLength(ZeroPoint)) + layout.Bytes;

    internal PackedLayout Layout => layout;

    /// <summary>The code that a zero-point-free group subtracts: 8 for the unsigned nibbles of int4, 0 for int8.</summary>
    internal int CodeOffset => Format == PackedFormat.Int4 ? 8 : 0;

    PackedWeight(PackedFormat format, QuantizationArgs args, int outFeatures, PackedLayout layout, Tensor data, Tensor scale, Tensor? zeroPoint)
    {
        (Format, Args, OutFeatures, InFeatures, this.layout) = (format, args, outFeatures, layout.Columns, layout);
        (Data, Scale, ZeroPoint) = (data, scale, zeroPoint);
    }

    /// <summary>
    /// Packs <paramref name="weight"/> on its device. Integer grids of 2–4 bits become <see cref="PackedFormat.Int4"/>,
    /// 5–8 bits <see cref="PackedFormat.Int8"/>. Act-order g_idx is handled by gathering each group's columns
    /// together (x is gathered the same way per call); per-tensor scales are repeated per row. FP8 grids are
    /// not packed: throws <see cref="NotSupportedException"/>.
    /// </summary>
    public static PackedWeight From(QuantizedWeight weight)
    {
        ArgumentNullException.ThrowIfNull(weight);
        if (weight.Codes.dim() != 2)
            throw new ArgumentException($"QuantizedWeight.Codes: expected [out, in], got [{string.Join(", ", weight.Codes.shape)}]", nameof(weight));
        int rows = checked((int)weight.Codes.shape[0]), columns = checked((int)weight.Codes.shape[1]);
        var args = CheckedArgs(weight.Args, rows, columns, weight.Scale, weight.ZeroPoint, weight.GIdx);
        var codes = HostArray<sbyte>(weight.Codes, ScalarType.Int8);
        return Pack(args, rows, columns, weight.Scale, weight.ZeroPoint, weight.GIdx, weight.Codes.device,
            (r, row) => codes.AsSpan((int)((long)r * columns), columns).CopyTo(row));
    }

    /// <summary>Writes row <paramref name="row"/>'s codes, in input-column order, into <paramref name="codes"/>; called from several threads at once.</summary>
    public delegate void CodeRowReader(int row, Span<sbyte> codes);

    /// <summary>
    /// Packs a weight [<paramref name="rows"/>, <paramref name="columns"/>] on the CPU whose codes
    /// <paramref name="codesOfRow"/> supplies row by row, with the grids of <see cref="QuantizedWeight"/>
    /// (<paramref name="scale"/>, <paramref name="zeroPoint"/>, <paramref name="gIdx"/>, <paramref name="args"/>):
    /// what <see cref="From(QuantizedWeight)"/> packs, without a tensor of unpacked codes in between, so a
    /// loader can decode its own storage (compressed-tensors' int32 words) straight into this layout in one
    /// parallel pass.
    /// </summary>
    public static PackedWeight FromRows(int rows, int columns, Tensor scale, Tensor zeroPoint, Tensor gIdx, QuantizationArgs args, CodeRowReader codesOfRow)
    {
        ArgumentNullException.ThrowIfNull(codesOfRow);
        var valid = CheckedArgs(args, rows, columns, scale, zeroPoint, gIdx);
        return Pack(valid, rows, columns, scale, zeroPoint, gIdx, CPU, codesOfRow);
    }

    static QuantizationArgs CheckedArgs(QuantizationArgs args, int rows, int columns, Tensor scale, Tensor zeroPoint, Tensor gIdx)
    {
        var valid = args.Validated();
        if (valid.Type != QuantizationType.Int)
            throw new NotSupportedException("QuantizedWeight.Args.Type: only integer grids are packed; FP8 weights take the dequantize-then-matmul path");
        long scaleRows = scale.shape[0];
        if (scale.dim() != 2 || (scaleRows != rows && scaleRows != 1))
            throw new ArgumentException($"QuantizedWeight.Scale: expected [{rows}, groups] or [1, 1], got [{string.Join(", ", scale.shape)}]", "weight");
        if (!zeroPoint.shape.SequenceEqual(scale.shape))
            throw new ArgumentException($"QuantizedWeight.ZeroPoint: expected the shape of Scale [{string.Join(", ", scale.shape)}], got [{string.Join(", ", zeroPoint.shape)}]", "weight");
        if (gIdx.numel() != columns)
            throw new ArgumentException($"QuantizedWeight.GIdx: expected {columns} entries, got {gIdx.numel()}", "weight");
        return valid;
    }

    static PackedWeight Pack(QuantizationArgs args, int rows, int columns, Tensor scale, Tensor zeroPoint, Tensor gIdx, Device device, CodeRowReader codesOfRow)
    {
        long scaleRows = scale.shape[0];
        int groups = checked((int)scale.shape[1]);
        var format = args.NumBits <= 4 ? PackedFormat.Int4 : PackedFormat.Int8;
        var layout = PackedLayout.Create(HostArray<int>(gIdx, ScalarType.Int32), groups);
        var scales = Repeat(HostArray<float>(scale, ScalarType.Float32), scaleRows, rows);
        var zero = Repeat(HostArray<sbyte>(zeroPoint, ScalarType.Int8), scaleRows, rows);
        var (qmin, qmax) = (args.QMin, args.QMax);
        foreach (var z in zero)
            if (z < qmin || z > qmax)
                throw new ArgumentException($"QuantizedWeight.ZeroPoint: {z} lies outside the {args.NumBits}-bit code range [{qmin}, {qmax}]", "weight");

        int k = layout.PaddedColumns;
        var data = format == PackedFormat.Int4 ? empty(new long[] { rows, k / 2 }, ScalarType.Byte) : empty(new long[] { rows, k }, ScalarType.Int8);
        try
        {
            PackRows(codesOfRow, rows, layout, qmin, qmax, format, (nint)TensorMemory.Address(data));
        }
        catch
        {
            data.Dispose();
            throw;
        }
        var scaleTensor = tensor(scales, new long[] { rows, groups });
        var zeroTensor = zero.All(z => z == 0) ? null : tensor(zero, new long[] { rows, groups });
        return new PackedWeight(format, args, rows, layout, Moved(data, device)!, Moved(scaleTensor, device)!, Moved(zeroTensor, device));
    }

    /// <summary>A copy on <paramref name="device"/> (this one stays valid); the layout is shared.</summary>
    public PackedWeight To(Device device)
    {
        ThrowIfDisposed();
        return new PackedWeight(Format, Args, OutFeatures, layout,
            Data.to(device).DetachFromDisposeScope(), Scale.to(device).DetachFromDisposeScope(), ZeroPoint?.to(device).DetachFromDisposeScope());
    }

    /// <summary>
    /// The weight [out, in] in <paramref name="dtype"/> on <see cref="Device"/>, computed with tensor ops (any
    /// device): the compute path for GPUs and the reference layout for tests.
    /// </summary>
    public Tensor Dequantize(ScalarType dtype = ScalarType.Float32)
    {
        ThrowIfDisposed();
        using var scope = NewDisposeScope();
        int k = layout.PaddedColumns;
        Tensor codes;
        if (Format == PackedFormat.Int4)
        {
            var pairs = Data.view(OutFeatures, k / 32, 16);
            var low = pairs.bitwise_and(15);
            var high = pairs.bitwise_right_shift(4);
            codes = stack(new[] { low, high }, 2).reshape(OutFeatures, k).to_type(ScalarType.Float32).Minus(CodeOffset);
        }
        else codes = Data.to_type(ScalarType.Float32);
        var groupOfColumn = tensor(GroupOfPackedColumn(), device: Device);
        var scale = Scale.index_select(1, groupOfColumn);
        var values = ZeroPoint is null
            ? codes * scale
            : (codes - ZeroPoint.to_type(ScalarType.Float32).index_select(1, groupOfColumn)) * scale;
        if (layout.ColumnOrder is { } order)
            values = values.index_select(1, tensor(PackedPositionOfColumn(order, InFeatures), device: Device));
        return values.to_type(dtype).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The raw pointers the CPU kernels read; valid while this weight is alive. Taken once: the tensors never
    /// move, and taking an address costs two native tensor views.
    /// </summary>
    internal PackedView View()
    {
        ThrowIfDisposed();
        if (Device.type != DeviceType.CPU)
            throw new InvalidOperationException($"PackedWeight.Device: the CPU kernels need a CPU weight, this one is on {Device}");
        return view ??= new PackedView(
            TensorMemory.Address(Data), (float*)TensorMemory.Address(Scale),
            ZeroPoint is null ? null : (sbyte*)TensorMemory.Address(ZeroPoint),
            (int*)Unsafe.AsPointer(ref layout.GroupBlocks[0]),
            layout.Groups, layout.PaddedColumns, (int)(Data.shape[1]), OutFeatures, CodeOffset);
    }

    /// <summary>
    /// Σ of the stored int8 codes per row and group [rows, groups], pinned: what the +128 offset of
    /// <see cref="Int8Gemm"/>'s VNNI path adds to every dot product. Computed on first use (one pass over the codes).
    /// </summary>
    internal int[] GroupCodeSums() => LazyInitializer.EnsureInitialized(ref codeSums, () =>
    {
        if (Format != PackedFormat.Int8)
            throw new InvalidOperationException($"PackedWeight.Format: code sums are kept for int8 weights, this one is {Format}");
        var v = View();
        var sums = GC.AllocateArray<int>(OutFeatures * v.Groups, pinned: true);
        for (int r = 0; r < OutFeatures; r++)
        {
            var codes = new ReadOnlySpan<sbyte>(v.Data + (long)r * v.RowBytes, v.PaddedColumns);
            for (int g = 0; g < v.Groups; g++)
            {
                int sum = 0;
                foreach (var c in codes[(v.GroupBlocks[g] * PackedLayout.BlockColumns)..(v.GroupBlocks[g + 1] * PackedLayout.BlockColumns)]) sum += c;
                sums[r * v.Groups + g] = sum;
            }
        }
        return sums;
    });

    /// <summary>Frees the tensors.</summary>
    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        Data.Dispose();
        Scale.Dispose();
        ZeroPoint?.Dispose();
    }

    void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(disposed, this);

    long[] GroupOfPackedColumn()
    {
        var group = new long[layout.PaddedColumns];
        for (int g = 0; g < layout.Groups; g++)
            group.AsSpan(layout.GroupBlocks[g] * PackedLayout.BlockColumns, (layout.GroupBlocks[g + 1] - layout.GroupBlocks[g]) * PackedLayout.BlockColumns).Fill(g);
        return group;
    }

    static long[] PackedPositionOfColumn(int[] order, int columns)
    {
        var position = new long[columns];
        for (int k = 0; k < order.Length; k++)
            if (order[k] >= 0) position[order[k]] = k;
        return position;
    }

    // Each row's codes are read, checked against the grid, put in packed column order (act-order gathers them;
    // padding gets code 0, whose x entries are zero, so any finite weight leaves the sum alone) and written to
    // row r of the output: int4 as nibble pairs, element j of a 32-block in the low nibble of byte j and element
    // j + 16 in its high nibble; int8 as they are. Rows run in parallel; a bad code stops the pass and the first
    // one is reported.
    static void PackRows(CodeRowReader codesOfRow, int rows, PackedLayout layout, int qmin, int qmax, PackedFormat format, nint output)
    {
        int k = layout.PaddedColumns, columns = layout.Columns, rowBytes = format == PackedFormat.Int4 ? k / 2 : k;
        var offset = Vector128.Create((byte)8);
        var bad = (Row: int.MaxValue, Column: 0, Code: (sbyte)0);
        object badLock = new();
        Parallel.For(0, rows, () => (Codes: new sbyte[columns], Ordered: new sbyte[k]), (r, state, buffers) =>
        {
            var (codes, row) = buffers;
            codesOfRow(r, codes);
            int outside = codes.AsSpan().IndexOfAnyExceptInRange((sbyte)qmin, (sbyte)qmax);
            if (outside >= 0)
            {
                lock (badLock)
                    if (r < bad.Row) bad = (r, outside, codes[outside]);
                state.Break();
                return buffers;
            }
            if (layout.ColumnOrder is { } order)
                for (int p = 0; p < k; p++) row[p] = order[p] < 0 ? (sbyte)0 : codes[order[p]];
            else
            {
                codes.CopyTo(row, 0);
                row.AsSpan(columns).Clear();
            }
            var destination = new Span<byte>((byte*)output + (long)r * rowBytes, rowBytes);
            if (format == PackedFormat.Int8)
                MemoryMarshal.AsBytes(row.AsSpan()).CopyTo(destination);
            else
                for (int block = 0; block < k / 32; block++)
                {
                    var low = Vector128.Create(MemoryMarshal.AsBytes(row.AsSpan(block * 32, 16))) + offset;
                    var high = Vector128.Create(MemoryMarshal.AsBytes(row.AsSpan(block * 32 + 16, 16))) + offset;
                    (low | Vector128.ShiftLeft(high.AsUInt16(), 4).AsByte()).CopyTo(destination[(block * 16)..]);
                }
            return buffers;
        }, _ => { });
        if (bad.Row != int.MaxValue)
            throw new ArgumentException($"QuantizedWeight.Codes: code {bad.Code} at [{bad.Row}, {bad.Column}] lies outside the grid's range [{qmin}, {qmax}]", "Codes");
    }

    static T[] HostArray<T>(Tensor t, ScalarType dtype) where T : unmanaged
    {
        using var host = t.to_type(dtype).cpu().contiguous();
        var array = new T[host.numel()];
        new ReadOnlySpan<T>(TensorMemory.Address(host), array.Length).CopyTo(array);
        return array;
    }

    // A per-tensor grid ([1, 1]) is repeated per row so that every row reads its scale the same way.
    static T[] Repeat<T>(T[] values, long scaleRows, int rows)
    {
        if (scaleRows == rows) return values;
        var repeated = new T[rows * values.Length];
        for (int r = 0; r < rows; r++) values.CopyTo(repeated, r * values.Length);
        return repeated;
    }

    static Tensor? Moved(Tensor? t, Device device)
    {
        if (t is null) return null;
        if (device.type == DeviceType.CPU) return t.DetachFromDisposeScope();
        using (t) return t.to(device).DetachFromDisposeScope();
    }
}
