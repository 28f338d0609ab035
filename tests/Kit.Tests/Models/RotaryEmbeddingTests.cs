using Kit.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Kit.Tests.Models;

public sealed class RotaryEmbeddingTests
{
    // [B, T] positions, the second row as a left-padded prompt would have them.
    static readonly long[,] Positions = { { 0, 1, 2 }, { 5, 7, 1000 } };

    /// <summary>rotate_half RoPE written out per pair: (x_j, x_{j+d/2}) turned by the angle position·f_j, in float64.</summary>
    static double[] Rotated(double[] x, int batch, int time, int heads, int dim, double[] freq)
    {
        var y = new double[x.Length];
        int half = dim / 2;
        for (int b = 0; b < batch; b++)
            for (int t = 0; t < time; t++)
                for (int h = 0; h < heads; h++)
                {
                    int o = ((b * time + t) * heads + h) * dim;
                    for (int j = 0; j < half; j++)
                    {
                        double angle = Positions[b, t] * freq[j], c = Math.Cos(angle), s = Math.Sin(angle);
                        y[o + j] = x[o + j] * c - x[o + j + half] * s;
                        y[o + j + half] = x[o + j + half] * c + x[o + j] * s;
                    }
                }
        return y;
    }

    [Theory]
    [InlineData(ScalarType.Float64, 1e-12)]
    [InlineData(ScalarType.Float32, 2e-5)]
    public void Shared_angles_rotate_each_pair_by_position_times_frequency(ScalarType dtype, double tolerance)
    {
        var config = TinyModels.Llama3Scaled();
        int batch = 2, time = 3, heads = 2, dim = config.HeadDim;
        var rng = new Random(7);
        var x = Enumerable.Range(0, batch * time * heads * dim).Select(_ => rng.NextDouble() * 2 - 1).ToArray();
        var expected = Rotated(x, batch, time, heads, dim, RotaryEmbedding.InverseFrequencies(config));

        var rope = new RotaryEmbedding(config, CPU);
        using var positions = tensor(Positions.Cast<long>().ToArray(), batch, time);
        var (cos, sin) = rope.Angles(positions, dtype);
        using var input = tensor(x, new long[] { batch, time, heads, dim }, ScalarType.Float64).to_type(dtype);
        using var actual = RotaryEmbedding.Apply(input, cos, sin).to_type(ScalarType.Float64);
        cos.Dispose();
        sin.Dispose();
        var values = actual.data<double>().ToArray();
        double maxErr = values.Select((v, i) => Math.Abs(v - expected[i])).Max();
        Assert.True(maxErr < tolerance, $"{dtype}: max error {maxErr}");
    }
}
