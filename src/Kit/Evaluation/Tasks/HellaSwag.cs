using System.Text;
using System.Text.RegularExpressions;
using Kit.Data;

namespace Kit.Evaluation.Tasks;

/// <summary>
/// HellaSwag as <c>lm_eval/tasks/hellaswag/hellaswag.yaml</c> and <c>utils.py</c> define it: the query
/// <c>activity_label: ctx_a Ctx_b</c> and the four endings, all cleaned by <see cref="Preprocess"/>.
/// </summary>
public static partial class HellaSwag
{
    /// <summary>
    /// <c>utils.preprocess</c>: strip, turn WikiHow's " [title]" into ". ", drop any other bracketed text (the
    /// shortest <c>[…]</c> runs), then replace double spaces by single ones (one pass, as Python's
    /// <c>str.replace</c> does).
    /// </summary>
    public static string Preprocess(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        // string.Trim and Python's str.strip() both remove Unicode whitespace.
        text = text.Trim().Replace(" [title]", ". ", StringComparison.Ordinal);
        text = Bracketed().Replace(text, "");
        return text.Replace("  ", " ", StringComparison.Ordinal);
    }

    /// <summary>The document of a record with <c>ctx_a</c>, <c>ctx_b</c>, <c>activity_label</c>, <c>endings</c>, <c>label</c>.</summary>
    /// <exception cref="InvalidDataException">A field is missing or of the wrong type, or the label is not an ending's index.</exception>
    public static TaskDocument ToDocument(DataRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        string context = record.String("ctx_a") + " " + Capitalize(record.String("ctx_b"));
        var endings = record.Strings("endings").Select(Preprocess).ToList();
        int gold = TaskFields.Gold(record, "label", record.Integer("label"), endings.Count);
        return TaskDocument.MultipleChoice(Preprocess(record.String("activity_label") + ": " + context), endings, gold);
    }

    /// <summary>Python's <c>str.capitalize</c>: the first character in upper case, the rest in lower case.</summary>
    public static string Capitalize(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length == 0) return text;
        var first = Rune.GetRuneAt(text, 0);
        return Rune.ToUpperInvariant(first).ToString() + text[first.Utf16SequenceLength..].ToLowerInvariant();
    }

    [GeneratedRegex(@"\[.*?\]")]
    private static partial Regex Bracketed();
}
