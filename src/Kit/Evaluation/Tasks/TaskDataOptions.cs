using Kit.Models.Hub;

namespace Kit.Evaluation.Tasks;

/// <summary>How a task reaches the hub for its dataset.</summary>
public sealed record TaskDataOptions
{
    /// <summary>Hub endpoint, cache and token; null reads them from the environment.</summary>
    public HubOptions? Hub { get; init; }

    /// <summary>Receives each file's progress while a hub dataset downloads.</summary>
    public IProgress<DownloadProgress>? DownloadProgress { get; init; }
}
