namespace Kit.Models.Hub;

/// <summary>
/// Where the hub is, where its cache lives, and how to authenticate. <see cref="FromEnvironment()"/> reads the
/// same environment variables as Python's <c>huggingface_hub</c>, so Kit and Python tools share one cache.
/// </summary>
public sealed record HubOptions
{
    /// <summary>The hub's base URL, without a trailing slash (<c>HF_ENDPOINT</c>).</summary>
    public string Endpoint { get; init; } = "https://huggingface.co";

    /// <summary>
    /// The hub cache folder holding <c>models--org--name</c> folders: <c>~/.cache/huggingface/hub</c> unless set;
    /// <see cref="FromEnvironment()"/> takes <c>HF_HUB_CACHE</c>, else <c>$HF_HOME/hub</c>.
    /// </summary>
    public string CacheDir { get; init; } = Path.Combine(UserHome(), ".cache", "huggingface", "hub");

    /// <summary>The access token sent as <c>Authorization: Bearer</c> to the hub (<c>HF_TOKEN</c>), or null.</summary>
    public string? Token { get; init; }

    /// <summary>When true no request is made: revisions resolve through the cache's <c>refs/</c> (<c>HF_HUB_OFFLINE</c>).</summary>
    public bool Offline { get; init; }

    /// <summary>Options from this process's environment, with <c>huggingface_hub</c>'s precedence.</summary>
    public static HubOptions FromEnvironment() => FromEnvironment(Environment.GetEnvironmentVariable, UserHome());

    /// <summary>Options from the given environment; <paramref name="userHome"/> expands <c>~</c>.</summary>
    internal static HubOptions FromEnvironment(Func<string, string?> env, string userHome)
    {
        string hfHome = DefaultHfHome(env, userHome);
        string cache = Set(env("HF_HUB_CACHE")) ?? Set(env("HUGGINGFACE_HUB_CACHE")) ?? Path.Combine(hfHome, "hub");
        string? token = Set(env("HF_TOKEN")) ?? Set(env("HUGGING_FACE_HUB_TOKEN")) ?? ReadTokenFile(Path.Combine(hfHome, "token"));
        return new HubOptions
        {
            Endpoint = (Set(env("HF_ENDPOINT")) ?? "https://huggingface.co").TrimEnd('/'),
            CacheDir = ExpandUser(cache, userHome),
            Token = token?.Trim(),
            Offline = IsTrue(env("HF_HUB_OFFLINE")),
        };
    }

    static string DefaultHfHome(Func<string, string?> env, string userHome)
    {
        string xdgCache = Set(env("XDG_CACHE_HOME")) ?? Path.Combine(userHome, ".cache");
        return ExpandUser(Set(env("HF_HOME")) ?? Path.Combine(xdgCache, "huggingface"), userHome);
    }

    static string UserHome() => Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);

    static string? Set(string? value) => string.IsNullOrEmpty(value) ? null : value;

    // huggingface_hub's _is_true: these spellings, any case.
    static bool IsTrue(string? value) =>
        value?.Trim().ToUpperInvariant() is "1" or "ON" or "YES" or "TRUE";

    static string ExpandUser(string path, string userHome) =>
        path == "~" ? userHome
        : path.StartsWith("~/", StringComparison.Ordinal) ? Path.Combine(userHome, path[2..])
        : path;

    static string? ReadTokenFile(string path) =>
        File.Exists(path) && File.ReadAllText(path).Trim() is { Length: > 0 } token ? token : null;
}
