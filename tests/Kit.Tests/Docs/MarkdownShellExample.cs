namespace Kit.Tests.Docs;

/// <summary>
/// A shell example in one of the repository's Markdown files: a fenced block whose language is bash, sh or
/// shell (a <c>console</c> block is a transcript with output, not a script). An HTML comment <c>&lt;!-- not run by the tests: REASON --&gt;</c> on the line before
/// the fence (blank lines between allowed) marks one that takes longer than a minute or cannot run inside
/// the test suite.
/// </summary>
internal sealed record MarkdownShellExample(string File, int Line, string Script, string? NotRunBecause)
{
    const string NotRunMarker = "<!-- not run by the tests:";
    static readonly string[] ShellLanguages = ["bash", "sh", "shell"];
    static readonly string[] SkippedFolders = ["bin", "obj", "artifacts", "node_modules", ".cache", ".git", "runs"];

    /// <summary>Every shell example in the Markdown files below <paramref name="root"/>, in file and line order.</summary>
    public static IEnumerable<MarkdownShellExample> FindAll(string root) =>
        MarkdownFiles(root).SelectMany(path => Parse(Path.GetRelativePath(root, path), System.IO.File.ReadAllLines(path)));

    /// <summary>The shell examples in one Markdown file's lines; <paramref name="file"/> names it.</summary>
    public static IEnumerable<MarkdownShellExample> Parse(string file, IReadOnlyList<string> lines)
    {
        for (int i = 0; i < lines.Count; i++)
        {
            string line = lines[i].TrimStart();
            if (!line.StartsWith("```", StringComparison.Ordinal)) continue;
            string language = line[3..].Trim().Split(' ', 2)[0];
            int close = i + 1;
            while (close < lines.Count && !lines[close].TrimStart().StartsWith("```", StringComparison.Ordinal)) close++;
            if (close == lines.Count) throw new InvalidDataException($"{file}:{i + 1}: code fence is never closed");
            if (ShellLanguages.Contains(language))
                yield return new MarkdownShellExample(file, i + 1, string.Join('\n', lines.Skip(i + 1).Take(close - i - 1)), Marker(lines, i));
            i = close;
        }
    }

    // The reason in the marker comment right above the fence, or null when the example is to be run.
    static string? Marker(IReadOnlyList<string> lines, int fence)
    {
        int above = fence - 1;
        while (above >= 0 && lines[above].Trim().Length == 0) above--;
        if (above < 0) return null;
        string comment = lines[above].Trim();
        if (!comment.StartsWith(NotRunMarker, StringComparison.Ordinal) || !comment.EndsWith("-->", StringComparison.Ordinal)) return null;
        return comment[NotRunMarker.Length..^3].Trim();
    }

    static IEnumerable<string> MarkdownFiles(string root)
    {
        foreach (var path in Directory.EnumerateFiles(root, "*.md").Order(StringComparer.Ordinal)) yield return path;
        foreach (var dir in Directory.EnumerateDirectories(root).Order(StringComparer.Ordinal))
            if (!SkippedFolders.Contains(Path.GetFileName(dir)))
                foreach (var path in MarkdownFiles(dir)) yield return path;
    }
}
