namespace Kit.Planning;

/// <summary>How a model lies on <see cref="Gpus"/> GPUs, each holding an equal share of weights and KV cache.</summary>
/// <param name="Gpus">GPUs: tensor-parallel size × pipeline stages.</param>
/// <param name="TensorParallel">GPUs each layer is split across.</param>
/// <param name="ValidTensorParallel">Whether the tensor-parallel size divides the attention heads, and the KV heads divide it or it them (vLLM's rule).</param>
/// <param name="WeightBytesPerGpu">Weights on each GPU.</param>
/// <param name="KvBytesPerGpu">KV cache on each GPU (KV heads are replicated when the tensor-parallel size exceeds them); 0 when unknown.</param>
/// <param name="OverheadBytesPerGpu">The memory left free by the utilization fraction plus the runtime reserve.</param>
/// <param name="Fits">Whether weights + KV cache + overhead fit in each GPU.</param>
/// <param name="KvRoomBytes">Usable memory left over across all GPUs for more KV cache; negative when it does not fit.</param>
public sealed record GpuFit(int Gpus, int TensorParallel, bool ValidTensorParallel, long WeightBytesPerGpu, long KvBytesPerGpu,
    long OverheadBytesPerGpu, bool Fits, long KvRoomBytes)
{
    /// <summary>Weights + KV cache + overhead on each GPU.</summary>
    public long UsedBytesPerGpu => WeightBytesPerGpu + KvBytesPerGpu + OverheadBytesPerGpu;
}
