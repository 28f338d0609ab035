using Kit.Data;

namespace Kit.Evaluation.Tasks;

/// <summary>
/// ARC-Easy and ARC-Challenge as <c>lm_eval/tasks/arc/arc_easy.yaml</c> (and <c>arc_challenge.yaml</c>, which
/// includes it) define them: <c>Question: {question}\nAnswer:</c>, the choices' texts, and the gold index
/// <c>choices.label.index(answerKey)</c>, so both label styles ("A".."E" and "1".."5") work.
/// </summary>
public static class Arc
{
    /// <summary>The document of a record with <c>question</c>, <c>choices</c> {<c>text</c>, <c>label</c>} and <c>answerKey</c>.</summary>
    /// <exception cref="InvalidDataException">A field is missing or of the wrong type, or the answer key is not a label.</exception>
    public static TaskDocument ToDocument(DataRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        var texts = record.Strings("choices.text");
        var labels = record.Strings("choices.label");
        string answerKey = record.String("answerKey");
        if (labels.Count != texts.Count)
            throw new InvalidDataException($"{record.Where}: 'choices.label' has {labels.Count} labels for {texts.Count} texts in 'choices.text'");
        int gold = labels.ToList().IndexOf(answerKey);
        if (gold < 0)
            throw new InvalidDataException($"{record.Where}: field 'answerKey' is '{answerKey}', not one of the labels {string.Join(", ", labels)}");
        return TaskDocument.MultipleChoice($"Question: {record.String("question")}\nAnswer:", texts, gold);
    }
}
