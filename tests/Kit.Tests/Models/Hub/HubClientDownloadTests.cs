using System.Text;
using Kit.Models.Hub;

namespace Kit.Tests.Models.Hub;

public sealed class HubClientDownloadTests
{
    // sha256("abc") from FIPS 180-2, and `git hash-object` of "hello\n": references independent of this code.
    const string AbcSha256 = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    const string HelloGitSha1 = "ce013625030ba8dba906f756967f9e9ca394464a";
    const string Commit = "0123456789abcdef0123456789abcdef01234567";

    static byte[] Bytes(int n, int seed) => Enumerable.Range(0, n).Select(i => (byte)(i * 31 + seed)).ToArray();

    [Fact]
    public async Task Fresh_snapshot_creates_blobs_relative_symlinks_and_ref()
    {
        using var bed = new HubTestBed();
        bed.Server.AddRepo("org/tiny")
            .File("config.json", "hello\n")
            .Lfs("model.safetensors", "abc"u8.ToArray())
            .File("sub/tokenizer.json", "{}")
            .Lfs("pytorch_model.bin", Bytes(100, 1));
        using var client = bed.Client();

        string snapshot = await client.DownloadSnapshotAsync("org/tiny");

        string repo = Path.Combine(bed.Cache, "models--org--tiny");
        Assert.Equal(Path.Combine(repo, "snapshots", Commit), snapshot);
        Assert.Equal(Commit, File.ReadAllText(Path.Combine(repo, "refs", "main")));
        Assert.Equal($"../../blobs/{HelloGitSha1}", new FileInfo(Path.Combine(snapshot, "config.json")).LinkTarget);
        Assert.Equal($"../../blobs/{AbcSha256}", new FileInfo(Path.Combine(snapshot, "model.safetensors")).LinkTarget);
        string gitSha1OfBraces = "9e26dfeeb6e641a33dae4961196235bdb965b21b"; // git hash-object of "{}"
        Assert.Equal($"../../../blobs/{gitSha1OfBraces}", new FileInfo(Path.Combine(snapshot, "sub", "tokenizer.json")).LinkTarget);
        Assert.Equal("abc", File.ReadAllText(Path.Combine(snapshot, "model.safetensors")));
        Assert.Equal("hello\n", File.ReadAllText(Path.Combine(snapshot, "config.json")));
        Assert.Equal(new[] { AbcSha256, HelloGitSha1, gitSha1OfBraces }.Order(),
            Directory.GetFiles(Path.Combine(repo, "blobs")).Select(Path.GetFileName).Order());
        Assert.False(File.Exists(Path.Combine(snapshot, "pytorch_model.bin")));
        Assert.DoesNotContain(bed.Server.Requests, r => r.Path.EndsWith("pytorch_model.bin", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Second_snapshot_makes_no_file_requests()
    {
        using var bed = new HubTestBed();
        bed.Server.AddRepo("org/tiny").File("config.json", "{}").Lfs("model.safetensors", Bytes(5000, 2));
        using var client = bed.Client();
        string first = await client.DownloadSnapshotAsync("org/tiny");
        // config: HEAD, GET; LFS: HEAD (its 302 is not followed), GET (302), CDN GET.
        Assert.Equal(5, bed.Server.FileRequests.Count());

        bed.Server.Requests.Clear();
        string second = await client.DownloadSnapshotAsync("org/tiny");

        Assert.Equal(first, second);
        Assert.Empty(bed.Server.FileRequests);
        Assert.Single(bed.Server.Requests); // only the revision lookup
    }

    [Fact]
    public async Task Partial_download_resumes_with_a_range_request()
    {
        using var bed = new HubTestBed();
        byte[] weights = Bytes(200_000, 3);
        bed.Server.AddRepo("org/tiny").Lfs("model.safetensors", weights);
        string sha = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(weights));
        string blobs = Path.Combine(bed.Cache, "models--org--tiny", "blobs");
        Directory.CreateDirectory(blobs);
        File.WriteAllBytes(Path.Combine(blobs, sha + ".incomplete"), weights[..70_000]);
        using var client = bed.Client();

        string snapshot = await client.DownloadSnapshotAsync("org/tiny");

        var cdnGet = Assert.Single(bed.Server.Requests, r => r.ToCdn && r.Method == "GET");
        Assert.Equal("bytes=70000-", cdnGet.Range);
        Assert.Equal(weights, File.ReadAllBytes(Path.Combine(snapshot, "model.safetensors")));
        Assert.False(File.Exists(Path.Combine(blobs, sha + ".incomplete")));
    }

    [Fact]
    public async Task Bad_checksum_throws_and_leaves_nothing_in_the_snapshot()
    {
        using var bed = new HubTestBed();
        byte[] weights = Bytes(4096, 4);
        byte[] corrupt = (byte[])weights.Clone();
        corrupt[1000] ^= 0xFF;
        bed.Server.AddRepo("org/tiny").Lfs("model.safetensors", weights, served: corrupt);
        string expected = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(weights));
        string actual = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(corrupt));
        using var client = bed.Client();

        var e = await Assert.ThrowsAsync<HubException>(() => client.DownloadSnapshotAsync("org/tiny"));

        Assert.Contains("org/tiny", e.Message);
        Assert.Contains("model.safetensors", e.Message);
        Assert.Contains(expected, e.Message);
        Assert.Contains(actual, e.Message);
        string repo = Path.Combine(bed.Cache, "models--org--tiny");
        Assert.False(File.Exists(Path.Combine(repo, "snapshots", Commit, "model.safetensors")));
        Assert.Empty(Directory.GetFiles(Path.Combine(repo, "blobs")));
        Assert.False(File.Exists(Path.Combine(repo, "refs", "main")));
    }

    [Fact]
    public async Task Dataset_repo_uses_dataset_urls_and_cache_folder()
    {
        using var bed = new HubTestBed();
        bed.Server.AddRepo("org/corpus", RepoType.Dataset).File("data/train.jsonl", "{\"text\":\"a\"}\n").File("README.md", "# corpus");
        using var client = bed.Client();

        string snapshot = await client.DownloadSnapshotAsync("org/corpus", RepoType.Dataset);

        Assert.Equal(Path.Combine(bed.Cache, "datasets--org--corpus", "snapshots", Commit), snapshot);
        Assert.Equal("{\"text\":\"a\"}\n", File.ReadAllText(Path.Combine(snapshot, "data", "train.jsonl")));
        Assert.True(File.Exists(Path.Combine(snapshot, "README.md"))); // datasets fetch every file by default
        Assert.Contains(bed.Server.Requests, r => r.Path == "/api/datasets/org/corpus/revision/main");
        Assert.Contains(bed.Server.Requests, r => r.Path == $"/datasets/org/corpus/resolve/{Commit}/data/train.jsonl");
    }

    [Fact]
    public async Task Progress_reaches_each_file_size()
    {
        using var bed = new HubTestBed();
        bed.Server.AddRepo("org/tiny").File("config.json", "{\"a\":1}").Lfs("model.safetensors", Bytes(300_000, 5));
        using var client = bed.Client();
        var log = new ProgressLog();

        await client.DownloadSnapshotAsync("org/tiny", progress: log);

        foreach (var (file, size) in new[] { ("config.json", 7L), ("model.safetensors", 300_000L) })
        {
            var reports = log.Reports.Where(r => r.File == file).ToList();
            Assert.Equal(0, reports[0].BytesDone);
            Assert.Equal(size, reports[^1].BytesDone);
            Assert.All(reports, r => Assert.Equal(size, r.BytesTotal));
            Assert.True(reports.Zip(reports.Skip(1)).All(p => p.First.BytesDone <= p.Second.BytesDone));
        }
    }

    [Fact]
    public async Task Single_file_download_writes_ref_and_returns_snapshot_path()
    {
        using var bed = new HubTestBed();
        bed.Server.AddRepo("tiny").File("config.json", "hello\n").Lfs("model.safetensors", Bytes(10, 6));
        using var client = bed.Client();

        string path = await client.DownloadFileAsync("tiny", "config.json");

        string repo = Path.Combine(bed.Cache, "models--tiny");
        Assert.Equal(Path.Combine(repo, "snapshots", Commit, "config.json"), path);
        Assert.Equal("hello\n", File.ReadAllText(path));
        Assert.Equal(Commit, File.ReadAllText(Path.Combine(repo, "refs", "main")));
        Assert.False(File.Exists(Path.Combine(repo, "snapshots", Commit, "model.safetensors")));
    }

    [Fact]
    public async Task Blob_shared_by_two_commits_is_downloaded_once()
    {
        using var bed = new HubTestBed();
        byte[] weights = Bytes(1000, 7);
        bed.Server.AddRepo("org/a", commit: Commit).Lfs("model.safetensors", weights);
        using var client = bed.Client();
        await client.DownloadSnapshotAsync("org/a");
        // Same repo, another commit of identical content: the blob is reused, only the link is new.
        var other = bed.Server.AddRepo("org/a", commit: new string('f', 40)).Lfs("model.safetensors", weights);
        bed.Server.Requests.Clear();

        string path = await client.DownloadFileAsync("org/a", "model.safetensors", revision: other.Commit);

        Assert.Equal(weights, File.ReadAllBytes(path));
        Assert.DoesNotContain(bed.Server.Requests, r => r.Method == "GET");
    }
}
