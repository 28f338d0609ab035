using static TorchSharp.torch;

namespace Kit.Tests.Inference.Sparse;

/// <summary>Random 2:4 weights built position by position, and a float64 reference product.</summary>
internal static class Sparse24TestData
{
    /// <summary>
    /// W [rows, columns] with 2 random kept positions in every group of 4; about one group in eight keeps a
    /// zero in one of them (fewer than 2 non-zeros), as a pruned weight can.
    /// </summary>
    public static double[,] Weight(int rows, int columns, int seed)
    {
        var random = new Random(seed);
        var w = new double[rows, columns];
        for (int r = 0; r < rows; r++)
            for (int g = 0; g < columns; g += 4)
            {
                int a = random.Next(4), b = (a + 1 + random.Next(3)) % 4;
                w[r, g + a] = random.NextDouble() * 2 - 1;
                w[r, g + b] = random.Next(8) == 0 ? 0 : random.NextDouble() * 2 - 1;
            }
        return w;
    }

    /// <summary>The weight as a tensor [rows, columns] of <paramref name="dtype"/>.</summary>
    public static Tensor Tensor(double[,] w, ScalarType dtype = ScalarType.Float32) => tensor(w).to_type(dtype);

    /// <summary>y = x · Wᵀ and Σ|x·w| per output, in float64 from the float32-rounded weights.</summary>
    public static (double[] Y, double[] Magnitude) Reference(float[] x, int batch, double[,] w)
    {
        int rows = w.GetLength(0), columns = w.GetLength(1);
        var y = new double[batch * rows];
        var magnitude = new double[batch * rows];
        for (int b = 0; b < batch; b++)
            for (int r = 0; r < rows; r++)
                for (int c = 0; c < columns; c++)
                {
                    double p = x[b * columns + c] * (double)(float)w[r, c];
                    y[b * rows + r] += p;
                    magnitude[b * rows + r] += Math.Abs(p);
                }
        return (y, magnitude);
    }

    /// <summary>Asserts every output within <paramref name="tolerance"/> · Σ|x·w| of the reference.</summary>
    public static void AssertClose(ReadOnlySpan<float> y, (double[] Y, double[] Magnitude) reference, double tolerance, string what)
    {
        Assert.Equal(reference.Y.Length, y.Length);
        for (int i = 0; i < y.Length; i++)
            Assert.True(Math.Abs(y[i] - reference.Y[i]) <= tolerance * reference.Magnitude[i] + 1e-30,
                $"{what}, output {i}: {y[i]} but the reference is {reference.Y[i]} (Σ|x·w| = {reference.Magnitude[i]})");
    }

    /// <summary>Normal random inputs.</summary>
    public static float[] Input(int count, int seed)
    {
        var random = new Random(seed);
        var x = new float[count];
        for (int i = 0; i < count; i++) x[i] = (float)(Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()));
        return x;
    }
}
