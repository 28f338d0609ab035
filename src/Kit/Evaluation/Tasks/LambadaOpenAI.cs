using Kit.Data;

namespace Kit.Evaluation.Tasks;

/// <summary>
/// LAMBADA (OpenAI's version) as <c>lm_eval/tasks/lambada/lambada_openai.yaml</c> defines it: the text split on
/// single spaces, all words but the last as the context and " " + the last word as the continuation.
/// </summary>
public static class LambadaOpenAI
{
    /// <summary>The document of a record with <c>text</c>.</summary>
    /// <exception cref="InvalidDataException">The field is missing or the text is a single word.</exception>
    public static TaskDocument ToDocument(DataRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        string[] words = record.String("text").Split(' ');
        if (words.Length < 2) throw new InvalidDataException($"{record.Where}: field 'text' has no space, so no context before its last word");
        string target = " " + words[^1];
        return new TaskDocument([new LoglikelihoodRequest(string.Join(' ', words[..^1]), target)], 0, [target]);
    }
}
