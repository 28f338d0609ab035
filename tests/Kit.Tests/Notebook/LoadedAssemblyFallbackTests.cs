using System.Reflection;
using System.Runtime.Loader;
using Kit.Notebook;

namespace Kit.Tests.Notebook;

public sealed class LoadedAssemblyFallbackTests
{
    static readonly Assembly Loaded = typeof(Assert).Assembly;

    static AssemblyName LoadedNameWithVersion(Version version)
    {
        var name = Loaded.GetName();
        name.Version = version;
        return name;
    }

    [Fact]
    public void Request_for_a_newer_version_gets_the_loaded_assembly()
    {
        var requested = LoadedNameWithVersion(new Version(99, 0, 0, 0));
        Assert.Same(Loaded, LoadedAssemblyFallback.Resolve(requested, AppDomain.CurrentDomain.GetAssemblies()));
    }

    [Fact]
    public void Request_signed_by_someone_else_is_not_answered()
    {
        var requested = LoadedNameWithVersion(new Version(99, 0, 0, 0));
        requested.SetPublicKeyToken(typeof(object).Assembly.GetName().GetPublicKeyToken());
        Assert.NotEqual(Loaded.GetName().GetPublicKeyToken(), requested.GetPublicKeyToken());
        Assert.Null(LoadedAssemblyFallback.Resolve(requested, AppDomain.CurrentDomain.GetAssemblies()));
    }

    [Fact]
    public void Request_for_an_assembly_never_loaded_is_not_answered()
    {
        Assert.Null(LoadedAssemblyFallback.Resolve(new AssemblyName("No.Such.Assembly, Version=1.0.0.0"),
            AppDomain.CurrentDomain.GetAssemblies()));
    }

    [Fact]
    public void After_initialisation_the_default_context_loads_a_newer_version_request()
    {
        // This is what Plotly.NET's request for FSharp.Core 10.1 meets in a kernel holding 10.0.
        var requested = LoadedNameWithVersion(new Version(99, 0, 0, 0));
        NotebookSession.Initialize();
        Assert.Same(Loaded, AssemblyLoadContext.Default.LoadFromAssemblyName(requested));
    }
}
