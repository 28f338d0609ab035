namespace Kit.Tests;

/// <summary>Where the tests find the repository, the shared models and corpora, and scratch space.</summary>
internal static class TestPaths
{
    /// <summary>The repository root (the folder holding Kit.sln).</summary>
    public static string RepoRoot { get; } = FindRepoRoot();

    /// <summary>The shared folder beside the repository (models and corpora that are never committed).</summary>
    public static string Shared => Environment.GetEnvironmentVariable("KIT_SHARED") is { Length: > 0 } s
        ? s : Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared"));

    /// <summary>llama2.c's stories260K in Hugging Face layout.</summary>
    public static string Stories260K => Path.Combine(Shared, "models", "stories260K");

    /// <summary>Test fixtures fetched by the set-up script (npm tokenizer packages and the like).</summary>
    public static string Fixtures => Path.Combine(RepoRoot, ".cache", "fixtures");

    /// <summary>A fresh, empty temporary folder, deleted with the others of this test run when the process exits.</summary>
    public static string NewTempDir()
    {
        var dir = Path.Combine(RunTempRoot.Value, Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }

    // One folder per test process, so that a run removes what it wrote (models, GGUF files, notebooks' runs)
    // without touching a concurrent run's folders.
    static readonly Lazy<string> RunTempRoot = new(() =>
    {
        var root = Path.Combine(Path.GetTempPath(), "kit-tests", $"run-{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(root);
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try { Directory.Delete(root, recursive: true); }
            catch (IOException) { }             // a file still mapped or open: left for the OS to clean
            catch (UnauthorizedAccessException) { }
        };
        return root;
    });

    static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Kit.sln"))) return dir.FullName;
        throw new InvalidOperationException("Kit.sln not found above " + AppContext.BaseDirectory);
    }
}
