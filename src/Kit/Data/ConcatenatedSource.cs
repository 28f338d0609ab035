namespace Kit.Data;

/// <summary>Several sources read one after the other (the files of a folder or of a hub dataset split).</summary>
public sealed class ConcatenatedSource : ITextSource
{
    /// <summary>Creates the source.</summary>
    /// <param name="description">What the parts are together, e.g. the folder or hub split.</param>
    /// <param name="parts">The sources in reading order; at least one.</param>
    public ConcatenatedSource(string description, IReadOnlyList<ITextSource> parts)
    {
        ArgumentException.ThrowIfNullOrEmpty(description);
        ArgumentNullException.ThrowIfNull(parts);
        if (parts.Count == 0) throw new ArgumentException($"{description} has no files to read", nameof(parts));
        (Description, Parts) = (description, parts);
    }

    /// <summary>The sources in reading order.</summary>
    public IReadOnlyList<ITextSource> Parts { get; }

    /// <inheritdoc/>
    public string Description { get; }

    /// <inheritdoc/>
    public IEnumerable<CalibrationDocument> ReadDocuments() => Parts.SelectMany(p => p.ReadDocuments());
}
