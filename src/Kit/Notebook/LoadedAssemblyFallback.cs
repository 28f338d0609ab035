using System.Reflection;
using System.Runtime.Loader;

namespace Kit.Notebook;

/// <summary>
/// Answers a failed assembly load with an already loaded assembly of the same name and signer.
/// </summary>
/// <remarks>
/// A notebook kernel is one process that loads packages built against different versions of a shared
/// dependency, and .NET has no binding redirects. Plotly.NET 6 asks for FSharp.Core 10.1 while the
/// .NET Interactive kernel has FSharp.Core 10.0 loaded; the load fails and no chart renders. The
/// <see cref="AssemblyLoadContext.Resolving"/> event is raised only after the normal load failed, so
/// handing back the loaded copy changes nothing that would have worked without it.
/// </remarks>
internal static class LoadedAssemblyFallback
{
    static int installed;

    /// <summary>Installs the fallback on the default load context; later calls do nothing.</summary>
    public static void Install()
    {
        if (Interlocked.Exchange(ref installed, 1) == 0)
            AssemblyLoadContext.Default.Resolving += (context, name) => Resolve(name, context.Assemblies);
    }

    /// <summary>
    /// The loaded assembly with the requested simple name and public key token (the highest version if
    /// several are loaded), or null when none matches.
    /// </summary>
    public static Assembly? Resolve(AssemblyName requested, IEnumerable<Assembly> loaded)
    {
        byte[] token = requested.GetPublicKeyToken() ?? [];
        return loaded
            .Select(a => (Assembly: a, Name: a.GetName()))
            .Where(a => string.Equals(a.Name.Name, requested.Name, StringComparison.OrdinalIgnoreCase)
                        && (token.Length == 0 || token.AsSpan().SequenceEqual(a.Name.GetPublicKeyToken() ?? [])))
            .OrderByDescending(a => a.Name.Version)
            .Select(a => a.Assembly)
            .FirstOrDefault();
    }
}
