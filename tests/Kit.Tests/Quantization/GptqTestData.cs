using static TorchSharp.torch;

namespace Kit.Tests.Quantization;

/// <summary>Seeded layers and plain-array linear algebra for the GPTQ and HessianInverse tests.</summary>
internal static class GptqTestData
{
    /// <summary>Standard normal samples [rows, cols] from a seeded System.Random (independent of torch's RNG).</summary>
    public static double[,] Gaussian(int rows, int cols, int seed)
    {
        var random = new Random(seed);
        var a = new double[rows, cols];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++)
                a[r, c] = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
        return a;
    }

    /// <summary>
    /// Inputs [tokens, cols] with strongly correlated columns: a few latent factors mixed into every column
    /// plus a little noise, each column scaled differently so that diag(H) has no ties.
    /// </summary>
    public static double[,] CorrelatedInputs(int tokens, int cols, int seed, int factors = 4, double noise = 0.1)
    {
        var z = Gaussian(tokens, factors, seed);
        var mix = Gaussian(factors, cols, seed + 1000);
        var e = Gaussian(tokens, cols, seed + 2000);
        var x = new double[tokens, cols];
        for (int t = 0; t < tokens; t++)
            for (int c = 0; c < cols; c++)
            {
                double v = noise * e[t, c];
                for (int f = 0; f < factors; f++) v += z[t, f] * mix[f, c];
                x[t, c] = v * (1 + 0.05 * c);
            }
        return x;
    }

    /// <summary>H = 2/n XᵀX for inputs [n, cols].</summary>
    public static double[,] Hessian(double[,] x)
    {
        int n = x.GetLength(0), cols = x.GetLength(1);
        var h = new double[cols, cols];
        for (int i = 0; i < cols; i++)
            for (int j = 0; j < cols; j++)
            {
                double s = 0;
                for (int t = 0; t < n; t++) s += x[t, i] * x[t, j];
                h[i, j] = 2 * s / n;
            }
        return h;
    }

    /// <summary>H + fraction · mean(diag H) · I.</summary>
    public static double[,] Damped(double[,] h, double fraction)
    {
        int n = h.GetLength(0);
        double mean = 0;
        for (int i = 0; i < n; i++) mean += h[i, i] / n;
        var d = (double[,])h.Clone();
        for (int i = 0; i < n; i++) d[i, i] += fraction * mean;
        return d;
    }

    /// <summary>Inverse by Gauss–Jordan elimination with partial pivoting.</summary>
    public static double[,] Inverse(double[,] a)
    {
        int n = a.GetLength(0);
        var m = new double[n, 2 * n];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++) m[i, j] = a[i, j];
            m[i, n + i] = 1;
        }
        for (int c = 0; c < n; c++)
        {
            int pivot = c;
            for (int r = c + 1; r < n; r++)
                if (Math.Abs(m[r, c]) > Math.Abs(m[pivot, c])) pivot = r;
            for (int j = 0; j < 2 * n; j++) (m[c, j], m[pivot, j]) = (m[pivot, j], m[c, j]);
            double p = m[c, c];
            for (int j = 0; j < 2 * n; j++) m[c, j] /= p;
            for (int r = 0; r < n; r++)
            {
                if (r == c) continue;
                double f = m[r, c];
                for (int j = 0; j < 2 * n; j++) m[r, j] -= f * m[c, j];
            }
        }
        var inv = new double[n, n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) inv[i, j] = m[i, n + j];
        return inv;
    }

    /// <summary>The rows and columns <paramref name="from"/>.. of a square matrix.</summary>
    public static double[,] Trailing(double[,] a, int from)
    {
        int n = a.GetLength(0) - from;
        var t = new double[n, n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) t[i, j] = a[from + i, from + j];
        return t;
    }

    /// <summary>Upper triangular U with UᵀU = A, by the Cholesky–Banachiewicz recurrence on A's rows.</summary>
    public static double[,] UpperCholesky(double[,] a)
    {
        int n = a.GetLength(0);
        var u = new double[n, n];
        for (int i = 0; i < n; i++)
        {
            double s = a[i, i];
            for (int k = 0; k < i; k++) s -= u[k, i] * u[k, i];
            u[i, i] = Math.Sqrt(s);
            for (int j = i + 1; j < n; j++)
            {
                double t = a[i, j];
                for (int k = 0; k < i; k++) t -= u[k, i] * u[k, j];
                u[i, j] = t / u[i, i];
            }
        }
        return u;
    }

    public static Tensor ToTensor(double[,] a, ScalarType dtype = ScalarType.Float64) =>
        tensor(a.Cast<double>().ToArray(), a.GetLength(0), a.GetLength(1)).to_type(dtype);

    public static double[,] ToArray(Tensor t)
    {
        var flat = t.to_type(ScalarType.Float64).cpu().contiguous().data<double>().ToArray();
        int rows = (int)t.shape[0], cols = (int)t.shape[1];
        var a = new double[rows, cols];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++) a[r, c] = flat[r * cols + c];
        return a;
    }

    /// <summary>‖(W − Ŵ) Xᵀ‖², the layer's output error on inputs X [tokens, in].</summary>
    public static double OutputError(Tensor w, Tensor wHat, Tensor x)
    {
        using var scope = NewDisposeScope();
        return (w.to_type(ScalarType.Float64) - wHat.to_type(ScalarType.Float64)).matmul(x.to_type(ScalarType.Float64).T).square().sum().item<double>();
    }
}
