namespace Kit.Models;

/// <summary>
/// A checkpoint layout other than a dense safetensors folder that <see cref="LanguageModel.Load"/> opens: a GGUF file,
/// a compressed-tensors folder, a 2:4-pruned folder. The Formats folder registers its own, so that loading by
/// format depends on Formats and not the other way round.
/// </summary>
public interface IModelFormat
{
    /// <summary>The format's name, for messages.</summary>
    string Name { get; }

    /// <summary>Whether <paramref name="path"/> (a file, or a model folder with config.json) is in this format.</summary>
    bool Recognizes(string path);

    /// <summary>Loads the model at <paramref name="path"/>; <paramref name="source"/> is what the user named.</summary>
    LanguageModel Load(string path, string source, ModelLoadOptions options);
}

/// <summary>The registry of <see cref="IModelFormat"/>s, asked in the order they were registered.</summary>
public static class ModelFormats
{
    static readonly object Gate = new();
    static IModelFormat[] formats = [];

    /// <summary>Every registered format, in the order they are asked.</summary>
    public static IReadOnlyList<IModelFormat> All => formats;

    /// <summary>Adds <paramref name="format"/> after the others; a second format of the same name is refused.</summary>
    /// <exception cref="ArgumentException">A format of that name is registered already.</exception>
    public static void Register(IModelFormat format)
    {
        ArgumentNullException.ThrowIfNull(format);
        lock (Gate)
        {
            if (formats.Any(f => f.Name == format.Name))
                throw new ArgumentException($"a model format named '{format.Name}' is registered already", nameof(format));
            formats = [.. formats, format];
        }
    }

    /// <summary>The first registered format that recognizes <paramref name="path"/>, or null (a dense folder).</summary>
    public static IModelFormat? For(string path) => formats.FirstOrDefault(f => f.Recognizes(path));
}
