using System.Xml.Linq;
using Kit.Notebook;

namespace Kit.Tests.Notebook;

public sealed class NotebookSessionTests
{
    [Fact]
    public void Initialize_reports_the_working_tree_build_of_kit()
    {
        var environment = NotebookSession.Initialize();
        Assert.Equal("Kit.dll", Path.GetFileName(environment.KitAssembly));
        Assert.True(File.Exists(environment.KitAssembly));
        Assert.StartsWith(TestPaths.RepoRoot + Path.DirectorySeparatorChar, environment.KitAssembly);
    }

    [Fact]
    public void Initialize_reports_the_torchsharp_version_the_packages_pin()
    {
        var pinned = XDocument.Load(Path.Combine(TestPaths.RepoRoot, "Directory.Packages.props"))
            .Descendants("PackageVersion").Single(p => (string?)p.Attribute("Include") == "TorchSharp")
            .Attribute("Version")!.Value;
        var reported = new Version(NotebookSession.Initialize().TorchSharpVersion);
        Assert.Equal(pinned, $"{reported.Major}.{reported.Minor}.{reported.Build}");
    }

    [Fact]
    public void Initialize_can_run_in_every_notebook_of_one_kernel()
    {
        Assert.Equal(NotebookSession.Initialize(), NotebookSession.Initialize());
    }

    [Fact]
    public void Outside_a_notebook_kernel_the_warning_level_is_left_alone()
    {
        Assert.False(ScriptWarningLevel.TrySet(ScriptWarningLevel.Notebook));
    }
}
