// Temporary stand-in until the safetensors branch merges; deleted at merge.
using static TorchSharp.torch;
namespace Kit.Models.Safetensors;
/// <summary>x</summary>
public sealed class SafetensorsCheckpoint
{
    /// <summary>x</summary>
    public string Folder => "";
    /// <summary>x</summary>
    public bool Contains(string name) => false;
    /// <summary>x</summary>
    public Tensor Load(string name, ScalarType? dtype = null, Device? device = null) => throw new NotImplementedException();
}
