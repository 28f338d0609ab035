namespace Kit.Data;

/// <summary>A file of records (JSON or Parquet), one document each, whose fields or columns <see cref="Fields"/> name.</summary>
public abstract class RecordFileSource : ITextSource
{
    /// <summary>Creates the source; the file is read on each <see cref="ReadDocuments"/>.</summary>
    /// <param name="path">The file.</param>
    /// <param name="fields">Which fields or columns hold the document; null means the defaults of <see cref="DocumentFields"/>.</param>
    private protected RecordFileSource(string path, DocumentFields? fields)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        (Path, Fields) = (path, fields ?? new DocumentFields());
    }

    /// <summary>The file.</summary>
    public string Path { get; }

    /// <summary>Which fields or columns hold the document.</summary>
    public DocumentFields Fields { get; }

    /// <inheritdoc/>
    public string Description => Path;

    /// <inheritdoc/>
    public abstract IEnumerable<CalibrationDocument> ReadDocuments();
}
