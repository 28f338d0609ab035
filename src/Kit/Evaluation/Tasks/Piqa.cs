using Kit.Data;

namespace Kit.Evaluation.Tasks;

/// <summary>PIQA as <c>lm_eval/tasks/piqa/piqa.yaml</c> defines it: <c>Question: {goal}\nAnswer:</c>, choices <c>sol1</c> and <c>sol2</c>.</summary>
public static class Piqa
{
    /// <summary>The document of a record with <c>goal</c>, <c>sol1</c>, <c>sol2</c> and <c>label</c> (0 or 1).</summary>
    /// <exception cref="InvalidDataException">A field is missing or of the wrong type, or the label is not 0 or 1.</exception>
    public static TaskDocument ToDocument(DataRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        string[] choices = [record.String("sol1"), record.String("sol2")];
        int gold = TaskFields.Gold(record, "label", record.Integer("label"), choices.Length);
        return TaskDocument.MultipleChoice($"Question: {record.String("goal")}\nAnswer:", choices, gold);
    }
}
