using System.Reflection;
using System.Runtime.InteropServices;

namespace Kit.Notebook;

/// <summary>
/// Points ParquetSharp at its native library inside a notebook kernel. A program finds
/// <c>runtimes/RID/native/ParquetSharpNative.so</c> through its deps.json; an assembly referenced by path
/// from a kernel has no deps.json entry, so the kernel's probing never looks there and the first Parquet
/// call fails with DllNotFoundException.
/// </summary>
internal static class ParquetNativeResolver
{
    const string LibraryName = "ParquetSharpNative";
    static int installed;

    /// <summary>Installs the resolver once per process (a second resolver for one assembly would throw).</summary>
    public static void Install()
    {
        if (Interlocked.Exchange(ref installed, 1) == 1) return;
        NativeLibrary.SetDllImportResolver(typeof(ParquetSharp.ParquetFileReader).Assembly, Resolve);
    }

    static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? searchPath)
    {
        if (name != LibraryName) return IntPtr.Zero;
        // Let the default probing win where it works (a published app), and fall back to the runtimes/ folder.
        if (NativeLibrary.TryLoad(name, assembly, searchPath, out var handle)) return handle;
        string folder = Path.GetDirectoryName(assembly.Location) ?? AppContext.BaseDirectory;
        string path = Path.Combine(folder, "runtimes", RuntimeIdentifier(), "native", LibraryFile());
        return File.Exists(path) ? NativeLibrary.Load(path) : IntPtr.Zero;
    }

    static string RuntimeIdentifier()
    {
        string os = OperatingSystem.IsWindows() ? "win" : OperatingSystem.IsMacOS() ? "osx" : "linux";
        string arch = RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? "arm64" : "x64";
        return $"{os}-{arch}";
    }

    static string LibraryFile() =>
        OperatingSystem.IsWindows() ? LibraryName + ".dll" : OperatingSystem.IsMacOS() ? LibraryName + ".dylib" : LibraryName + ".so";
}
