using static TorchSharp.torch;

namespace Kit.Formats.Gguf;

/// <summary>
/// The row order llama.cpp expects for Llama's q_proj and k_proj. Hugging Face rotates the first half of
/// each head against the second half (<c>rotate_half</c>); llama.cpp rotates adjacent pairs. Its converter
/// (<c>convert_hf_to_gguf.py</c>, <c>LlamaModel.permute</c>) reorders each head's rows with
/// <c>W.reshape(n_head, 2, rows/n_head/2, …).swapaxes(1, 2)</c>: row h·d + 2i + j of the GGUF tensor is
/// row h·d + j·d/2 + i of the Hugging Face one. Only rows move, so quantization blocks (which run along
/// rows) stay intact; codes and scales are permuted together.
/// </summary>
public static class LlamaQkPermutation
{
    /// <summary>For each GGUF row, the Hugging Face row it comes from; <paramref name="heads"/> is n_head for q, n_head_kv for k.</summary>
    public static long[] SourceRows(long rows, int heads)
    {
        if (heads <= 0 || rows % (2L * heads) != 0)
            throw new ArgumentException($"{rows} rows cannot be split into {heads} heads of an even size", nameof(rows));
        long headDim = rows / heads, half = headDim / 2;
        var order = new long[rows];
        for (long h = 0; h < heads; h++)
            for (long i = 0; i < half; i++)
                for (long j = 0; j < 2; j++)
                    order[h * headDim + 2 * i + j] = h * headDim + j * half + i;
        return order;
    }

    /// <summary>The inverse of <see cref="SourceRows"/>: for each Hugging Face row, the GGUF row it went to.</summary>
    public static long[] InverseRows(long rows, int heads)
    {
        var source = SourceRows(rows, heads);
        var inverse = new long[rows];
        for (long r = 0; r < rows; r++) inverse[source[r]] = r;
        return inverse;
    }

    /// <summary>Reorders the rows (dimension 0) of a Hugging Face tensor into llama.cpp's order.</summary>
    public static Tensor Permute(Tensor hf, int heads) => Rows(hf, SourceRows(hf.shape[0], heads));

    /// <summary>Reorders the rows (dimension 0) of a GGUF tensor back into Hugging Face's order.</summary>
    public static Tensor Unpermute(Tensor gguf, int heads) => Rows(gguf, InverseRows(gguf.shape[0], heads));

    static Tensor Rows(Tensor t, long[] order)
    {
        using var index = tensor(order, device: t.device);
        return t.index_select(0, index);
    }
}
