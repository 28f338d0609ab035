using System.Reflection;
using TorchSharp;

namespace Kit.Tests.Runtime;

/// <summary>
/// TorchSharp gives libtorch a Scalar's native handle without keeping the Scalar alive, so a temporary Scalar (an
/// implicit conversion from a number, or one TorchSharp makes inside an operator such as <c>int - Tensor</c>) can be
/// finalized by a garbage collection on another thread while libtorch still reads it. CI failed that way once
/// ("Expected false to be true" from c10::Scalar::toFloat in Quantizer.FromRange). Kit's code must not make such
/// temporaries: it uses <c>Kit.Runtime.HeldScalars</c> (held for the process) or <c>Kit.Runtime.ScalarArithmetic</c>
/// (disposed after the call), the only two places that make Scalars.
/// </summary>
public sealed class ScalarLifetimeTests
{
    static readonly Assembly TorchSharpAssembly = typeof(Scalar).Assembly;
    static readonly Type[] ScalarOwners = [typeof(Kit.Runtime.HeldScalars), typeof(Kit.Runtime.ScalarArithmetic)];

    [Fact]
    public void Kit_makes_no_temporary_scalars_for_libtorch_calls()
    {
        var makesTemporaries = new TemporaryScalarMakers();
        var offenders = new[] { typeof(Kit.Runtime.HeldScalars).Assembly, typeof(Kit.Cli.Commands.CliSupport).Assembly }
            .SelectMany(IlCalls.MethodsOf)
            .Where(method => !ScalarOwners.Any(owner => IsIn(method.DeclaringType, owner)))
            .SelectMany(method => IlCalls.CalledBy(method)
                .Where(makesTemporaries.Includes)
                .Select(target => $"{method.DeclaringType?.FullName}.{method.Name} calls {target.DeclaringType?.Name}.{target}"))
            .Distinct()
            .Order()
            .ToList();
        Assert.True(offenders.Count == 0, $"{offenders.Count} calls make temporary Scalars:\n" + string.Join("\n", offenders));
    }

    // TorchSharp declares Tensor's conversion from Scalar only to throw "Should not be called", so a held Scalar
    // passed where a Tensor is wanted (bitwise_and) compiles and fails at run time.
    [Fact]
    public void Kit_never_passes_a_scalar_where_a_tensor_is_wanted()
    {
        var fromScalar = typeof(torch.Tensor).GetMethod("op_Implicit", [typeof(Scalar)])!;
        var offenders = new[] { typeof(Kit.Runtime.HeldScalars).Assembly, typeof(Kit.Cli.Commands.CliSupport).Assembly }
            .SelectMany(IlCalls.MethodsOf)
            .Where(method => IlCalls.CalledBy(method).Contains(fromScalar))
            .Select(method => $"{method.DeclaringType?.FullName}.{method.Name}")
            .ToList();
        Assert.True(offenders.Count == 0, "Scalar converted to Tensor in:\n" + string.Join("\n", offenders));
    }

    [Fact]
    public void The_scan_finds_the_operator_that_failed_in_ci()
    {
        var makesTemporaries = new TemporaryScalarMakers();
        var subtraction = typeof(torch.Tensor).GetMethod("op_Subtraction", [typeof(int), typeof(torch.Tensor)])!;
        var scalarMultiply = typeof(torch.Tensor).GetMethod("mul", [typeof(Scalar)])!;
        Assert.True(makesTemporaries.Includes(subtraction));
        Assert.False(makesTemporaries.Includes(scalarMultiply));
    }

    static bool IsIn(Type? type, Type owner) => type is not null && (type == owner || IsIn(type.DeclaringType, owner));

    /// <summary>TorchSharp methods that make a Scalar, or call one that does, and so hand libtorch an unheld one.</summary>
    sealed class TemporaryScalarMakers
    {
        readonly Dictionary<MethodBase, bool> known = new();

        public bool Includes(MethodBase method)
        {
            if (method.DeclaringType?.Assembly != TorchSharpAssembly) return false;
            if (IsScalarFactory(method)) return true;
            if (known.TryGetValue(method, out bool makes)) return makes;
            known[method] = false; // a recursive call does not decide its own answer
            makes = IlCalls.CalledBy(method).Any(Includes);
            known[method] = makes;
            return makes;
        }

        static bool IsScalarFactory(MethodBase method) =>
            method is MethodInfo { ReturnType: var returns } && returns == typeof(Scalar)
            && method.Name is "op_Implicit" or "ToScalar";
    }
}
