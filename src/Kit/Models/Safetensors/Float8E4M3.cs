namespace Kit.Models.Safetensors;

/// <summary>Decodes float8 e4m3fn bits (PyTorch's <c>float8_e4m3fn</c>), which TorchSharp cannot represent.</summary>
internal static class Float8E4M3
{
    /// <summary>The value of every bit pattern; every one is exact in binary32.</summary>
    public static readonly float[] Values = BuildTable();

    static float[] BuildTable()
    {
        var table = new float[256];
        for (int bits = 0; bits < 256; bits++)
        {
            int sign = bits >> 7, exponent = (bits >> 3) & 0xF, mantissa = bits & 0x7;
            // "fn" = finite: no infinities, and only S.1111.111 is NaN (the top binade holds 256..448).
            float magnitude = exponent == 0xF && mantissa == 0x7 ? float.NaN
                : exponent == 0 ? mantissa / 8f * MathF.Pow(2, -6)
                : (1 + mantissa / 8f) * MathF.Pow(2, exponent - 7);
            table[bits] = sign == 1 ? -magnitude : magnitude;
        }
        return table;
    }
}
