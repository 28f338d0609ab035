namespace Kit.Data;

/// <summary>Where calibration documents come from: a file, a folder, or a hub dataset split.</summary>
public interface ITextSource
{
    /// <summary>What the source is (a file path, or a hub id with config and split), for messages.</summary>
    string Description { get; }

    /// <summary>
    /// Reads the documents in file order, skipping empty ones; each call starts again from the beginning, and
    /// stopping early reads no further.
    /// </summary>
    /// <exception cref="InvalidDataException">A file is empty, malformed, or lacks the configured fields; the message names the file and line or column.</exception>
    IEnumerable<CalibrationDocument> ReadDocuments();
}
