namespace Kit.Data;

/// <summary>Where one document's tokens lie in <see cref="TokenizedCorpus.Tokens"/> (without the EOS that follows it).</summary>
/// <param name="Start">Index of the document's first token.</param>
/// <param name="Length">Number of tokens.</param>
public readonly record struct DocumentSpan(int Start, int Length);
