using Kit.Quantization;
using static TorchSharp.torch;

namespace Kit.Tests.Inference.Kernels;

/// <summary>Random quantized weights and activations, and float64 references computed straight from the codes.</summary>
internal static class KernelTestData
{
    /// <summary>
    /// A weight [rows, columns] with uniform random codes on the grid of <paramref name="args"/>, scales in
    /// [0.01, 0.05), random zero points when asymmetric, and g_idx = j / group size, or a random assignment
    /// of columns to groups when <paramref name="shuffledGroups"/> (act-order).
    /// </summary>
    public static QuantizedWeight Weight(int rows, int columns, QuantizationArgs args, int seed, bool shuffledGroups = false)
    {
        var random = new Random(seed);
        int groups = args.ScalesPerRow(columns), perScale = args.ColumnsPerScale(columns);
        int scaleRows = args.Strategy == QuantizationStrategy.Tensor ? 1 : rows;
        var codes = new sbyte[rows * columns];
        for (int i = 0; i < codes.Length; i++) codes[i] = (sbyte)random.Next(args.QMin, args.QMax + 1);
        var scale = new float[scaleRows * groups];
        var zero = new sbyte[scaleRows * groups];
        for (int i = 0; i < scale.Length; i++)
        {
            scale[i] = 0.01f + 0.04f * random.NextSingle();
            if (!args.Symmetric) zero[i] = (sbyte)random.Next(args.QMin, args.QMax + 1);
        }
        var gIdx = new int[columns];
        for (int j = 0; j < columns; j++) gIdx[j] = j / perScale;
        if (shuffledGroups) random.Shuffle(gIdx);
        return new QuantizedWeight(
            tensor(codes, new long[] { rows, columns }), tensor(scale, new long[] { scaleRows, groups }),
            tensor(zero, new long[] { scaleRows, groups }), tensor(gIdx), args);
    }

    /// <summary>Activations [batch, columns], normal with a few large outliers as real hidden states have.</summary>
    public static float[] Activations(int batch, int columns, int seed)
    {
        var random = new Random(seed);
        var x = new float[batch * columns];
        for (int i = 0; i < x.Length; i++)
        {
            double u = 1 - random.NextDouble(), v = random.NextDouble();
            x[i] = (float)(Math.Sqrt(-2 * Math.Log(u)) * Math.Cos(2 * Math.PI * v));
            if (random.Next(50) == 0) x[i] *= 8;
        }
        return x;
    }

    /// <summary>The weight's values (code − zero) · scale in float64, read from the codes with g_idx, [rows][columns].</summary>
    public static double[][] Values(QuantizedWeight w)
    {
        var codes = Rows<sbyte>(w.Codes);
        var scale = Rows<float>(w.Scale);
        var zero = Rows<sbyte>(w.ZeroPoint);
        var gIdx = w.GIdx.data<int>().ToArray();
        return codes.Select((row, r) => row.Select((code, j) =>
        {
            int sr = scale.Length == 1 ? 0 : r;
            return (code - (double)zero[sr][gIdx[j]]) * scale[sr][gIdx[j]];
        }).ToArray()).ToArray();
    }

    /// <summary>y = x · Wᵀ in float64, and Σ|x·w| per output (the size an accumulation error scales with).</summary>
    public static (double[] Y, double[] Magnitude) Reference(float[] x, int batch, double[][] w) =>
        Reference(Array.ConvertAll(x, v => (double)v), batch, w);

    /// <summary>y = x · Wᵀ in float64 for float64 activations, and Σ|x·w| per output.</summary>
    public static (double[] Y, double[] Magnitude) Reference(double[] x, int batch, double[][] w)
    {
        int rows = w.Length, columns = w[0].Length;
        var y = new double[batch * rows];
        var magnitude = new double[batch * rows];
        for (int b = 0; b < batch; b++)
            for (int r = 0; r < rows; r++)
                for (int j = 0; j < columns; j++)
                {
                    double p = x[b * columns + j] * w[r][j];
                    y[b * rows + r] += p;
                    magnitude[b * rows + r] += Math.Abs(p);
                }
        return (y, magnitude);
    }

    /// <summary>Asserts |y − reference| ≤ tolerance · Σ|x·w| for every output.</summary>
    public static void AssertClose(float[] y, (double[] Y, double[] Magnitude) reference, double tolerance)
    {
        Assert.Equal(reference.Y.Length, y.Length);
        for (int i = 0; i < y.Length; i++)
            Assert.True(Math.Abs(y[i] - reference.Y[i]) <= tolerance * reference.Magnitude[i] + 1e-30,
                $"output {i}: {y[i]} but the reference is {reference.Y[i]} (Σ|x·w| = {reference.Magnitude[i]})");
    }

    static T[][] Rows<T>(Tensor t) where T : unmanaged
    {
        var flat = t.data<T>().ToArray();
        int columns = (int)t.shape[1];
        return Enumerable.Range(0, (int)t.shape[0]).Select(r => flat.AsSpan(r * columns, columns).ToArray()).ToArray();
    }
}
