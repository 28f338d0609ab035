using TorchSharp;
using static TorchSharp.torch;

namespace Kit.Data;

/// <summary>Calibration samples: N token sequences of exactly <see cref="SequenceLength"/> ids.</summary>
/// <param name="Samples">The samples in the order to run them.</param>
/// <param name="SequenceLength">Tokens per sample (L).</param>
/// <param name="Source">Where the text came from.</param>
/// <param name="CorpusTokens">Tokens in the tokenized corpus the samples were cut from.</param>
public sealed record CalibrationSet(IReadOnlyList<int[]> Samples, int SequenceLength, string Source, int CorpusTokens)
{
    /// <summary>Number of samples (N).</summary>
    public int Count => Samples.Count;

    /// <summary>The samples as an int64 tensor [N, L] on <paramref name="device"/>, the model's input ids.</summary>
    public Tensor ToTensor(Device device)
    {
        var ids = new long[(long)Count * SequenceLength];
        for (int i = 0; i < Count; i++)
            for (int j = 0; j < SequenceLength; j++)
                ids[(long)i * SequenceLength + j] = Samples[i][j];
        return torch.tensor(ids, [Count, SequenceLength], ScalarType.Int64, device);
    }
}
