using System.Text.Json;
using System.Text.RegularExpressions;

namespace Kit.Tests.Notebook;

/// <summary>The notebooks and their shared set-up agree with the build; test.sh executes them.</summary>
public sealed partial class NotebookFilesTests
{
    static string NotebookDir => Path.Combine(TestPaths.RepoRoot, "notebooks");

    public static TheoryData<string> Notebooks()
    {
        var data = new TheoryData<string>();
        foreach (var path in Directory.GetFiles(NotebookDir, "*.ipynb").Order()) data.Add(Path.GetFileName(path));
        return data;
    }

    [Theory]
    [MemberData(nameof(Notebooks))]
    public void Notebook_runs_in_the_csharp_kernel_and_starts_with_the_shared_setup(string name)
    {
        using var notebook = JsonDocument.Parse(File.ReadAllText(Path.Combine(NotebookDir, name)));
        var root = notebook.RootElement;
        Assert.Equal(".net-csharp", root.GetProperty("metadata").GetProperty("kernelspec").GetProperty("name").GetString());
        var firstCode = root.GetProperty("cells").EnumerateArray().First(c => c.GetProperty("cell_type").GetString() == "code");
        var source = firstCode.GetProperty("source") is { ValueKind: JsonValueKind.Array } lines
            ? string.Concat(lines.EnumerateArray().Select(l => l.GetString()))
            : firstCode.GetProperty("source").GetString();
        Assert.Equal("#!import kit-setup.dib", source?.Trim());
    }

    [Fact]
    public void Shared_setup_references_assemblies_the_build_produces()
    {
        // The set-up names the Release build; a Debug test run checks the same names in its own build.
        string configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Debug{Path.DirectorySeparatorChar}")
            ? "Debug" : "Release";
        var references = FileReference().Matches(File.ReadAllText(Path.Combine(NotebookDir, "kit-setup.dib")))
            .Select(m => m.Groups[1].Value).ToList();
        Assert.Contains(references, r => r.EndsWith("/Kit.dll", StringComparison.Ordinal));
        foreach (var reference in references)
        {
            var path = Path.GetFullPath(Path.Combine(NotebookDir, reference.Replace("/Release/", $"/{configuration}/")));
            Assert.True(File.Exists(path), $"notebooks/kit-setup.dib references {reference}, which the build does not produce");
        }
    }

    [GeneratedRegex("""^#r\s+"(?!nuget:)([^"]+)"\s*$""", RegexOptions.Multiline)]
    private static partial Regex FileReference();
}
