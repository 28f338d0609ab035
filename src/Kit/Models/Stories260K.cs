using Kit.Runtime;

namespace Kit.Models;

/// <summary>
/// llama2.c's stories260K (Andrej Karpathy, MIT): a pretrained 260K-parameter Llama 2 with a SentencePiece
/// tokenizer, shipped with Kit in Hugging Face layout (data/stories260K/README.md says where it came from).
/// </summary>
public static class Stories260K
{
    /// <summary>The name users pass to select it (matched without regard to case).</summary>
    public const string Name = "stories260K";

    /// <summary>The folder holding the model (copied next to Kit.dll at build time).</summary>
    public static string Folder => KitFiles.Find(Name);
}
