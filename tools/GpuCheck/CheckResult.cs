namespace Kit.GpuCheck;

/// <summary>One check's outcome: whether it held, what it compared, and the figures it measured.</summary>
/// <param name="Name">Short name, e.g. "greedy-stories260K".</param>
/// <param name="Passed">Whether the check's condition held.</param>
/// <param name="Detail">One line saying what was compared and what came out.</param>
/// <param name="Figures">Measured values (agreement fractions, perplexities, seconds), for the JSON summary.</param>
public sealed record CheckResult(string Name, bool Passed, string Detail, IReadOnlyDictionary<string, object?> Figures)
{
    /// <summary>The line the program prints for this check.</summary>
    public override string ToString() => $"{(Passed ? "PASS" : "FAIL")} {Name}: {Detail}";
}
