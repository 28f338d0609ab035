using Kit.Models;
using Kit.Tests.Runtime;

namespace Kit.Tests.Architecture;

/// <summary>Dependencies between Kit's folders run one way: what a folder's IL calls, read from Kit.dll.</summary>
public sealed class FolderDependencyTests
{
    // "Caller.Method → Callee.Method" for every call from a namespace under `from` into one that `into` accepts.
    static List<string> Calls(string from, Func<string, bool> into) =>
        IlCalls.MethodsOf(typeof(LanguageModel).Assembly)
            .Where(m => m.DeclaringType?.Namespace is { } ns && (ns == from || ns.StartsWith(from + ".", StringComparison.Ordinal)))
            .SelectMany(m => IlCalls.CalledBy(m).Select(c => (Caller: m, Callee: c)))
            .Where(c => c.Callee.DeclaringType?.Namespace is { } ns && into(ns))
            .Select(c => $"{c.Caller.DeclaringType!.Name}.{c.Caller.Name} → {c.Callee.DeclaringType!.FullName}.{c.Callee.Name}")
            .Distinct().ToList();

    [Fact]
    public void Models_calls_nothing_in_formats_or_the_compressed_layers()
    {
        // Loading by format goes through ModelFormats, which Formats fills. The kernels the network itself runs
        // (Inference.Kernels) are another matter.
        var calls = Calls("Kit.Models", ns => ns.StartsWith("Kit.Formats", StringComparison.Ordinal)
            || ns is "Kit.Inference" or "Kit.Inference.Fp8" or "Kit.Inference.Sparse");
        Assert.True(calls.Count == 0, string.Join("\n", calls));
    }

    [Fact]
    public void Calibration_hands_its_layers_to_sinks_and_calls_nothing_in_formats()
    {
        var calls = Calls("Kit.Calibration", ns => ns.StartsWith("Kit.Formats", StringComparison.Ordinal));
        Assert.True(calls.Count == 0, string.Join("\n", calls));
    }
}
