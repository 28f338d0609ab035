using TorchSharp;

namespace Kit.Models.Safetensors;

/// <summary>One tensor to write.</summary>
/// <param name="Name">The tensor's name in the header.</param>
/// <param name="Tensor">The values; any device, any layout (a contiguous CPU copy is made when needed).</param>
/// <param name="StoredAs">
/// The dtype to record, when it differs from the tensor's own: the bytes are written unchanged, so the
/// element sizes must match. This is how F8_E4M3 bits held in a <c>uint8</c> tensor are written.
/// </param>
public sealed record SafetensorsEntry(string Name, torch.Tensor Tensor, DType? StoredAs = null);
