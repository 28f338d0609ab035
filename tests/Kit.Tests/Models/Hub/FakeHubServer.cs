using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Kit.Models.Hub;

namespace Kit.Tests.Models.Hub;

/// <summary>
/// A hub on 127.0.0.1 with the real URL layout: <c>/api/{models|datasets}/{repo}/revision/{rev}</c> and
/// <c>[/datasets]/{repo}/resolve/{rev}/{file}</c>. Regular files answer 200 with their git blob sha1 as ETag;
/// LFS files answer 302 (with <c>X-Linked-Etag</c> = sha256, <c>X-Linked-Size</c>) to a second port that plays
/// the CDN. Both honour <c>Range: bytes=N-</c>. Every request is recorded.
/// </summary>
internal sealed class FakeHubServer : IDisposable
{
    readonly HttpListener _listener = new();
    readonly List<Repo> _repos = [];
    readonly int _hubPort = FreePort(), _cdnPort = FreePort();

    public FakeHubServer()
    {
        _listener.Prefixes.Add($"http://127.0.0.1:{_hubPort}/");
        _listener.Prefixes.Add($"http://127.0.0.1:{_cdnPort}/");
        _listener.Start();
        _ = Task.Run(ServeAsync);
    }

    /// <summary>The hub's base URL, for <see cref="HubOptions.Endpoint"/>.</summary>
    public string Endpoint => $"http://127.0.0.1:{_hubPort}";

    /// <summary>When set, hub requests without <c>Authorization: Bearer {token}</c> get 401.</summary>
    public string? RequiredToken { get; set; }

    /// <summary>Every request so far, in arrival order.</summary>
    public ConcurrentQueue<Request> Requests { get; } = new();

    /// <summary>Requests for file contents or metadata (resolve and CDN), not the repo-info API.</summary>
    public IEnumerable<Request> FileRequests => Requests.Where(r => !r.Path.StartsWith("/api/", StringComparison.Ordinal));

    /// <summary>One recorded request; <see cref="ToCdn"/> tells the CDN port from the hub's.</summary>
    public sealed record Request(string Method, string Path, bool ToCdn, string? Authorization, string? Range);

    /// <summary>A repository with one commit, reachable as revision "main" or by its hash.</summary>
    public sealed class Repo(string id, RepoType type, string commit)
    {
        public string Id { get; } = id;
        public RepoType Type { get; } = type;
        public string Commit { get; } = commit;
        internal Dictionary<string, (byte[] Content, bool Lfs, byte[] Served)> Files { get; } = [];

        public Repo File(string path, byte[] content) { Files[path] = (content, false, content); return this; }
        public Repo File(string path, string content) => File(path, Encoding.UTF8.GetBytes(content));

        /// <summary>An LFS file; <paramref name="served"/> lets the CDN send other bytes than the advertised hash.</summary>
        public Repo Lfs(string path, byte[] content, byte[]? served = null) { Files[path] = (content, true, served ?? content); return this; }
    }

    public Repo AddRepo(string id, RepoType type = RepoType.Model, string commit = "0123456789abcdef0123456789abcdef01234567")
    {
        var repo = new Repo(id, type, commit);
        lock (_repos) _repos.Add(repo);
        return repo;
    }

    public void Dispose() => _listener.Close();

    static int FreePort()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        int port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return port;
    }

    async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try { context = await _listener.GetContextAsync(); }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException) { return; }
            _ = Task.Run(() => Handle(context));
        }
    }

    void Handle(HttpListenerContext context)
    {
        var (req, res) = (context.Request, context.Response);
        string path = req.RawUrl!.Split('?')[0];
        bool toCdn = req.LocalEndPoint.Port == _cdnPort;
        Requests.Enqueue(new Request(req.HttpMethod, path, toCdn, req.Headers["Authorization"], req.Headers["Range"]));
        try
        {
            if (toCdn) ServeCdn(path, req, res);
            else if (RequiredToken is not null && req.Headers["Authorization"] != $"Bearer {RequiredToken}")
                Error(res, 401, "GatedRepo");
            else if (path.StartsWith("/api/", StringComparison.Ordinal)) ServeApi(path, res);
            else ServeResolve(path, req, res);
        }
        finally { res.Close(); }
    }

    void ServeApi(string path, HttpListenerResponse res)
    {
        // /api/models/{repo}/revision/{rev}
        string[] kindAndRest = path["/api/".Length..].Split('/', 2);
        int cut = kindAndRest[1].IndexOf("/revision/", StringComparison.Ordinal);
        var type = kindAndRest[0] == "datasets" ? RepoType.Dataset : RepoType.Model;
        var repo = Find(kindAndRest[1][..cut], type, Uri.UnescapeDataString(kindAndRest[1][(cut + "/revision/".Length)..]));
        if (repo is null) { Error(res, 404, "RepoNotFound"); return; }
        var json = JsonSerializer.SerializeToUtf8Bytes(new
        {
            id = repo.Id,
            sha = repo.Commit,
            siblings = repo.Files.Keys.Select(f => new { rfilename = f }),
        });
        res.ContentType = "application/json";
        res.OutputStream.Write(json);
    }

    void ServeResolve(string path, HttpListenerRequest req, HttpListenerResponse res)
    {
        var type = path.StartsWith("/datasets/", StringComparison.Ordinal) ? RepoType.Dataset : RepoType.Model;
        string rest = type == RepoType.Dataset ? path["/datasets/".Length..] : path[1..];
        int cut = rest.IndexOf("/resolve/", StringComparison.Ordinal);
        string[] revAndFile = rest[(cut + "/resolve/".Length)..].Split('/', 2);
        var repo = Find(rest[..cut], type, Uri.UnescapeDataString(revAndFile[0]));
        if (repo is null) { Error(res, 404, "RepoNotFound"); return; }
        if (!repo.Files.TryGetValue(Uri.UnescapeDataString(revAndFile[1]), out var file)) { Error(res, 404, "EntryNotFound"); return; }

        res.Headers["X-Repo-Commit"] = repo.Commit;
        if (file.Lfs)
        {
            string sha256 = Convert.ToHexStringLower(SHA256.HashData(file.Content));
            res.StatusCode = 302;
            res.Headers["Location"] = $"http://127.0.0.1:{_cdnPort}/lfs/{sha256}";
            res.Headers["X-Linked-Etag"] = $"\"{sha256}\"";
            res.Headers["X-Linked-Size"] = file.Content.Length.ToString();
            res.Headers["ETag"] = "\"lfs-pointer-etag\"";
            return;
        }
        res.Headers["ETag"] = $"\"{GitBlobSha1(file.Content)}\"";
        SendBody(file.Served, req, res);
    }

    void ServeCdn(string path, HttpListenerRequest req, HttpListenerResponse res)
    {
        string sha256 = path["/lfs/".Length..];
        byte[]? served;
        lock (_repos)
            served = _repos.SelectMany(r => r.Files.Values)
                .Where(f => f.Lfs && Convert.ToHexStringLower(SHA256.HashData(f.Content)) == sha256)
                .Select(f => f.Served).FirstOrDefault();
        if (served is null) { Error(res, 404, null); return; }
        res.Headers["ETag"] = "\"cdn-etag\"";
        SendBody(served, req, res);
    }

    static void SendBody(byte[] content, HttpListenerRequest req, HttpListenerResponse res)
    {
        int start = 0;
        if (req.Headers["Range"] is { } range && range.StartsWith("bytes=", StringComparison.Ordinal) && range.EndsWith('-'))
        {
            start = int.Parse(range["bytes=".Length..^1]);
            res.StatusCode = 206;
            res.Headers["Content-Range"] = $"bytes {start}-{content.Length - 1}/{content.Length}";
        }
        res.ContentLength64 = content.Length - start;
        if (req.HttpMethod != "HEAD") res.OutputStream.Write(content, start, content.Length - start);
    }

    Repo? Find(string id, RepoType type, string revision)
    {
        lock (_repos)
            return _repos.FirstOrDefault(r => r.Id == id && r.Type == type && (revision == "main" || revision == r.Commit));
    }

    static void Error(HttpListenerResponse res, int status, string? code)
    {
        res.StatusCode = status;
        if (code is not null) res.Headers["X-Error-Code"] = code;
    }

    /// <summary>Git's object id of a file: sha1 over "blob {length}\0" and the content — the hub's ETag for regular files.</summary>
    public static string GitBlobSha1(byte[] content) =>
        Convert.ToHexStringLower(SHA1.HashData([.. Encoding.ASCII.GetBytes($"blob {content.Length}\0"), .. content]));
}
