using System.Reflection;

namespace Kit.Notebook;

/// <summary>Sets the compiler warning level of the .NET Interactive C# kernel that runs the current cell.</summary>
/// <remarks>
/// TorchSharp is built against .NET 8. Every cell that binds one of its overloads taking
/// System.Numerics.Complex (<c>torch.tensor</c> among them) makes the script compiler print CS1701,
/// "Assuming assembly reference 'System.Runtime.Numerics, Version=8.0.0.0' ... matches ... 10.0.0.0",
/// on stderr: the SDK silences that warning for projects, C# scripting cannot. Script options offer only
/// a warning level, not a per-warning switch, and CS1701 is a level-2 warning. The kernel keeps its
/// options in a private field (Microsoft.dotnet-interactive 1.0.712001); where that field is missing
/// nothing changes, the warning shows again, and test.sh, which fails on stderr output, says so.
/// </remarks>
internal static class ScriptWarningLevel
{
    /// <summary>Level 1 keeps the serious warnings and drops assembly-unification notices.</summary>
    public const int Notebook = 1;

    /// <summary>Sets the warning level; false when not running inside a C# kernel of the known shape.</summary>
    public static bool TrySet(int level)
    {
        var contextType = AppDomain.CurrentDomain.GetAssemblies()
            .Select(a => a.GetType("Microsoft.DotNet.Interactive.KernelInvocationContext", throwOnError: false))
            .FirstOrDefault(t => t is not null);
        object? context = contextType?.GetProperty("Current", BindingFlags.Public | BindingFlags.Static)?.GetValue(null);
        object? kernel = context?.GetType().GetProperty("HandlingKernel")?.GetValue(context);
        FieldInfo? field = kernel?.GetType().GetField("_scriptOptions", BindingFlags.Instance | BindingFlags.NonPublic);
        object? options = field?.GetValue(kernel);
        MethodInfo? withWarningLevel = options?.GetType().GetMethod("WithWarningLevel", [typeof(int)]);
        if (field is null || withWarningLevel is null) return false;
        field.SetValue(kernel, withWarningLevel.Invoke(options, [level]));
        return true;
    }
}
