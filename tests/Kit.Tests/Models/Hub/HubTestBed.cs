using Kit.Models.Hub;

namespace Kit.Tests.Models.Hub;

/// <summary>A fake hub, an empty cache folder, and a way to make clients for them.</summary>
internal sealed class HubTestBed : IDisposable
{
    public FakeHubServer Server { get; } = new();
    public string Cache { get; } = TestPaths.NewTempDir();

    public HubClient Client(string? token = null, bool offline = false, string? endpoint = null) =>
        new(new HubOptions { Endpoint = endpoint ?? Server.Endpoint, CacheDir = Cache, Token = token, Offline = offline });

    public void Dispose() => Server.Dispose();
}

/// <summary>Records progress reports as they happen (<see cref="Progress{T}"/> would post them later).</summary>
internal sealed class ProgressLog : IProgress<DownloadProgress>
{
    public List<DownloadProgress> Reports { get; } = [];
    public void Report(DownloadProgress value) { lock (Reports) Reports.Add(value); }
}
