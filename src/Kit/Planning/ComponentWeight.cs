namespace Kit.Planning;

/// <summary>One component's share of the weights.</summary>
/// <param name="Component">embeddings, attention, mlp, experts, shared experts, router, norms, lm_head, vision tower or all parameters.</param>
/// <param name="Parameters">Its parameters.</param>
/// <param name="StoredAs">The format its weights are kept in (the quantized format, or the 16-bit dtype).</param>
/// <param name="Bytes">Weights plus scales, zero points and group indices.</param>
/// <param name="MetadataBytes">The scales, zero points and group indices alone.</param>
public sealed record ComponentWeight(string Component, long Parameters, string StoredAs, long Bytes, long MetadataBytes);
