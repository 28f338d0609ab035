using Kit.Models.Hub;

namespace Kit.Data;

/// <summary>How <see cref="CalibrationSource.Open"/> reads files and reaches the hub.</summary>
public sealed record SourceOptions
{
    /// <summary>Which JSON fields or Parquet columns hold the documents.</summary>
    public DocumentFields Fields { get; init; } = new();

    /// <summary>How <c>.txt</c> files are cut into documents.</summary>
    public TextFileMode TextMode { get; init; } = TextFileMode.WholeFile;

    /// <summary>Hub endpoint, cache and token for hub dataset ids; null reads them from the environment.</summary>
    public HubOptions? Hub { get; init; }

    /// <summary>Receives each file's progress while a hub dataset downloads.</summary>
    public IProgress<DownloadProgress>? DownloadProgress { get; init; }
}
