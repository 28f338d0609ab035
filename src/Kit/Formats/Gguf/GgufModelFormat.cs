using Kit.Models;

namespace Kit.Formats.Gguf;

/// <summary>A GGUF file (llama.cpp, Ollama), loaded through the folder <see cref="GgufImporter"/> converts it to.</summary>
internal sealed class GgufModelFormat : IModelFormat
{
    public string Name => "gguf";

    public bool Recognizes(string path) => GgufImporter.IsGgufFile(path);

    public LanguageModel Load(string path, string source, ModelLoadOptions options) => GgufImporter.Load(path, options);
}
