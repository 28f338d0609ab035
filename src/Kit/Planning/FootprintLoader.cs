using Kit.Models;
using Kit.Models.Hub;

namespace Kit.Planning;

/// <summary>Finds the config.json behind a model argument and counts it.</summary>
public static class FootprintLoader
{
    /// <summary>
    /// Counts a model given as a bundled model's name, a folder holding config.json, a config.json file, or a hub id such as
    /// <c>meta-llama/Llama-4-Scout-17B-16E-Instruct</c>, of which only config.json is downloaded (into the hub
    /// cache; offline, a cached copy is used).
    /// </summary>
    /// <param name="model">The folder, file or hub id.</param>
    /// <param name="hub">The hub client for hub ids; null makes one from the environment.</param>
    /// <param name="revision">The hub revision.</param>
    /// <param name="ct">Cancels a download.</param>
    /// <exception cref="FileNotFoundException">The folder has no config.json, or the argument is neither a path nor a hub id.</exception>
    /// <exception cref="HubException">The hub refused the download and no cached copy exists.</exception>
    public static async Task<ModelFootprint> LoadAsync(string model, HubClient? hub = null, string revision = "main", CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(model);
        if (BundledModels.TryFolder(model) is { } bundled) return ModelFootprint.Load(Path.Combine(bundled, "config.json"), model) with { Location = bundled };
        if (Directory.Exists(model))
        {
            string config = Path.Combine(model, "config.json");
            if (!File.Exists(config)) throw new FileNotFoundException($"{model} is a folder but has no config.json", config);
            return ModelFootprint.Load(config, model) with { Location = model };
        }
        // A config.json file stands for the folder it lies in, where the weights are.
        if (File.Exists(model)) return ModelFootprint.Load(model) with { Location = Path.GetDirectoryName(model) is { Length: > 0 } folder ? folder : "." };
        if (!HubRepoId.IsValid(model) || model.StartsWith('.') || model.StartsWith('/'))
            throw new FileNotFoundException($"model '{model}' is neither an existing folder, a config.json file nor a hub id like org/name");
        var client = hub ?? new HubClient();
        try
        {
            string path = await client.DownloadFileAsync(model, "config.json", RepoType.Model, revision, ct: ct).ConfigureAwait(false);
            return ModelFootprint.Load(path, model) with { Location = model };
        }
        finally
        {
            if (hub is null) client.Dispose();
        }
    }
}
