using System.Text;

namespace Kit.Models;

/// <summary>What a loaded model is, as a flat record for tables, JSON and the console.</summary>
public sealed record ModelSummary(string Source, string Folder, string ModelType, int Layers, int HiddenSize, int IntermediateSize,
    int AttentionHeads, int KeyValueHeads, int HeadDim, int VocabSize, int ContextLength, long Parameters, long WeightBytes,
    string DType, string Device, bool TiedEmbeddings, string Tokenizer, int? BosId, IReadOnlyList<int> EosIds)
{
    /// <summary>Summarises <paramref name="lm"/>.</summary>
    public static ModelSummary Of(LanguageModel lm)
    {
        var c = lm.Config;
        return new ModelSummary(lm.Source, lm.Folder, c.ModelType, c.NumHiddenLayers, c.HiddenSize, c.IntermediateSize,
            c.NumAttentionHeads, c.NumKeyValueHeads, c.HeadDim, c.VocabSize, c.MaxPositionEmbeddings, c.ParameterCount,
            lm.Model.WeightBytes, lm.Model.DType.ToString(), lm.Model.Device.ToString(), c.TieWordEmbeddings,
            lm.Tokenizer.GetType().Name, lm.Tokenizer.BosId, lm.Tokenizer.EosIds);
    }

    /// <summary>A few aligned lines for the console.</summary>
    public string ToText()
    {
        var sb = new StringBuilder();
        sb.AppendLine($"model       {Source} ({Folder})");
        sb.AppendLine($"type        {ModelType}, {Layers} layers, hidden {HiddenSize}, MLP {IntermediateSize}");
        sb.AppendLine($"attention   {AttentionHeads} heads × {HeadDim}, {KeyValueHeads} key/value heads");
        sb.AppendLine($"vocabulary  {VocabSize} ({Tokenizer}), context {ContextLength}, tied embeddings {TiedEmbeddings}");
        sb.AppendLine($"parameters  {Parameters:N0} ({WeightBytes / 1048576.0:F2} MiB as {DType} on {Device})");
        sb.Append($"special     bos {BosId?.ToString() ?? "none"}, eos {string.Join(",", EosIds)}");
        return sb.ToString();
    }
}
