using System.Text;
using System.Text.RegularExpressions;

namespace Kit.Models.Hub;

/// <summary>
/// Python's <c>fnmatch</c>, which <c>huggingface_hub</c> uses for allow patterns: <c>*</c> also matches <c>/</c>,
/// so <c>*.safetensors</c> matches files in sub-folders too.
/// </summary>
internal static class HubGlob
{
    /// <summary>True when <paramref name="path"/> matches any of <paramref name="patterns"/>.</summary>
    public static bool MatchesAny(string path, IEnumerable<string> patterns) =>
        patterns.Any(p => ToRegex(p).IsMatch(path));

    static Regex ToRegex(string pattern)
    {
        // huggingface_hub turns a folder pattern "sub/" into "sub/*".
        if (pattern.EndsWith('/')) pattern += "*";
        var regex = new StringBuilder("^");
        for (int i = 0; i < pattern.Length; i++)
        {
            char c = pattern[i];
            if (c == '*') regex.Append("(?s:.*)");
            else if (c == '?') regex.Append("(?s:.)");
            else if (c == '[' && i + 2 < pattern.Length && pattern.IndexOf(']', i + 2) is var close and > 0)
            {
                string set = pattern[(i + 1)..close];
                regex.Append('[').Append(set.StartsWith('!') ? "^" + Escape(set[1..]) : Escape(set)).Append(']');
                i = close;
            }
            else regex.Append(Regex.Escape(c.ToString()));
        }
        return new Regex(regex.Append('$').ToString(), RegexOptions.CultureInvariant);
    }

    // Inside a character set only '\' and '^' need escaping; '-' keeps its range meaning, as in fnmatch.
    static string Escape(string set) => set.Replace(@"\", @"\\", StringComparison.Ordinal).Replace("^", @"\^", StringComparison.Ordinal);
}
