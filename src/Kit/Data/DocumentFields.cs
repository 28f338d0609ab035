namespace Kit.Data;

/// <summary>
/// Which fields (JSON keys or Parquet columns) hold a record's document. The first layout whose field is present
/// wins: <see cref="Text"/>; else <see cref="Messages"/> (a list of {role, content}); else
/// <see cref="Instruction"/> with optional <see cref="Input"/> and <see cref="Output"/>, joined with the Alpaca
/// prompt as llm-compressor's open_platypus loader does.
/// </summary>
public sealed record DocumentFields
{
    /// <summary>The plain-text field (wikitext, c4, TinyStories).</summary>
    public string Text { get; init; } = "text";

    /// <summary>The chat field: a list of objects with <c>role</c> and <c>content</c> (ultrachat_200k).</summary>
    public string Messages { get; init; } = "messages";

    /// <summary>The instruction field of instruction data (open_platypus, Alpaca).</summary>
    public string Instruction { get; init; } = "instruction";

    /// <summary>The optional context field that goes with <see cref="Instruction"/>.</summary>
    public string Input { get; init; } = "input";

    /// <summary>The answer field that goes with <see cref="Instruction"/>.</summary>
    public string Output { get; init; } = "output";

    /// <summary>Picks the layout of a record or file from the fields it has.</summary>
    /// <exception cref="InvalidDataException">None of the fields is present; the message lists the ones that are.</exception>
    internal DocumentLayout Resolve(IReadOnlyCollection<string> present, string where)
    {
        if (present.Contains(Text)) return DocumentLayout.Text;
        if (present.Contains(Messages)) return DocumentLayout.Messages;
        if (present.Contains(Instruction)) return DocumentLayout.Instruction;
        string has = present.Count == 0 ? "no fields at all" : "only " + string.Join(", ", present.Select(f => $"'{f}'"));
        throw new InvalidDataException(
            $"{where} has no '{Text}' field, no '{Messages}' field and no '{Instruction}' field; it has {has} (set DocumentFields to name the text field)");
    }

    /// <summary>
    /// The Alpaca prompt plus the answer, as llm-compressor's <c>OpenPlatypusDataset.dataset_template</c> builds it.
    /// </summary>
    internal static string AlpacaText(string instruction, string? input, string? output)
    {
        string prompt = string.IsNullOrEmpty(input)
            ? "Below is an instruction that describes a task. Write a response that appropriately completes the request."
              + $"\n\n### Instruction:\n{instruction}\n\n### Response:\n"
            : "Below is an instruction that describes a task, paired with an input that provides further context. "
              + "Write a response that appropriately completes the request."
              + $"\n\n### Instruction:\n{instruction}\n\n### Input:\n{input}\n\n### Response:\n";
        return prompt + output;
    }
}

/// <summary>Where a record keeps its document.</summary>
internal enum DocumentLayout
{
    /// <summary>One text field.</summary>
    Text,

    /// <summary>A list of chat messages.</summary>
    Messages,

    /// <summary>Instruction, optional input, and output.</summary>
    Instruction,
}
