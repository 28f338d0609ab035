namespace Kit.Models;

/// <summary>
/// Kit's embedded default model: a small Llama trained by Kit itself (see data/default-model/README.md),
/// shipped beside the library so that everything works offline.
/// </summary>
public static class DefaultModel
{
    /// <summary>The name users pass to select it.</summary>
    public const string Name = "default";

    /// <summary>The folder holding the default model (copied next to Kit.dll at build time).</summary>
    public static string Folder
    {
        get
        {
            var beside = Path.Combine(AppContext.BaseDirectory, "default-model");
            if (File.Exists(Path.Combine(beside, "config.json"))) return beside;
            var library = Path.Combine(Path.GetDirectoryName(typeof(DefaultModel).Assembly.Location) ?? "", "default-model");
            if (File.Exists(Path.Combine(library, "config.json"))) return library;
            throw new DirectoryNotFoundException($"the default model was not found in {beside} or {library}; rebuild Kit (it copies data/default-model there)");
        }
    }
}
