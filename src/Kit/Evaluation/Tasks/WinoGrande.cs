using Kit.Data;

namespace Kit.Evaluation.Tasks;

/// <summary>
/// WinoGrande with partial scoring, as <c>lm_eval/tasks/winogrande/default.yaml</c> and
/// <c>preprocess_winogrande.py</c> define it (Trinh and Le's partial evaluation): each option is substituted for
/// the blank and the sentence up to there is the context (<c>doc_to_choice</c>); the continuation scored is the
/// shared rest of the sentence after the blank, stripped, behind the target delimiter (<c>doc_to_target</c>).
/// </summary>
public static class WinoGrande
{
    /// <summary>The document of a record with <c>sentence</c> (one "_" blank), <c>option1</c>, <c>option2</c> and <c>answer</c> ("1" or "2").</summary>
    /// <exception cref="InvalidDataException">A field is missing, the sentence has no blank, or the answer is not "1" or "2".</exception>
    public static TaskDocument ToDocument(DataRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        string sentence = record.String("sentence");
        int blank = sentence.IndexOf('_', StringComparison.Ordinal);
        if (blank < 0) throw new InvalidDataException($"{record.Where}: field 'sentence' has no '_' blank: {sentence}");
        string[] contexts = [sentence[..blank] + record.String("option1"), sentence[..blank] + record.String("option2")];
        string continuation = " " + sentence[(blank + 1)..].Trim();
        int gold = record.String("answer") switch
        {
            "1" => 0,
            "2" => 1,
            var other => throw new InvalidDataException($"{record.Where}: field 'answer' is '{other}', not \"1\" or \"2\""),
        };
        // multiple_inputs: the choices are the contexts, so acc_norm (which WinoGrande does not report) would divide by them.
        return new TaskDocument(contexts.Select(c => new LoglikelihoodRequest(c, continuation)).ToList(), gold, contexts);
    }
}
