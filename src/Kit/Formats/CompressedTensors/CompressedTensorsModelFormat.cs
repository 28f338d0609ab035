using Kit.Inference;
using Kit.Inference.Fp8;
using Kit.Models;
using Kit.Quantization;
using TorchSharp;
using static TorchSharp.torch;

namespace Kit.Formats.CompressedTensors;

/// <summary>
/// A compressed-tensors folder (config.json with a compressed-tensors <c>quantization_config</c>): quantized Linears
/// stay packed (<see cref="QuantizedLinear"/>, FP8 ones <see cref="Fp8Linear"/>), never dequantized to full precision
/// at load. On the CPU, pack-quantized ones are repacked straight from the file's words (<see cref="PackedWeightReader"/>).
/// </summary>
internal sealed class CompressedTensorsModelFormat : IModelFormat
{
    public string Name => "compressed-tensors";

    public bool Recognizes(string path) => Directory.Exists(path) && CompressedTensorsReader.IsCompressedTensors(path);

    public LanguageModel Load(string path, string source, ModelLoadOptions options) =>
        LanguageModel.FromFolder(path, source, options, (config, dtype, device) =>
        {
            var network = Build(config, path, dtype, device, options.LoadProgress);
            foreach (var linear in network.Linears().Select(l => l.Module).OfType<QuantizedLinear>())
            {
                linear.ExactActivations = options.ExactActivations;
                linear.BFloat16Prefill = options.BFloat16Prefill ?? linear.BFloat16Prefill;
            }
            return network;
        });

    static CausalLM Build(ModelConfig config, string folder, ScalarType dtype, Device device, IProgress<double>? progress)
    {
        using var reader = CompressedTensorsReader.Open(folder);
        nn.Module<Tensor, Tensor>? Quantized(string name)
        {
            if (!reader.IsQuantized(name)) return null;
            var bias = reader.Checkpoint.Contains(name + ".bias") ? reader.Checkpoint.Load(name + ".bias", dtype, device) : null;
            var activations = reader.Config.GroupOf(name)?.InputActivations is { Type: QuantizationType.Int, NumBits: 8, Dynamic: true }
                ? "int8-dynamic-token" : null;
            if (device.type == TorchSharp.DeviceType.CPU && reader.IsPackQuantized(name))
                return QuantizedLinear.From(PackedWeightReader.Read(reader, name), bias, activations);
            var weight = reader.Read(name, device);
            if (weight.Args.Type == QuantizationType.Float)
                using (weight)
                    return Fp8Linear.From(weight, bias, reader.Config.GroupOf(name)?.InputActivations is { Type: QuantizationType.Float, Dynamic: true }, name);
            return QuantizedLinear.From(weight, bias, activations);
        }
        var network = new CausalLM(config, dtype, device, Quantized);
        return CausalLM.LoadedOrDisposed(network, () => CheckpointLoader.Load(network, "", reader.Checkpoint, dtype, device,
            key => key == "lm_head.weight" && config.TieWordEmbeddings, progress,
            skip: key => reader.IsQuantizationTensor(key) || (key.EndsWith(".weight", StringComparison.Ordinal) && reader.IsQuantized(key[..^7]))));
    }
}
