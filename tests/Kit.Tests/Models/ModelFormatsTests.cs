using System.Reflection;
using Kit.Models;
using Kit.Tests.Runtime;

namespace Kit.Tests.Models;

public sealed class ModelFormatsTests
{
    [Fact]
    public void Formats_registers_gguf_then_compressed_tensors_then_2_of_4_as_kit_loads()
    {
        // Compressed-tensors before 2:4: a pruned and quantized folder carries both marks and must load packed.
        Assert.Equal(new[] { "gguf", "compressed-tensors", "dense, pruned 2:4" }, ModelFormats.All.Select(f => f.Name));
    }

    [Fact]
    public void A_second_format_of_the_same_name_is_refused()
    {
        var e = Assert.Throws<ArgumentException>(() => ModelFormats.Register(ModelFormats.All[0]));
        Assert.Contains("'gguf' is registered already", e.Message);
    }

    [Fact]
    public void A_dense_folder_is_no_registered_format() => Assert.Null(ModelFormats.For(TestPaths.Stories260K));

    [Fact]
    public void Models_calls_nothing_in_formats_or_the_compressed_layers()
    {
        // Loading by format goes through the registry: Models must not reach into Formats, nor build the Linears that
        // keep weights compressed (the kernels the network itself runs, Inference.Kernels, are another matter).
        var kit = typeof(LanguageModel).Assembly;
        var calls = IlCalls.MethodsOf(kit)
            .Where(m => m.DeclaringType?.Namespace is { } ns && (ns == "Kit.Models" || ns.StartsWith("Kit.Models.", StringComparison.Ordinal)))
            .SelectMany(m => IlCalls.CalledBy(m).Select(c => (Caller: m, Callee: c)))
            .Where(c => c.Callee.DeclaringType?.Namespace is { } ns
                && (ns.StartsWith("Kit.Formats", StringComparison.Ordinal) || ns is "Kit.Inference" or "Kit.Inference.Fp8" or "Kit.Inference.Sparse"))
            .Select(c => $"{c.Caller.DeclaringType!.Name}.{c.Caller.Name} → {c.Callee.DeclaringType!.FullName}.{c.Callee.Name}")
            .Distinct().ToList();
        Assert.True(calls.Count == 0, string.Join("\n", calls));
    }
}
