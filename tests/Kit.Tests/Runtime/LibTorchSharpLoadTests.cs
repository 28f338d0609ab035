using TorchSharp;
using static TorchSharp.torch;

namespace Kit.Tests.Runtime;

public sealed class LibTorchSharpLoadTests
{
    [Fact]
    public void Loaded_native_library_tolerates_an_older_libstdcxx()
    {
        var candidates = new[] { "cpu", "cuda", "runtimes/linux-x64/native", "" }
            .Select(d => Path.Combine(AppContext.BaseDirectory, d, "libLibTorchSharp.so"))
            .Where(File.Exists).ToList();
        Assert.NotEmpty(candidates);
        bool systemHasIt = ElfVersionNeeds.SystemLibstdcxxProvides("GLIBCXX_3.4.32");
        foreach (var path in candidates)
        {
            var need = ElfVersionNeeds.Read(File.ReadAllBytes(path)).Where(r => r.Name == "GLIBCXX_3.4.32").ToList();
            Assert.True(systemHasIt || need.All(r => r.IsWeak), $"{path} still requires GLIBCXX_3.4.32 strictly");
        }
    }

    [Fact]
    public void Patcher_marks_only_the_named_requirement_weak()
    {
        var source = Path.Combine(AppContext.BaseDirectory, "cpu", "libLibTorchSharp.so");
        if (!File.Exists(source)) source = Directory.GetFiles(AppContext.BaseDirectory, "libLibTorchSharp.so", SearchOption.AllDirectories)[0];
        var copy = Path.Combine(TestPaths.NewTempDir(), "lib.so");
        var bytes = File.ReadAllBytes(source);
        var before = ElfVersionNeeds.Read(bytes);
        // Undo the build's patch on a copy, then patch it again.
        foreach (var r in before.Where(r => r.Name == "GLIBCXX_3.4.32"))
            BitConverter.GetBytes((ushort)(r.Flags & ~2)).CopyTo(bytes, (int)r.FlagsOffset);
        File.WriteAllBytes(copy, bytes);
        Assert.False(ElfVersionNeeds.Read(File.ReadAllBytes(copy)).Single(r => r.Name == "GLIBCXX_3.4.32").IsWeak);

        Assert.True(ElfVersionNeeds.MarkWeak(copy, "GLIBCXX_3.4.32"));
        var after = ElfVersionNeeds.Read(File.ReadAllBytes(copy));
        Assert.Equal(before.Count, after.Count);
        Assert.Contains(after, r => r.File == "libstdc++.so.6" && r.Name == "GLIBCXX_3.4.32" && r.IsWeak);
        Assert.All(after.Where(r => r.Name != "GLIBCXX_3.4.32"), r => Assert.False(r.IsWeak));
        Assert.False(ElfVersionNeeds.MarkWeak(copy, "GLIBCXX_3.4.32"));
    }

    [Fact]
    public void Cholesky_runs_after_loading()
    {
        using var scope = NewDisposeScope();
        var a = tensor(new double[] { 4, 2, 2, 3 }, 2, 2);
        var l = linalg.cholesky(a);
        // [[2, 0], [1, sqrt(2)]]
        Assert.Equal(2.0, l[0, 0].item<double>(), 12);
        Assert.Equal(1.0, l[1, 0].item<double>(), 12);
        Assert.Equal(Math.Sqrt(2), l[1, 1].item<double>(), 12);
    }
}
