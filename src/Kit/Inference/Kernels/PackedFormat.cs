namespace Kit.Inference.Kernels;

/// <summary>How a <see cref="PackedWeight"/> stores its codes.</summary>
public enum PackedFormat
{
    /// <summary>
    /// Two codes per byte (integer grids of 2–4 bits). Every 32-code block takes 16 bytes: byte i holds code i
    /// in its low nibble and code i + 16 in its high nibble, each as the unsigned value code + 8 (llama.cpp's
    /// Q4_0 order), so that one zero-extending byte load and a mask or a shift give runs of consecutive codes
    /// for 256-bit and 512-bit vectors alike.
    /// </summary>
    Int4,
    /// <summary>One signed byte per code (integer grids of 5–8 bits).</summary>
    Int8,
}
