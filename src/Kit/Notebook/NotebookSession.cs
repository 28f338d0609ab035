using TorchSharp;

namespace Kit.Notebook;

/// <summary>Prepares a .NET Interactive kernel for Kit's notebooks (see notebooks/kit-setup.dib).</summary>
public static class NotebookSession
{
    /// <summary>
    /// Lets packages built against newer shared dependencies load (charts need this), keeps harmless
    /// compiler notices out of cell output, lets ParquetSharp find its native library, loads TorchSharp's native backend, and describes the
    /// environment. Safe to call more than once.
    /// </summary>
    /// <exception cref="InvalidOperationException">TorchSharp's native library (libLibTorchSharp.so) did not load.</exception>
    public static NotebookEnvironment Initialize()
    {
        LoadedAssemblyFallback.Install();
        ParquetNativeResolver.Install();
        ScriptWarningLevel.TrySet(ScriptWarningLevel.Notebook);
        // Loading the backend here turns a missing or unpatched native library into one clear message
        // in the first cell rather than a type-initialisation error in whichever cell touches a tensor.
        try
        {
            torch.InitializeDeviceType(DeviceType.CPU);
        }
        catch (Exception e) when (e is NotSupportedException or DllNotFoundException or TypeInitializationException)
        {
            throw new InvalidOperationException(
                "TorchSharp's native library libLibTorchSharp.so did not load; rebuild with 'dotnet build -c Release' " +
                "and see README.md, Troubleshooting (GLIBCXX_3.4.32): " + e.Message, e);
        }
        return new NotebookEnvironment(
            typeof(NotebookSession).Assembly.Location,
            typeof(torch).Assembly.GetName().Version?.ToString() ?? "unknown",
            torch.cuda.is_available(),
            torch.get_num_threads());
    }
}
