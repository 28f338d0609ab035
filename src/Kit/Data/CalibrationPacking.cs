namespace Kit.Data;

/// <summary>How samples of exactly L tokens are cut from a tokenized corpus.</summary>
public enum CalibrationPacking
{
    /// <summary>
    /// Random non-overlapping windows of L tokens anywhere in the document stream, documents separated by EOS/BOS:
    /// the GPTQ reference's sampling of WikiText-2 and C4, and llm-compressor's <c>concatenate_data=True</c>.
    /// </summary>
    Windows,

    /// <summary>
    /// The first L tokens of randomly chosen documents; documents shorter than L are dropped: llm-compressor's
    /// default truncation, without the padding it would add to short documents.
    /// </summary>
    Documents,
}
