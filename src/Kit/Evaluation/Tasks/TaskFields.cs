using Kit.Data;

namespace Kit.Evaluation.Tasks;

/// <summary>Checks shared by the task readers.</summary>
internal static class TaskFields
{
    /// <summary>The gold index, checked against the number of choices.</summary>
    /// <exception cref="InvalidDataException">The index is not one of the choices.</exception>
    public static int Gold(DataRecord record, string field, long gold, int choices) => gold >= 0 && gold < choices
        ? (int)gold
        : throw new InvalidDataException($"{record.Where}: field '{field}' is {gold}, not the index of one of the {choices} choices");
}
