using System.Text.RegularExpressions;

namespace Kit.Models.Tokenizers;

/// <summary>
/// Hugging Face's splitting pre-tokenizers as a sequence of regexes, each applied to every piece the
/// previous step produced, keeping both the matches and the text between them (the <c>Isolated</c>
/// behaviour). Kit applies them itself: Microsoft.ML.Tokenizers' composite pre-tokenizer merged
/// "\n\n" wrongly.
/// </summary>
internal sealed class PreTokenizerSplits(IReadOnlyList<Regex> steps)
{
    /// <summary>GPT-2's pattern, used by a <c>ByteLevel</c> pre-tokenizer with <c>use_regex</c>.</summary>
    public const string Gpt2Pattern = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

    /// <summary>Compiles a pattern from tokenizer.json; Oniguruma/Rust syntax used there is also .NET syntax.</summary>
    public static Regex Compile(string pattern) =>
        new(pattern, RegexOptions.CultureInvariant | RegexOptions.Compiled);

    public List<string> Split(string text)
    {
        var pieces = new List<string> { text };
        foreach (var regex in steps)
        {
            var next = new List<string>();
            foreach (var piece in pieces)
            {
                int last = 0;
                foreach (Match m in regex.Matches(piece))
                {
                    if (m.Length == 0) continue;
                    if (m.Index > last) next.Add(piece[last..m.Index]);
                    next.Add(m.Value);
                    last = m.Index + m.Length;
                }
                if (last < piece.Length) next.Add(piece[last..]);
            }
            pieces = next;
        }
        return pieces;
    }
}
