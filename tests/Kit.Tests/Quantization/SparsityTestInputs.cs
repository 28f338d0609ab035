using static TorchSharp.torch;

namespace Kit.Tests.Quantization;

/// <summary>Random layers and calibration inputs for the pruning tests, and the errors they are judged by.</summary>
internal static class SparsityTestInputs
{
    /// <summary>
    /// A weight [rows, columns] and inputs X [tokens, columns] in float64. Inputs are <paramref name="factors"/>
    /// shared random directions plus independent noise of size <paramref name="noise"/> (so columns are
    /// correlated, which second-order compensation exploits; 0 factors gives independent columns), and
    /// each column is scaled by exp(U(−spread, spread)) (so column norms differ, which Wanda exploits).
    /// </summary>
    public static (Tensor W, Tensor X) Layer(int seed, int rows, int columns, int tokens, int factors = 16, double noise = 0.3, double spread = 0.0)
    {
        var g = new Generator((ulong)seed);
        var W = randn(rows, columns, ScalarType.Float64, generator: g);
        var X = noise * randn(tokens, columns, ScalarType.Float64, generator: g);
        if (factors > 0)
            X += randn(tokens, factors, ScalarType.Float64, generator: g).matmul(randn(factors, columns, ScalarType.Float64, generator: g));
        var scales = ((rand(columns, ScalarType.Float64, generator: g) * 2 - 1) * spread).exp();
        return (W, X * scales);
    }

    /// <summary>The Hessian 2/n XᵀX of inputs X [tokens, columns], as the reference's <c>add_batch</c>.</summary>
    public static Tensor Hessian(Tensor X) => X.T.matmul(X) * (2.0 / X.shape[0]);

    /// <summary>‖W Xᵀ − Ŵ Xᵀ‖², the layer's output error over the calibration tokens.</summary>
    public static double OutputError(Tensor W, Tensor pruned, Tensor X)
    {
        using var scope = NewDisposeScope();
        return (W.to_type(ScalarType.Float64) - pruned.to_type(ScalarType.Float64)).matmul(X.T).square().sum().item<double>();
    }

    /// <summary>
    /// The optimum for a fixed mask, row by row, in plain doubles: minimise ‖(w − ŵ) Xᵀ‖² with ŵ_j = 0 on
    /// the mask. With G = XᵀX, K the kept and P the pruned columns, the normal equations give
    /// G_KK ŵ_K = G_KK w_K + G_KP w_P.
    /// </summary>
    public static double[,] LeastSquares(Tensor W, Tensor X, bool[,] mask)
    {
        var w = ToArray(W);
        var G = ToArray(X.T.matmul(X));
        int rows = w.GetLength(0), columns = w.GetLength(1);
        var result = new double[rows, columns];
        for (int r = 0; r < rows; r++)
        {
            var kept = Enumerable.Range(0, columns).Where(j => !mask[r, j]).ToArray();
            var pruned = Enumerable.Range(0, columns).Where(j => mask[r, j]).ToArray();
            var a = new double[kept.Length, kept.Length];
            var b = new double[kept.Length];
            for (int i = 0; i < kept.Length; i++)
            {
                for (int k = 0; k < kept.Length; k++) a[i, k] = G[kept[i], kept[k]];
                b[i] = kept.Sum(k => G[kept[i], k] * w[r, k]) + pruned.Sum(p => G[kept[i], p] * w[r, p]);
            }
            var x = Solve(a, b);
            for (int i = 0; i < kept.Length; i++) result[r, kept[i]] = x[i];
        }
        return result;
    }

    public static double[,] ToArray(Tensor t)
    {
        var data = t.to_type(ScalarType.Float64).contiguous().data<double>().ToArray();
        int rows = (int)t.shape[0], columns = (int)t.shape[1];
        var a = new double[rows, columns];
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < columns; j++) a[i, j] = data[i * columns + j];
        return a;
    }

    public static bool[,] ToMask(Tensor mask)
    {
        var data = mask.contiguous().data<bool>().ToArray();
        int rows = (int)mask.shape[0], columns = (int)mask.shape[1];
        var a = new bool[rows, columns];
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < columns; j++) a[i, j] = data[i * columns + j];
        return a;
    }

    public static Tensor FromMask(bool[,] mask)
    {
        int rows = mask.GetLength(0), columns = mask.GetLength(1);
        var flat = new bool[rows * columns];
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < columns; j++) flat[i * columns + j] = mask[i, j];
        return tensor(flat, rows, columns);
    }

    /// <summary>Gaussian elimination with partial pivoting.</summary>
    static double[] Solve(double[,] a, double[] b)
    {
        int n = b.Length;
        for (int c = 0; c < n; c++)
        {
            int p = Enumerable.Range(c, n - c).MaxBy(i => Math.Abs(a[i, c]));
            for (int k = 0; k < n; k++) (a[c, k], a[p, k]) = (a[p, k], a[c, k]);
            (b[c], b[p]) = (b[p], b[c]);
            for (int i = c + 1; i < n; i++)
            {
                double f = a[i, c] / a[c, c];
                for (int k = c; k < n; k++) a[i, k] -= f * a[c, k];
                b[i] -= f * b[c];
            }
        }
        var x = new double[n];
        for (int i = n - 1; i >= 0; i--)
        {
            double s = b[i];
            for (int k = i + 1; k < n; k++) s -= a[i, k] * x[k];
            x[i] = s / a[i, i];
        }
        return x;
    }
}
