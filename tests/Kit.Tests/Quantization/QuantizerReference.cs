using static TorchSharp.torch;

namespace Kit.Tests.Quantization;

/// <summary>
/// compressed-tensors' integer grid and the GPTQ reference's MSE search, written out in float64 scalars
/// from the formulas (ANCHORS §2, §4), independently of Kit's tensor code.
/// </summary>
internal static class QuantizerReference
{
    /// <summary>Scale and zero point of a range that includes zero: absmax / (levels/2) symmetric, (max − min) / levels and round(qmin − min/scale) asymmetric.</summary>
    public static (double Scale, double Zero) Grid(double min, double max, int bits, bool symmetric)
    {
        double qmin = -(1 << (bits - 1)), qmax = (1 << (bits - 1)) - 1, levels = qmax - qmin;
        min = Math.Min(min, 0);
        max = Math.Max(max, 0);
        if (symmetric)
            return (Math.Max(Math.Abs(min), max) / (levels / 2), 0);
        double scale = (max - min) / levels;
        return (scale, Math.Clamp(Math.Round(qmin - min / scale), qmin, qmax));
    }

    /// <summary>(clamp(round(x / scale) + zero) − zero) · scale, ties to even.</summary>
    public static double FakeQuantize(double x, double scale, double zero, int bits)
    {
        double qmin = -(1 << (bits - 1)), qmax = (1 << (bits - 1)) - 1;
        double code = Math.Clamp(Math.Round(x / scale, MidpointRounding.ToEven) + zero, qmin, qmax);
        return (code - zero) * scale;
    }

    /// <summary>The grid point nearest to <paramref name="x"/>, found by trying all 2^b codes.</summary>
    public static double NearestByBruteForce(double x, double scale, double zero, int bits, out double distance)
    {
        double best = double.NaN;
        distance = double.PositiveInfinity;
        for (int code = -(1 << (bits - 1)); code < (1 << (bits - 1)); code++)
        {
            double value = (code - zero) * scale;
            if (Math.Abs(value - x) < distance)
            {
                distance = Math.Abs(value - x);
                best = value;
            }
        }
        return best;
    }

    /// <summary>Σ |q(x) − x|^norm over a row on the given grid.</summary>
    public static double Error(double[] row, double scale, double zero, int bits, double norm) =>
        row.Sum(x => Math.Pow(Math.Abs(FakeQuantize(x, scale, zero, bits) - x), norm));

    /// <summary>
    /// Every candidate of the GPTQ reference's MSE search on one row: p = 1 − i/grid for i &lt; int(maxshrink·grid),
    /// range scaled by p, and the error of its grid.
    /// </summary>
    public static IEnumerable<(double P, double Scale, double Zero, double Error)> MseCandidates(
        double[] row, int bits, bool symmetric, double norm = 2.4, int grid = 100, double maxShrink = 0.8)
    {
        double min = Math.Min(row.Min(), 0), max = Math.Max(row.Max(), 0);
        for (int i = 0; i < (int)(maxShrink * grid); i++)
        {
            double p = 1 - (double)i / grid;
            var (scale, zero) = Grid(min * p, max * p, bits, symmetric);
            yield return (p, scale, zero, Error(row, scale, zero, bits, norm));
        }
    }
}

/// <summary>Seeded random matrices for the quantization tests.</summary>
internal static class QuantizerData
{
    /// <summary>Standard normal values [rows, cols] from <paramref name="seed"/>, as float64 arrays.</summary>
    public static double[][] Normal(int rows, int cols, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, rows).Select(_ => Enumerable.Range(0, cols).Select(_ => Gaussian(random)).ToArray()).ToArray();
    }

    /// <summary>
    /// Rows where most values are small and a few are large (Student-t with 2 degrees of freedom), the
    /// weight shape where clipping the range pays.
    /// </summary>
    public static double[][] HeavyTailed(int rows, int cols, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, rows).Select(_ => Enumerable.Range(0, cols).Select(_ =>
        {
            double chi2 = Math.Pow(Gaussian(random), 2) + Math.Pow(Gaussian(random), 2);
            return Gaussian(random) / Math.Sqrt(chi2 / 2);
        }).ToArray()).ToArray();
    }

    /// <summary>
    /// Standard normal rows with a few outliers of 5–8 standard deviations, the weight shape where clipping
    /// the range pays: the outliers stretch the min-max step for every other value.
    /// </summary>
    public static double[][] WithOutliers(int rows, int cols, int seed)
    {
        var values = Normal(rows, cols, seed);
        var random = new Random(seed + 1);
        foreach (var row in values)
            for (int k = 0; k < 3; k++)
                row[random.Next(cols)] = (random.Next(2) * 2 - 1) * (5 + 3 * random.NextDouble());
        return values;
    }

    /// <summary>A tensor [rows, cols] of <paramref name="dtype"/> holding <paramref name="values"/>.</summary>
    public static Tensor ToTensor(double[][] values, ScalarType dtype = ScalarType.Float32) =>
        tensor(values.SelectMany(r => r).ToArray(), new long[] { values.Length, values[0].Length }).to_type(dtype);

    /// <summary>The rows of a 2-D tensor as float64 arrays.</summary>
    public static double[][] Rows(Tensor t)
    {
        var d = t.to_type(ScalarType.Float64).contiguous().cpu();
        var flat = d.data<double>().ToArray();
        long cols = t.shape[1];
        return Enumerable.Range(0, (int)t.shape[0]).Select(r => flat.Skip((int)(r * cols)).Take((int)cols).ToArray()).ToArray();
    }

    /// <summary>The elements of any tensor as float32, in row-major order.</summary>
    public static float[] Floats(Tensor t)
    {
        var f = t.to_type(ScalarType.Float32).contiguous().cpu();
        return f.data<float>().ToArray();
    }

    /// <summary>Rounds float64 values to float32 and back, as the float32 tensors hold them.</summary>
    public static double[][] AsFloat32(double[][] values) => values.Select(r => r.Select(v => (double)(float)v).ToArray()).ToArray();

    /// <summary>Asserts element-wise |expected − actual| ≤ <paramref name="tolerance"/>, naming the first index that is off.</summary>
    public static void AssertClose(IReadOnlyList<double> expected, IReadOnlyList<float> actual, double tolerance)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (int i = 0; i < expected.Count; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance, $"element {i}: expected {expected[i]}, got {actual[i]}");
    }

    static double Gaussian(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
