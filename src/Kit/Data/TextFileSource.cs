using System.Text;

namespace Kit.Data;

/// <summary>A UTF-8 text file, read as one document or as paragraphs separated by blank lines.</summary>
public sealed class TextFileSource : ITextSource
{
    /// <summary>Creates the source; the file is read on each <see cref="ReadDocuments"/>.</summary>
    /// <param name="path">The text file.</param>
    /// <param name="mode">One document, or one per paragraph.</param>
    public TextFileSource(string path, TextFileMode mode = TextFileMode.WholeFile)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        (Path, Mode) = (path, mode);
    }

    /// <summary>The file.</summary>
    public string Path { get; }

    /// <summary>How the file is cut into documents.</summary>
    public TextFileMode Mode { get; }

    /// <inheritdoc/>
    public string Description => Path;

    /// <inheritdoc/>
    public IEnumerable<CalibrationDocument> ReadDocuments()
    {
        if (!File.Exists(Path)) throw new FileNotFoundException($"text file not found: {Path}", Path);
        bool any = false;
        foreach (var document in Mode == TextFileMode.WholeFile ? WholeFile() : Paragraphs())
        {
            any = true;
            yield return document;
        }
        if (!any) throw new InvalidDataException($"{Path} is empty: it holds no text");
    }

    IEnumerable<CalibrationDocument> WholeFile()
    {
        string text = File.ReadAllText(Path);
        if (!string.IsNullOrWhiteSpace(text)) yield return new TextDocument(text);
    }

    IEnumerable<CalibrationDocument> Paragraphs()
    {
        var paragraph = new StringBuilder();
        foreach (string line in File.ReadLines(Path))
        {
            if (!string.IsNullOrWhiteSpace(line))
            {
                if (paragraph.Length > 0) paragraph.Append('\n');
                paragraph.Append(line);
            }
            else if (paragraph.Length > 0)
            {
                yield return new TextDocument(paragraph.ToString());
                paragraph.Clear();
            }
        }
        if (paragraph.Length > 0) yield return new TextDocument(paragraph.ToString());
    }
}
