using Kit.Planning;
using Kit.Reports;

namespace Kit.Tests.Planning;

public sealed class PublishedGpuTests
{
    [Fact]
    public void Bundled_datasheet_figures_load_with_their_units()
    {
        var gpus = PublishedGpu.Load();
        var h100 = gpus.Single(g => g.Name == "NVIDIA H100 SXM");
        // NVIDIA's H100 SXM datasheet: 3.35 TB/s HBM3, 989.4 dense bf16 TFLOPS, 1,978.9 dense int8 TOPS; A100 has no FP8.
        Assert.Equal(3.35e12, h100.BandwidthBytesPerSecond);
        Assert.Equal(989.4e12, h100.Bf16FlopsPerSecond);
        Assert.Equal(1978.9e12, h100.Int8OpsPerSecond);
        Assert.Null(gpus.Single(g => g.Name == "NVIDIA A100 80GB SXM").Fp8FlopsPerSecond);
    }

    [Fact]
    public void Decode_ceiling_is_bandwidth_over_the_bytes_a_step_reads_and_roofs_say_they_are_computed()
    {
        var gpu = new PublishedGpu("G", 80e9, 2e12, 400e12, null, 800e12, "test");
        Assert.Equal(2e12 / 1e9, gpu.DecodeCeilingTokensPerSecond(1e9));   // 1 GB of weights at 2 TB/s: at most 2,000 tok/s
        Assert.Throws<ArgumentOutOfRangeException>(() => gpu.DecodeCeilingTokensPerSecond(0));

        var roofs = Roofline.Published(gpu);
        Assert.All(roofs, r => Assert.EndsWith(Roofline.PublishedComputed, r.Label));
        Assert.Equal(200, roofs[0].RidgeIntensity, 9);   // 400 TFLOP/s ÷ 2 TB/s
    }

    [Fact]
    public void A_field_that_is_not_a_positive_number_is_named()
    {
        string path = Path.Combine(TestPaths.NewTempDir(), "gpus.json");
        File.WriteAllText(path, """{"gpus": [{"name": "X", "memory_bytes": 1, "bandwidth_bytes_per_s": 0, "bf16_flops": 1, "int8_ops": 1}]}""");
        var e = Assert.Throws<InvalidDataException>(() => PublishedGpu.Load(path));
        Assert.Contains("gpus[0].bandwidth_bytes_per_s must be a positive number", e.Message);
    }

    [Fact]
    public void Gpu_table_sets_each_models_batch_1_decode_beside_each_gpus_computed_ceiling()
    {
        SpeedRow Row(string model, int batch, double perSequence, long weights) => new(model, batch, 64, 10, 100, perSequence, perSequence * batch, perSequence, null, weights);
        var rows = new[] { Row("/runs/W4A16", 1, 20, 1_000_000_000), Row("/runs/W4A16", 16, 5, 1_000_000_000), Row("/runs/float32", 1, 4, 4_000_000_000) };
        var gpu = new PublishedGpu("G", 80e9, 2e12, 400e12, null, 800e12, "test");

        var table = Tables.GpuDecodeCeilings(rows, [gpu]);

        Assert.Equal(["model", "weights", "measured here", "G (computed)"], table.Columns.Select(c => c.Header));
        Assert.Equal(2, table.Rows.Count);   // batch 1 only, one row per model
        Assert.Equal(["W4A16", Readable.Bytes(1e9), Readable.TokensPerSecond(20), "≤ " + Readable.TokensPerSecond(2000)], table.Rows[0]);
        Assert.Equal("≤ " + Readable.TokensPerSecond(500), table.Rows[1][3]);   // 4 GB at 2 TB/s
    }
}
