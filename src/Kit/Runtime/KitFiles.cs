namespace Kit.Runtime;

/// <summary>Finds the data files that travel with Kit (the default model, Kit's own text).</summary>
public static class KitFiles
{
    /// <summary>
    /// The path of <paramref name="relative"/> beside the running program, or beside Kit.dll when Kit is
    /// loaded into another host (a notebook kernel, whose base directory is the kernel's own).
    /// </summary>
    /// <exception cref="FileNotFoundException">Neither place has it.</exception>
    public static string Find(string relative) => TryFind(relative)
        ?? throw new FileNotFoundException($"{relative} was not found in {AppContext.BaseDirectory} or beside Kit.dll; rebuild Kit (the build copies data/ there)");

    /// <summary>Like <see cref="Find"/>, but null when neither place has it.</summary>
    public static string? TryFind(string relative)
    {
        var beside = Path.Combine(AppContext.BaseDirectory, relative);
        if (File.Exists(beside) || Directory.Exists(beside)) return beside;
        var library = Path.Combine(Path.GetDirectoryName(typeof(KitFiles).Assembly.Location) ?? "", relative);
        return File.Exists(library) || Directory.Exists(library) ? library : null;
    }
}
