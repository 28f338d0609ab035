using Kit.Models;
using Kit.Runtime;
using static TorchSharp.torch;

namespace Kit.Calibration;

/// <summary>Thrown by a capture hook once it has what it needs (llm-compressor's EarlyStopException).</summary>
internal sealed class EarlyStop : Exception;

/// <summary>
/// The calibration activations of the current layer, run through it batch by batch. Each batch's temporaries are freed
/// and their heap pages handed back before the next: the pipeline holds one layer's working set, not the heap's
/// high-water mark (see <see cref="NativeAllocator"/>). For GPTAQ a second store, <paramref name="reference"/>, holds the
/// original model's activations for the same tokens.
/// </summary>
internal sealed class LayerBatches(ActivationStore activations, ActivationStore? reference, int batchSize, ScalarType dtype, Device device,
    Tensor positions, Tensor mask, PeakMemory peak)
{
    /// <summary>Calibration sequences.</summary>
    public long Count => activations.Count;

    /// <summary>Runs every batch into the layer until a capture hook stops it.</summary>
    public void Run(DecoderLayer layer) => Each(activations, b => Forward(layer, b));

    /// <summary>
    /// Runs each batch of the original model's activations into <paramref name="original"/> and then the same tokens of
    /// the compressed model's into <paramref name="compressed"/>, each until a capture hook stops it.
    /// </summary>
    public void RunPaired(DecoderLayer compressed, DecoderLayer original)
    {
        var store = reference ?? throw new InvalidOperationException("this run keeps no original activations");
        Each(activations, b =>
        {
            try { original.Forward(store.Read(b, Math.Min(batchSize, Count - b), dtype, device), positions, mask, null); }
            catch (EarlyStop) { }
            Forward(compressed, b);
        });
    }

    /// <summary>Replaces the activations by the (compressed) layer's outputs, for the next layer.</summary>
    public void Propagate(DecoderLayer layer) => Propagate(activations, layer);

    /// <summary>Replaces the original model's activations by <paramref name="original"/>'s outputs.</summary>
    public void PropagateReference(DecoderLayer original) =>
        Propagate(reference ?? throw new InvalidOperationException("this run keeps no original activations"), original);

    void Propagate(ActivationStore store, DecoderLayer layer) =>
        Each(store, b => store.Write(b, layer.Forward(store.Read(b, Math.Min(batchSize, Count - b), dtype, device), positions, mask, null)));

    void Forward(DecoderLayer layer, long b)
    {
        try { layer.Forward(activations.Read(b, Math.Min(batchSize, Count - b), dtype, device), positions, mask, null); }
        catch (EarlyStop) { }
    }

    void Each(ActivationStore store, Action<long> batch)
    {
        for (long b = 0; b < store.Count; b += batchSize)
        {
            using (NewDisposeScope())
            {
                batch(b);
                peak.Sample();
            }
            NativeAllocator.ReleaseFreedMemory();
        }
    }
}
