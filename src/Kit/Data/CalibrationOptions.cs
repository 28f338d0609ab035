using Kit.Models.Tokenizers;

namespace Kit.Data;

/// <summary>
/// How many calibration samples of how many tokens to draw; the defaults are llm-compressor's
/// (<c>num_calibration_samples=512</c>, <c>max_seq_length=2048</c> as its examples pass, shuffled).
/// </summary>
public sealed record CalibrationOptions
{
    /// <summary>Number of samples (N).</summary>
    public int NumSamples { get; init; } = 512;

    /// <summary>Tokens per sample (L); every sample has exactly this many.</summary>
    public int SequenceLength { get; init; } = 2048;

    /// <summary>The random seed; the same seed, corpus and options give the same samples.</summary>
    public int Seed { get; init; } = 42;

    /// <summary>Windows of the document stream, or the heads of whole documents.</summary>
    public CalibrationPacking Packing { get; init; } = CalibrationPacking.Windows;

    /// <summary>
    /// Stop tokenizing the source once this many tokens are read; null means 16 × N × L, enough for windows to be
    /// spread widely without tokenizing a whole c4 shard.
    /// </summary>
    public long? MaxCorpusTokens { get; init; }

    /// <summary>The chat format for chat documents; null uses the format of the tokenizer's own template.</summary>
    public ChatTemplateFamily? ChatTemplate { get; init; }

    /// <summary>The token budget in effect: <see cref="MaxCorpusTokens"/> or its default.</summary>
    public long CorpusTokenBudget => MaxCorpusTokens ?? 16L * NumSamples * SequenceLength;

    /// <summary>
    /// Scales the options down to what a model and a corpus allow: L is clamped to
    /// <paramref name="maxPositionEmbeddings"/> and to the corpus (its size, or for <see cref="CalibrationPacking.Documents"/>
    /// its longest document), then N to the samples of that length the corpus holds. Nothing grows.
    /// </summary>
    /// <param name="maxPositionEmbeddings">The model's context length (<c>max_position_embeddings</c>).</param>
    /// <param name="corpus">The tokenized calibration data.</param>
    public CalibrationFit FitTo(int maxPositionEmbeddings, TokenizedCorpus corpus)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPositionEmbeddings, 1);
        ArgumentNullException.ThrowIfNull(corpus);
        var changes = new List<string>();
        int length = SequenceLength, count = NumSamples;
        if (length > maxPositionEmbeddings)
        {
            changes.Add($"sequence length {length} → {maxPositionEmbeddings}: the model's max_position_embeddings is {maxPositionEmbeddings}");
            length = maxPositionEmbeddings;
        }
        if (Packing == CalibrationPacking.Windows)
        {
            if (length > corpus.TokenCount)
            {
                changes.Add($"sequence length {length} → {corpus.TokenCount}: {corpus.Source} holds only {corpus.TokenCount:N0} tokens");
                length = corpus.TokenCount;
            }
            int fits = corpus.TokenCount / length;
            if (count > fits)
            {
                changes.Add($"samples {count} → {fits}: {corpus.Source} holds {corpus.TokenCount:N0} tokens, enough for {fits} non-overlapping windows of {length}");
                count = fits;
            }
        }
        else
        {
            int longest = corpus.Documents.Max(d => d.Length);
            if (length > longest)
            {
                changes.Add($"sequence length {length} → {longest}: the longest document of {corpus.Source} has {longest} tokens");
                length = longest;
            }
            int eligible = corpus.Documents.Count(d => d.Length >= length);
            if (count > eligible)
            {
                changes.Add($"samples {count} → {eligible}: only {eligible} documents of {corpus.Source} have at least {length} tokens");
                count = eligible;
            }
        }
        return new CalibrationFit(this with { NumSamples = count, SequenceLength = length }, changes);
    }
}
