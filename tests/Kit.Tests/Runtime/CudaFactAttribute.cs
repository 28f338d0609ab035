using TorchSharp;

namespace Kit.Tests.Runtime;

/// <summary>
/// A test that needs a CUDA device: skipped (not failed) where libtorch sees none, as on every CPU machine.
/// Tests using it also carry <c>[Trait("Device", "cuda")]</c>, so <c>--filter "Device=cuda"</c> selects them.
/// </summary>
public sealed class CudaFactAttribute : FactAttribute
{
    /// <summary>Sets <see cref="FactAttribute.Skip"/> when CUDA is not available.</summary>
    public CudaFactAttribute()
    {
        if (!torch.cuda.is_available())
            Skip = "CUDA not available (this libtorch has no CUDA, or no GPU): scripts/torch-from-python.sh builds Kit on a CUDA PyTorch";
    }
}
