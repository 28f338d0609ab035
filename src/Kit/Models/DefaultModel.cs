using Kit.Runtime;

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
    public static string Folder => KitFiles.Find("default-model");

    /// <summary>Held-out text for the default model: original stories written for Kit, under Kit's licence.</summary>
    public static string HeldOutText => KitFiles.Find(Path.Combine("text", "kit-stories.txt"));
}
