using Kit.Models.Safetensors;
using TorchSharp;
using static TorchSharp.torch;

namespace Kit.Models;

/// <summary>Copies checkpoint tensors into a module's parameters, one tensor at a time, with clear errors.</summary>
public static class CheckpointLoader
{
    /// <summary>
    /// Fills every parameter of <paramref name="module"/> from the checkpoint tensor named
    /// <paramref name="prefix"/> + the parameter's name. <paramref name="optional"/> names parameters that
    /// may be absent (a tied output head); <paramref name="skip"/> names those filled another way.
    /// </summary>
    public static void Load(nn.Module module, string prefix, SafetensorsCheckpoint checkpoint, ScalarType dtype, Device device,
        Func<string, bool>? optional = null, IProgress<double>? progress = null, Func<string, bool>? skip = null)
    {
        var parameters = module.named_parameters().ToList();
        int done = 0;
        using var _ = no_grad();
        foreach (var (name, parameter) in parameters)
        {
            string key = prefix + name;
            if (skip?.Invoke(key) == true) continue;
            if (!checkpoint.Contains(key))
            {
                if (optional?.Invoke(key) == true) continue;
                throw new InvalidDataException($"{checkpoint.Folder}: checkpoint has no tensor '{key}' that this model's config.json needs");
            }
            var info = checkpoint.Info(key);
            if (!info.Shape.SequenceEqual(parameter.shape))
                throw new InvalidDataException($"{checkpoint.Folder}: tensor '{key}' has shape [{string.Join(", ", info.Shape)}], " +
                    $"config.json implies [{string.Join(", ", parameter.shape)}]");
            // A tensor stored as the parameter wants it is checked on its stored bits; the parameter then takes
            // the file's pages (a private map: no copy, and the page cache is shared) or, where the tensor cannot
            // be mapped, one copy of them. A conversion is checked afterwards, since it can overflow (float32 → float16).
            if (SafetensorsFile.CanCopyInto(info, parameter))
            {
                using var mapped = checkpoint.Map(key);
                if (mapped is null)
                {
                    if (!checkpoint.AllFinite(key)) throw NotFinite(checkpoint, key);
                    checkpoint.CopyInto(key, parameter);
                }
                else
                {
                    // Checked through the new map, which faults in the pages the model will read.
                    if (!FiniteCheck.AllFinite(mapped, info.DType)) throw NotFinite(checkpoint, key);
                    parameter.set_(mapped);
                }
            }
            else
            {
                using var scope = NewDisposeScope();
                var loaded = checkpoint.Load(key, dtype, device);
                if (!loaded.isfinite().all().item<bool>()) throw NotFinite(checkpoint, key);
                parameter.copy_(loaded);
            }
            progress?.Report(++done / (double)parameters.Count);
        }
    }

    static InvalidDataException NotFinite(SafetensorsCheckpoint checkpoint, string key) =>
        new($"{checkpoint.Folder}: tensor '{key}' contains NaN or infinite values");
}
