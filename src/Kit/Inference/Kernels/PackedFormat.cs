namespace Kit.Inference.Kernels;

/// <summary>How a <see cref="PackedWeight"/> stores its codes.</summary>
public enum PackedFormat
{
    /// <summary>
    /// Two codes per byte (integer grids of 2–4 bits). Every 16 codes take 8 bytes: byte i holds code i in its
    /// low nibble and code i + 8 in its high nibble, each as the unsigned value code + 8, so that one
    /// zero-extending byte load and a shift give two runs of 8 consecutive codes.
    /// </summary>
    Int4,
    /// <summary>One signed byte per code (integer grids of 5–8 bits).</summary>
    Int8,
}
