using Kit.Models;
using Kit.Models.Safetensors;
using Kit.Tests.Models.Safetensors;
using static TorchSharp.torch;

namespace Kit.Tests.Models;

/// <summary>Parameters stored as the model wants them take the file's pages: same bits, same checks, and the maps go with the model.</summary>
public sealed class MappedLoadTests
{
    static string CopyOf(string folder)
    {
        var dir = TestPaths.NewTempDir();
        foreach (var f in Directory.GetFiles(folder)) File.Copy(f, Path.Combine(dir, Path.GetFileName(f)));
        return dir;
    }

    static int LiveMaps(string folder) => Directory.GetFiles(folder, "*.safetensors").Sum(f => MappedTensor.LiveMaps(Path.GetFullPath(f)));

    static void CollectFreedTensors()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
    }

    // Every checkpoint tensor the model holds, compared by its bytes with a copy read by SafetensorsFile.Load.
    static void AssertBitIdenticalToCopies(LanguageModel lm, ScalarType dtype)
    {
        using var checkpoint = SafetensorsCheckpoint.Open(lm.Folder);
        int compared = 0;
        foreach (var (name, parameter) in lm.Model.named_parameters())
        {
            if (!checkpoint.Contains(name)) continue;
            using var copy = checkpoint.Load(name, dtype);
            Assert.Equal(copy.dtype, parameter.dtype);
            Assert.True(copy.bytes.SequenceEqual(parameter.bytes), name);
            compared++;
        }
        Assert.Equal(checkpoint.Names.Count, compared);
    }

    [Fact]
    public void Stories260K_loads_its_float32_weights_mapped_and_bit_identical_to_copies()
    {
        var dir = CopyOf(TestPaths.Stories260K);
        using var lm = LanguageModel.Load(dir, new ModelLoadOptions { Device = "cpu", DType = "float32" });
        Assert.True(LiveMaps(dir) > 0, "no parameter was mapped");
        AssertBitIdenticalToCopies(lm, ScalarType.Float32);
    }

    [Theory]
    [InlineData("float32")]
    [InlineData("bfloat16")]
    public void A_random_model_loads_as_float32_bit_identical_to_copies(string stored)
    {
        // float32 files are mapped; bfloat16 ones take the conversion path, and only that path.
        var dir = Path.Combine(TestPaths.NewTempDir(), "model");
        var dtype = LanguageModel.ParseDType(stored, CPU);
        RandomModel.Write(TinyModels.Llama(), dir, seed: 3, dtype, tokenizerFrom: TestPaths.Stories260K);
        using var lm = LanguageModel.Load(dir, new ModelLoadOptions { Device = "cpu", DType = "float32" });
        Assert.Equal(dtype == ScalarType.Float32, LiveMaps(dir) > 0);
        AssertBitIdenticalToCopies(lm, ScalarType.Float32);
    }

    [Fact]
    public void Disposing_the_model_releases_its_maps()
    {
        var dir = CopyOf(TestPaths.Stories260K);
        var lm = LanguageModel.Load(dir, new ModelLoadOptions { Device = "cpu", DType = "float32" });
        Assert.True(LiveMaps(dir) > 0);
        lm.Dispose();
        CollectFreedTensors();
        Assert.Equal(0, LiveMaps(dir));
    }

    [Fact]
    public void A_nan_in_a_mapped_tensor_fails_the_load_naming_it_and_leaves_no_map()
    {
        var dir = CopyOf(TestPaths.Stories260K);
        string name = "model.layers.2.mlp.gate_proj.weight";
        var path = Path.Combine(dir, "model.safetensors");
        var tensors = new List<(string, Tensor)>();
        using (var checkpoint = SafetensorsCheckpoint.Open(dir))
        {
            using (var mapped = checkpoint.Map(name)) Assert.NotNull(mapped);
            foreach (var n in checkpoint.Names)
            {
                var t = checkpoint.Load(n);
                if (n == name) t[1, 5] = tensor(float.NaN);
                tensors.Add((n, t));
            }
        }
        SafetensorsWriter.Write(path, tensors);

        var e = Assert.Throws<InvalidDataException>(() => LanguageModel.Load(dir, new ModelLoadOptions { Device = "cpu", DType = "float32" }));
        Assert.Contains($"'{name}' contains NaN", e.Message);
        CollectFreedTensors();
        Assert.Equal(0, LiveMaps(dir));
    }

    [Fact]
    public void A_tensor_misaligned_in_its_file_is_copied_instead_of_mapped()
    {
        // A 1-byte tensor first puts the float32 one at data offset 1.
        var dir = TestPaths.NewTempDir();
        var values = HandBuilt.Le32(0x3F800000, 0xC0000000, 0x40490FDB, 0x00000001);
        var data = new byte[1 + values.Length];
        values.CopyTo(data, 1);
        HandBuilt.File(dir, "model.safetensors",
            """{"pad":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"weight":{"dtype":"F32","shape":[2,2],"data_offsets":[1,17]}}""", data);
        using var checkpoint = SafetensorsCheckpoint.Open(dir);
        Assert.Null(checkpoint.Map("weight"));

        using var linear = new Linear(2, 2, false, ScalarType.Float32, CPU);
        CheckpointLoader.Load(linear, "", checkpoint, ScalarType.Float32, CPU);
        Assert.True(values.SequenceEqual(linear.Weight.bytes.ToArray()));
    }

    [Fact]
    public void A_mapped_parameter_written_to_keeps_the_file_unchanged()
    {
        // The map is private: writes copy the page, never reach the file or another load of it.
        var dir = CopyOf(TestPaths.Stories260K);
        string name = "model.layers.0.self_attn.q_proj.weight";
        using (var lm = LanguageModel.Load(dir, new ModelLoadOptions { Device = "cpu", DType = "float32" }))
        using (no_grad())
            lm.Model.get_parameter(name)!.fill_(7f);
        using var checkpoint = SafetensorsCheckpoint.Open(dir);
        using var stored = checkpoint.Load(name);
        Assert.False(stored.eq(7f).any().item<bool>());
    }
}
