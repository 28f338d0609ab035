namespace Kit.Models.Hub;

/// <summary>
/// Downloads hub repositories into the Hugging Face cache with <c>huggingface_hub</c>'s layout, so that Kit and
/// Python tools share downloads. Files already in the cache are not fetched again; with
/// <see cref="HubOptions.Offline"/> nothing is requested at all.
/// </summary>
public sealed class HubClient : IDisposable
{
    readonly HttpClient _http;
    readonly HubTransport _transport;

    /// <summary>Creates a client.</summary>
    /// <param name="options">Endpoint, cache, token and offline switch; null reads them with <see cref="HubOptions.FromEnvironment()"/>.</param>
    /// <param name="handler">
    /// The HTTP handler to send requests through (the caller keeps ownership). It should not follow redirects
    /// itself: the client follows them so it can read the hub's headers on a redirect and keep the token off other hosts.
    /// </param>
    public HubClient(HubOptions? options = null, HttpMessageHandler? handler = null)
    {
        Options = options ?? HubOptions.FromEnvironment();
        _http = handler is null
            ? new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false }, disposeHandler: true)
            : new HttpClient(handler, disposeHandler: false);
        _transport = new HubTransport(_http, Options);
    }

    /// <summary>The options this client uses.</summary>
    public HubOptions Options { get; }

    /// <summary>
    /// What a model snapshot fetches when no allow patterns are given: configuration, tokenizer and generation
    /// files, safetensors weights and their index, and text files such as BPE <c>merges.txt</c>; not
    /// <c>.bin</c>/<c>.pth</c>/<c>.gguf</c>/ONNX weights or the model card.
    /// </summary>
    public static IReadOnlyList<string> DefaultModelPatterns { get; } =
        ["*.json", "*.safetensors", "tokenizer.model", "*.txt", "*.jinja"];

    /// <summary>
    /// Downloads the files of a repository revision that match <paramref name="allowPatterns"/> and returns the
    /// snapshot folder, <c>{cache}/models--org--name/snapshots/{commit}</c>.
    /// </summary>
    /// <param name="repoId">The repository, <c>org/name</c> or <c>name</c>.</param>
    /// <param name="type">Model or dataset repository.</param>
    /// <param name="revision">A branch, tag or commit hash.</param>
    /// <param name="allowPatterns">
    /// fnmatch patterns (<c>*</c> crosses folders) of the files to fetch; null means <see cref="DefaultModelPatterns"/>
    /// for models and every file for datasets. Pass <c>["*"]</c> for every file of a model.
    /// </param>
    /// <param name="progress">Receives each file's progress while it downloads.</param>
    /// <param name="ct">Cancels the download; a partial file stays and is resumed next time.</param>
    /// <exception cref="ArgumentException">The repository id is malformed.</exception>
    /// <exception cref="HubException">The hub refused or lacks the repository, a file failed verification, or offline and not cached.</exception>
    public async Task<string> DownloadSnapshotAsync(string repoId, RepoType type = RepoType.Model, string revision = "main",
        IReadOnlyList<string>? allowPatterns = null, IProgress<DownloadProgress>? progress = null, CancellationToken ct = default)
    {
        HubRepoId.Validate(repoId);
        ArgumentException.ThrowIfNullOrEmpty(revision);
        var cache = new HubCache(Options.CacheDir, repoId, type);
        var what = new HubTarget(repoId, type, revision);
        if (Options.Offline)
            return CachedSnapshot(cache, revision) ?? throw NotCached(cache, what, "offline mode is on (HF_HUB_OFFLINE)");

        RepoInfo info;
        var apiUrl = _transport.Url($"api/{(type == RepoType.Dataset ? "datasets" : "models")}/{repoId}/revision/{Uri.EscapeDataString(revision)}");
        try
        {
            using var response = await _transport.SendAsync(HttpMethod.Get, apiUrl, 0, what, ct).ConfigureAwait(false);
            info = RepoInfo.Parse(await response.Message.Content.ReadAsStringAsync(ct).ConfigureAwait(false), apiUrl.ToString());
        }
        catch (Exception e) when (IsUnreachable(e, ct))
        {
            return CachedSnapshot(cache, revision) ?? throw NotCached(cache, what, $"the hub at {Options.Endpoint} cannot be reached ({e.Message})", e);
        }

        string snapshot = cache.SnapshotFolder(info.Sha);
        var patterns = allowPatterns ?? (type == RepoType.Model ? DefaultModelPatterns : ["*"]);
        foreach (string file in info.Files.Where(f => HubGlob.MatchesAny(f, patterns)))
        {
            // Every file is fetched by commit hash so that a branch moving mid-download cannot mix commits.
            string pointer = cache.PointerPath(info.Sha, file);
            if (!File.Exists(pointer))
                await FetchAsync(cache, what with { Revision = info.Sha, File = file }, progress, ct).ConfigureAwait(false);
        }
        Directory.CreateDirectory(snapshot);
        cache.WriteRef(revision, info.Sha);
        return snapshot;
    }

    /// <summary>Downloads one file of a repository revision and returns its path inside the snapshot folder.</summary>
    /// <param name="repoId">The repository, <c>org/name</c> or <c>name</c>.</param>
    /// <param name="filename">The file's path in the repository, with <c>/</c> between folders.</param>
    /// <param name="type">Model or dataset repository.</param>
    /// <param name="revision">A branch, tag or commit hash.</param>
    /// <param name="progress">Receives the file's progress while it downloads.</param>
    /// <param name="ct">Cancels the download; a partial file stays and is resumed next time.</param>
    /// <exception cref="ArgumentException">The repository id is malformed.</exception>
    /// <exception cref="HubException">The hub refused or lacks the file, it failed verification, or offline and not cached.</exception>
    public async Task<string> DownloadFileAsync(string repoId, string filename, RepoType type = RepoType.Model, string revision = "main",
        IProgress<DownloadProgress>? progress = null, CancellationToken ct = default)
    {
        HubRepoId.Validate(repoId);
        ArgumentException.ThrowIfNullOrEmpty(filename);
        ArgumentException.ThrowIfNullOrEmpty(revision);
        var cache = new HubCache(Options.CacheDir, repoId, type);
        var what = new HubTarget(repoId, type, revision, filename);
        // A commit hash cannot move, so a cached file of one needs no request.
        if (Options.Offline || HubCache.CommitHash().IsMatch(revision))
        {
            if (CachedFile(cache, revision, filename) is { } cached) return cached;
            if (Options.Offline) throw NotCached(cache, what, "offline mode is on (HF_HUB_OFFLINE)");
        }
        try
        {
            return await FetchAsync(cache, what, progress, ct).ConfigureAwait(false);
        }
        catch (Exception e) when (IsUnreachable(e, ct))
        {
            return CachedFile(cache, revision, filename)
                ?? throw NotCached(cache, what, $"the hub at {Options.Endpoint} cannot be reached ({e.Message})", e);
        }
    }

    /// <inheritdoc/>
    public void Dispose() => _http.Dispose();

    /// <summary>Resolves a file's commit and etag with a HEAD request, downloads its blob unless cached, links it into the snapshot.</summary>
    async Task<string> FetchAsync(HubCache cache, HubTarget what, IProgress<DownloadProgress>? progress, CancellationToken ct)
    {
        string file = what.File!;
        var url = ResolveUrl(what, what.Revision);
        string commit, etag;
        long? size;
        using (var head = await _transport.SendAsync(HttpMethod.Head, url, 0, what, ct).ConfigureAwait(false))
        {
            commit = head.Commit ?? throw new HubException($"The hub sent no X-Repo-Commit header for {what.Describe()} ({url}).");
            etag = head.Etag ?? throw new HubException($"The hub sent no ETag or X-Linked-Etag header for {what.Describe()} ({url}).");
            size = head.Size;
        }

        string pointer = cache.PointerPath(commit, file);
        if (!File.Exists(pointer))
        {
            string blob = cache.BlobPath(etag);
            if (!File.Exists(blob))
                await BlobDownloader.DownloadAsync(_transport, ResolveUrl(what, commit), blob, etag, size, what, progress, ct).ConfigureAwait(false);
            HubCache.Link(blob, pointer);
        }
        cache.WriteRef(what.Revision, commit);
        return pointer;
    }

    Uri ResolveUrl(HubTarget what, string revision)
    {
        string file = string.Join('/', what.File!.Split('/').Select(Uri.EscapeDataString));
        string prefix = what.Type == RepoType.Dataset ? "datasets/" : "";
        return _transport.Url($"{prefix}{what.RepoId}/resolve/{Uri.EscapeDataString(revision)}/{file}");
    }

    static string? CachedSnapshot(HubCache cache, string revision) =>
        cache.ResolveCached(revision) is { } commit && cache.SnapshotFolder(commit) is var folder && Directory.Exists(folder) ? folder : null;

    static string? CachedFile(HubCache cache, string revision, string file) =>
        cache.ResolveCached(revision) is { } commit && cache.PointerPath(commit, file) is var path && File.Exists(path) ? path : null;

    static HubException NotCached(HubCache cache, HubTarget what, string why, Exception? inner = null) =>
        new($"Cannot download {what.Describe()}: {why}, and it is not in the cache {cache.RepoFolder}.", inner: inner);

    // Transport failures (refused connection, DNS, timeout) fall back to the cache, as huggingface_hub does;
    // HTTP errors from a reachable hub do not.
    static bool IsUnreachable(Exception e, CancellationToken ct) =>
        e is HttpRequestException || (e is TaskCanceledException && !ct.IsCancellationRequested);
}
