using Kit.Calibration;
using Kit.Models.Safetensors;
using Kit.Quantization;
using static TorchSharp.torch;

namespace Kit.Tests.Calibration;

public sealed class ActivationStoreTests
{
    const long GiB = 1L << 30;

    [Theory]
    [InlineData(ActivationPlacement.Auto, 4, true, 10L, true, ActivationPlacement.Device)]      // fits half of the available memory
    [InlineData(ActivationPlacement.Auto, 6, true, 10L, true, ActivationPlacement.Disk)]        // does not
    [InlineData(ActivationPlacement.Auto, 6, false, 20L, true, ActivationPlacement.Host)]       // beside a GPU: host memory
    [InlineData(ActivationPlacement.Auto, 6, false, 10L, true, ActivationPlacement.Disk)]
    [InlineData(ActivationPlacement.Auto, 60, true, null, true, ActivationPlacement.Device)]    // available memory unknown
    [InlineData(ActivationPlacement.Auto, 60, true, 10L, false, ActivationPlacement.Device)]    // no memory maps: memory it is
    [InlineData(ActivationPlacement.Host, 60, true, 10L, true, ActivationPlacement.Host)]       // asked for: as asked
    [InlineData(ActivationPlacement.Disk, 1, true, 10L, true, ActivationPlacement.Disk)]
    public void Auto_keeps_activations_in_memory_while_they_take_at_most_half_of_it(ActivationPlacement requested, long gib, bool cpu,
        long? availableGiB, bool canMap, ActivationPlacement expected) =>
        Assert.Equal(expected, ActivationStore.Resolve(requested, gib * GiB, cpu, availableGiB * GiB, canMap));

    [Fact]
    public void Disk_without_memory_maps_is_an_error_that_says_so()
    {
        var e = Assert.Throws<PlatformNotSupportedException>(() => ActivationStore.Resolve(ActivationPlacement.Disk, GiB, true, 10 * GiB, false));
        Assert.Contains("activations on disk", e.Message);
    }

    [Fact]
    public void A_scratch_tensor_starts_at_zero_keeps_what_is_written_and_leaves_no_file()
    {
        if (!OperatingSystem.IsLinux()) return;
        string folder = TestPaths.NewTempDir();
        using var scope = NewDisposeScope();
        var scratch = MappedTensor.CreateScratch(folder, [3, 40, 50], ScalarType.BFloat16);
        Assert.Empty(Directory.GetFileSystemEntries(folder));
        Assert.Equal(ScalarType.BFloat16, scratch.dtype);
        Assert.True(scratch.eq(0).all().item<bool>());
        var values = randn(3, 40, 50, generator: new TorchSharp.torch.Generator(3)).to_type(ScalarType.BFloat16);
        scratch.copy_(values);
        Assert.True(scratch.equal(values).all().item<bool>());
    }

    [Fact]
    public void Gptq_with_activations_on_disk_writes_the_same_model_as_in_memory()
    {
        if (!OperatingSystem.IsLinux()) return;
        // The bfloat16 copy of stories260K: activations wait between layers in bfloat16, in memory or in the scratch file.
        var model = SequentialCompressorTests.Bf16Stories260K();
        var recipe = new CompressionRecipe { Method = CompressionMethod.Gptq, Weights = QuantizationPresets.W4A16 with { GroupSize = 32 } };
        var samples = SequentialCompressorTests.TinyStoriesWindows(6, 64);
        string memory = Path.Combine(TestPaths.NewTempDir(), "memory"), disk = Path.Combine(TestPaths.NewTempDir(), "disk");
        var inMemory = SequentialCompressor.Run(model, memory, recipe, samples,
            new SequentialOptions { Device = "cpu", Format = SaveFormat.Dense, BatchSize = 4, Activations = ActivationPlacement.Device });
        var onDisk = SequentialCompressor.Run(model, disk, recipe, samples,
            new SequentialOptions { Device = "cpu", Format = SaveFormat.Dense, BatchSize = 4, Activations = ActivationPlacement.Disk });
        Assert.Equal(ActivationPlacement.Device, inMemory.Activations);
        Assert.Equal(ActivationPlacement.Disk, onDisk.Activations);
        Assert.Equal(inMemory.Modules.Select(m => m.RelativeError), onDisk.Modules.Select(m => m.RelativeError));
        foreach (var file in Directory.GetFiles(memory, "*.safetensors"))
            Assert.True(File.ReadAllBytes(file).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(disk, Path.GetFileName(file)))), Path.GetFileName(file));
        Assert.DoesNotContain(Directory.GetFiles(disk), f => Path.GetFileName(f).StartsWith("scratch-"));
    }
}
