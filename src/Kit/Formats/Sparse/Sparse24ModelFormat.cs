using Kit.Inference.Sparse;
using Kit.Models;
using Kit.Models.Safetensors;
using TorchSharp;
using static TorchSharp.torch;

namespace Kit.Formats.Sparse;

/// <summary>
/// A dense folder whose <c>kit_compression.json</c> says its Linears were pruned 2:4: each pruned Linear whose weight
/// has at most 2 non-zeros in every 4 input columns keeps only those values and their positions
/// (<see cref="Sparse24Linear"/>); one that does not stays dense. Pruned and quantized compressed-tensors folders load
/// as compressed-tensors instead (registered first): their mask lives in codes equal to the zero point.
/// </summary>
internal sealed class Sparse24ModelFormat : IModelFormat
{
    public string Name => "dense, pruned 2:4";

    public bool Recognizes(string path) => Directory.Exists(path) && SparsityMetadata.Read(path) is { IsTwoOfFour: true };

    public LanguageModel Load(string path, string source, ModelLoadOptions options) =>
        LanguageModel.FromFolder(path, source, options, (config, dtype, device) =>
        {
            var sparsity = SparsityMetadata.Read(path)!;
            using var checkpoint = SafetensorsCheckpoint.Open(path);
            nn.Module<Tensor, Tensor>? Sparse(string name)
            {
                if (!sparsity.Modules.Contains(name)) return null;
                using var scope = NewDisposeScope();
                string key = name + ".weight";
                var weight = checkpoint.Load(key, dtype, device);
                var expected = LayerLinears.Shape(config, name)
                    ?? throw new InvalidDataException($"{SparsityMetadata.FileName}: '{name}' is not a Linear of this model");
                if (!weight.shape.SequenceEqual(expected))
                    throw new InvalidDataException($"{checkpoint.Folder}: tensor '{key}' has shape [{string.Join(", ", weight.shape)}], " +
                        $"config.json implies [{string.Join(", ", expected)}]");
                if (!weight.isfinite().all().item<bool>())
                    throw new InvalidDataException($"{checkpoint.Folder}: tensor '{key}' contains NaN or infinite values");
                if (!Sparse24Weight.Fits(weight)) return null;
                var bias = checkpoint.Contains(name + ".bias") ? checkpoint.Load(name + ".bias", dtype, device) : null;
                return Sparse24Linear.From(weight, bias, name);
            }
            var network = new CausalLM(config, dtype, device, Sparse);
            return CausalLM.LoadedOrDisposed(network, () => CheckpointLoader.Load(network, "", checkpoint, dtype, device,
                key => key == "lm_head.weight" && config.TieWordEmbeddings, options.LoadProgress));
        });
}
