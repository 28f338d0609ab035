using System.Net;
using Kit.Models.Hub;

namespace Kit.Tests.Models.Hub;

public sealed class HubClientErrorTests
{
    const string Commit = "0123456789abcdef0123456789abcdef01234567";

    [Fact]
    public async Task Missing_repo_names_repo_and_revision()
    {
        using var bed = new HubTestBed();
        using var client = bed.Client();

        var e = await Assert.ThrowsAsync<HubException>(() => client.DownloadSnapshotAsync("org/absent", revision: "v2"));

        Assert.Equal(HttpStatusCode.NotFound, e.StatusCode);
        Assert.Contains("'org/absent'", e.Message);
        Assert.Contains("'v2'", e.Message);
    }

    [Fact]
    public async Task Missing_file_names_the_file()
    {
        using var bed = new HubTestBed();
        bed.Server.AddRepo("org/tiny").File("config.json", "{}");
        using var client = bed.Client();

        var e = await Assert.ThrowsAsync<HubException>(() => client.DownloadFileAsync("org/tiny", "tokenizer.model"));

        Assert.Equal(HttpStatusCode.NotFound, e.StatusCode);
        Assert.Contains("'tokenizer.model'", e.Message);
        Assert.Contains("'org/tiny'", e.Message);
        Assert.Contains("'main'", e.Message);
    }

    [Fact]
    public async Task Unauthorized_says_gated_or_private_and_how_to_set_the_token()
    {
        using var bed = new HubTestBed();
        bed.Server.AddRepo("org/gated").File("config.json", "{}");
        bed.Server.RequiredToken = "hf_secret";
        using var client = bed.Client();

        var e = await Assert.ThrowsAsync<HubException>(() => client.DownloadSnapshotAsync("org/gated"));

        Assert.Equal(HttpStatusCode.Unauthorized, e.StatusCode);
        Assert.Contains("gated or private", e.Message);
        Assert.Contains("HF_TOKEN", e.Message);
        Assert.Contains("'org/gated'", e.Message);
    }

    [Fact]
    public async Task Token_goes_to_the_hub_and_never_to_the_cdn()
    {
        using var bed = new HubTestBed();
        bed.Server.AddRepo("org/gated").File("config.json", "{}").Lfs("model.safetensors", [1, 2, 3]);
        bed.Server.RequiredToken = "hf_secret";
        using var client = bed.Client(token: "hf_secret");

        string snapshot = await client.DownloadSnapshotAsync("org/gated");

        Assert.Equal([1, 2, 3], File.ReadAllBytes(Path.Combine(snapshot, "model.safetensors")));
        Assert.All(bed.Server.Requests.Where(r => !r.ToCdn), r => Assert.Equal("Bearer hf_secret", r.Authorization));
        var cdn = bed.Server.Requests.Where(r => r.ToCdn).ToList();
        Assert.NotEmpty(cdn);
        Assert.All(cdn, r => Assert.Null(r.Authorization));
    }

    [Fact]
    public async Task Offline_mode_resolves_refs_without_any_request()
    {
        using var bed = new HubTestBed();
        bed.Server.AddRepo("org/tiny").File("config.json", "{}");
        using (var online = bed.Client()) await online.DownloadSnapshotAsync("org/tiny");
        bed.Server.Requests.Clear();
        using var offline = bed.Client(offline: true);

        string snapshot = await offline.DownloadSnapshotAsync("org/tiny");
        string file = await offline.DownloadFileAsync("org/tiny", "config.json");

        Assert.Equal(Path.Combine(bed.Cache, "models--org--tiny", "snapshots", Commit), snapshot);
        Assert.Equal(Path.Combine(snapshot, "config.json"), file);
        Assert.Empty(bed.Server.Requests);
    }

    [Fact]
    public async Task Offline_and_not_cached_is_a_clear_error()
    {
        using var bed = new HubTestBed();
        using var offline = bed.Client(offline: true);

        var e = await Assert.ThrowsAsync<HubException>(() => offline.DownloadSnapshotAsync("org/tiny"));

        Assert.Contains("offline", e.Message);
        Assert.Contains("'org/tiny'", e.Message);
        Assert.Contains(Path.Combine(bed.Cache, "models--org--tiny"), e.Message);
        Assert.Empty(bed.Server.Requests);
    }

    [Fact]
    public async Task Unreachable_hub_falls_back_to_the_cached_snapshot()
    {
        using var bed = new HubTestBed();
        bed.Server.AddRepo("org/tiny").File("config.json", "{}");
        using (var online = bed.Client()) await online.DownloadSnapshotAsync("org/tiny");
        string deadEndpoint;
        using (var stopped = new FakeHubServer()) deadEndpoint = stopped.Endpoint; // nothing listens there now
        using var client = bed.Client(endpoint: deadEndpoint);

        string snapshot = await client.DownloadSnapshotAsync("org/tiny");
        var e = await Assert.ThrowsAsync<HubException>(() => client.DownloadSnapshotAsync("org/other"));

        Assert.Equal(Path.Combine(bed.Cache, "models--org--tiny", "snapshots", Commit), snapshot);
        Assert.Contains("cannot be reached", e.Message);
    }

    [Theory]
    [InlineData("a/b/c")]
    [InlineData("org/na--me")]
    [InlineData("org/-name")]
    [InlineData("org/name.git")]
    [InlineData("org/na me")]
    [InlineData("")]
    public async Task Malformed_repo_id_is_rejected_before_any_request(string repoId)
    {
        using var bed = new HubTestBed();
        using var client = bed.Client();

        var e = await Assert.ThrowsAsync<ArgumentException>(() => client.DownloadSnapshotAsync(repoId));

        Assert.Contains($"'{repoId}'", e.Message);
        Assert.Empty(bed.Server.Requests);
    }
}
