namespace Kit.Data;

/// <summary>How a plain text file is cut into documents.</summary>
public enum TextFileMode
{
    /// <summary>
    /// The whole file is one document, tokenized at once; the GPTQ reference treats WikiText-2 this way, taking
    /// random windows of the tokenized concatenation.
    /// </summary>
    WholeFile,

    /// <summary>Runs of lines between blank (whitespace-only) lines are documents.</summary>
    Paragraphs,
}
