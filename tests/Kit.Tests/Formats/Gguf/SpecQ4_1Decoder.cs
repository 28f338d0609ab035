namespace Kit.Tests.Formats.Gguf;

/// <summary>
/// Q4_1 decoded from ggml's definition alone (ggml-common.h <c>block_q4_1</c>, ggml-quants.c
/// <c>dequantize_row_q4_1</c>), sharing no code with Kit: 20-byte blocks of 32 values {fp16 d; fp16 m;
/// uint8 qs[16]}, value j = (qs[j] &amp; 0xF)·d + m and value j + 16 = (qs[j] &gt;&gt; 4)·d + m, in float32.
/// </summary>
internal static class SpecQ4_1Decoder
{
    public static float[] Decode(byte[] bytes)
    {
        if (bytes.Length % 20 != 0) throw new ArgumentException($"{bytes.Length} bytes are not whole Q4_1 blocks");
        var y = new float[bytes.Length / 20 * 32];
        for (int i = 0; i < bytes.Length / 20; i++)
        {
            float d = (float)BitConverter.ToHalf(bytes, 20 * i);
            float m = (float)BitConverter.ToHalf(bytes, 20 * i + 2);
            for (int j = 0; j < 16; j++)
            {
                byte q = bytes[20 * i + 4 + j];
                y[32 * i + j] = (q & 0x0F) * d + m;
                y[32 * i + j + 16] = (q >> 4) * d + m;
            }
        }
        return y;
    }
}
