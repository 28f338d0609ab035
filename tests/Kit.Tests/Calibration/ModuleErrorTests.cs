using Kit.Calibration;
using static TorchSharp.torch;

namespace Kit.Tests.Calibration;

public sealed class ModuleErrorTests
{
    [Fact]
    public void The_reported_error_is_the_output_error_per_token_from_the_inputs_themselves()
    {
        using var scope = NewDisposeScope();
        var g = new TorchSharp.torch.Generator(9);
        const int sequences = 6, tokens = 40, inputs = 96, outputs = 24;
        // Correlated inputs and a small perturbation of W, as a quantizer leaves it: sums that cancel are the hard case.
        var x = randn(sequences, tokens, 8, generator: g).matmul(randn(8, inputs, generator: g)) + 0.05 * randn(sequences, tokens, inputs, generator: g);
        var w = randn(outputs, inputs, generator: g);
        var after = w + 0.01 * randn(outputs, inputs, generator: g);
        using var hessian = new HessianAccumulator(inputs, CPU);
        hessian.Add(x.narrow(0, 0, 4));
        hessian.Add(x.narrow(0, 4, 2));

        var (perToken, relative) = SequentialCompressor.Errors(w, after, hessian.H, tokens);

        var x64 = x.reshape(-1, inputs).to_type(ScalarType.Float64);
        var delta = (w - after).to_type(ScalarType.Float64);
        double outputError = x64.matmul(delta.t()).square().sum().item<double>();
        double outputNorm = x64.matmul(w.to_type(ScalarType.Float64).t()).square().sum().item<double>();
        Assert.Equal(outputError / (sequences * tokens), perToken, 1e-5 * perToken);
        Assert.Equal(outputError / outputNorm, relative, 1e-5 * relative);
    }
}
