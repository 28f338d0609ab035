namespace Kit.Tests;

/// <summary>Where the tests find the repository, its bundled models and corpora, and scratch space.</summary>
internal static class TestPaths
{
    /// <summary>The repository root (the folder holding Kit.sln).</summary>
    public static string RepoRoot { get; } = FindRepoRoot();

    /// <summary>The repository's data folder: bundled models, corpora and configs, each with its provenance.</summary>
    public static string Data => Path.Combine(RepoRoot, "data");

    /// <summary>llama2.c's stories260K in Hugging Face layout.</summary>
    public static string Stories260K => Path.Combine(Data, "stories260K");

    /// <summary>The start of TinyStories' validation split (text the bundled models know).</summary>
    public static string TinyStoriesText => Path.Combine(Data, "text", "tinystories", "tinystories_validation_head.txt");

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
