using Kit.Benchmarks;
using Kit.Cli.Benchmarks;
using Kit.Formats.Gguf;
using Kit.Models;
using Kit.Tests.Cli;

namespace Kit.Tests.Benchmarks;

/// <summary><see cref="InferenceBenchmark"/> and the llama.cpp side of <c>kit bench</c> on tiny models.</summary>
public sealed class InferenceBenchmarkTests
{
    /// <summary>A two-layer random model with an untied output head, so that the input table is not streamed.</summary>
    static readonly ModelConfig TinyUntied = ModelShapes.TinyLlama11B with
    {
        HiddenSize = 64, IntermediateSize = 128, NumHiddenLayers = 2, NumAttentionHeads = 4, NumKeyValueHeads = 2, HeadDim = 16,
        VocabSize = 1024, MaxPositionEmbeddings = 128,
    };

    [Fact]
    public void Benchmark_of_a_tiny_model_reports_its_weights_disk_size_timings_and_bandwidth_floor()
    {
        var folder = Path.Combine(TestPaths.NewTempDir(), "tiny");
        RandomModel.Write(TinyUntied, folder, seed: 3);
        const double bandwidth = 10;
        var result = InferenceBenchmark.Run(new InferenceBenchmarkOptions
        {
            Model = folder, Batch = 2, PromptTokens = 8, NewTokens = 5, Repeats = 3, BandwidthGBps = bandwidth, DType = "float32",
        });

        // Parameters counted by hand: embedding and head 1024 × 64 each; per layer q,o 64×64, k,v 32×64 (2 KV heads × 16),
        // gate, up, down 128×64, two norms of 64; a final norm of 64. All float32.
        long layer = 2 * 64 * 64 + 2 * 32 * 64 + 3 * 128 * 64 + 2 * 64;
        long parameters = 2 * 1024 * 64 + 2 * layer + 64;
        Assert.Equal(parameters * 4, result.WeightBytes);
        Assert.Equal((parameters - 1024 * 64) * 4, result.StreamedBytesPerToken);
        Assert.Equal(bandwidth * 1e9 / ((parameters - 1024 * 64) * 4), result.FloorTokensPerSecond, 6);
        Assert.Equal(result.Timings.DecodeTokensPerSecond.Median / result.FloorTokensPerSecond, result.DecodeFractionOfFloor, 9);
        Assert.Equal(Directory.GetFiles(folder, "*.safetensors").Sum(f => new FileInfo(f).Length), result.DiskBytes);
        Assert.Equal("safetensors", result.Format);
        Assert.Equal(0, result.PackedLinears);

        var t = result.Timings;
        Assert.True(t.TimeToFirstTokenMs.Min > 0);
        Assert.True(t.DecodeTokensPerSecond.Min > 0);
        Assert.True(t.TimeToFirstTokenMs.Min <= t.TimeToFirstTokenMs.Median && t.TimeToFirstTokenMs.Median <= t.TimeToFirstTokenMs.Max);
        Assert.Equal(2 * t.DecodeTokensPerSecond.Median, t.BatchDecodeTokensPerSecond.Median, 9);
        Assert.True(t.EndToEndTokensPerSecond.Median < t.BatchDecodeTokensPerSecond.Max, "end to end includes the prefill, so it is slower than decode alone");
        if (OperatingSystem.IsLinux())
        {
            Assert.True(result.PeakAnonymousBytes > result.WeightBytes);
            Assert.True(result.PeakResidentBytes >= result.PeakAnonymousBytes);
        }
    }

    [Fact]
    public void Spread_takes_the_middle_value_or_the_mean_of_the_two_middle_values()
    {
        Assert.Equal(new Spread(3, 1, 9), Spread.Of(new double[] { 9, 1, 3 }));
        Assert.Equal(new Spread(2.5, 1, 4), Spread.Of(new double[] { 4, 1, 3, 2 }));
        Assert.Throws<ArgumentException>(() => Spread.Of(Array.Empty<double>()));
    }

    [Fact]
    public void Decode_timings_count_tokens_after_the_first_and_the_whole_batch_end_to_end()
    {
        // 11 tokens: first at 100 ms, last at 1100 ms → 10 tokens in 1 s; batch 4 → 40 tok/s; end to end 44 tokens in 1.1 s.
        var t = DecodeTimings.FromRuns(new[] { (100.0, 1100.0), (200.0, 2200.0), (100.0, 600.0) }, batch: 4, newTokens: 11);
        Assert.Equal(new Spread(10, 5, 20), t.DecodeTokensPerSecond);
        Assert.Equal(new Spread(40, 20, 80), t.BatchDecodeTokensPerSecond);
        Assert.Equal(new Spread(100, 100, 200), t.TimeToFirstTokenMs);
        Assert.Equal(44 / 1.1, t.EndToEndTokensPerSecond.Median, 9);
        Assert.Equal(44 / 0.6, t.EndToEndTokensPerSecond.Max, 9);
    }

    [Fact]
    public void Random_prompts_are_reproducible_and_inside_the_vocabulary()
    {
        var a = InferenceBenchmark.RandomPrompts(50, 3, 200, seed: 7);
        var b = InferenceBenchmark.RandomPrompts(50, 3, 200, seed: 7);
        Assert.Equal(a, b);
        Assert.All(a, p => Assert.Equal(200, p.Count));
        Assert.All(a.SelectMany(p => p), id => Assert.InRange(id, 0, 49));
        Assert.NotEqual(a[0], a[1]);
        Assert.True(a.SelectMany(p => p).Distinct().Count() > 40, "600 draws should hit most of 50 ids");
    }

    [Theory]
    [InlineData(0, 8, 4, 1, "batch")]
    [InlineData(1, 0, 4, 1, "prompt-tokens")]
    [InlineData(1, 8, 1, 1, "new-tokens")]
    [InlineData(1, 8, 4, 0, "repeats")]
    public void Out_of_range_options_are_refused_by_name(int batch, int prompt, int newTokens, int repeats, string name)
    {
        var e = Assert.Throws<ArgumentException>(() => InferenceBenchmark.Run(new InferenceBenchmarkOptions
        {
            Model = TestPaths.Stories260K, Batch = batch, PromptTokens = prompt, NewTokens = newTokens, Repeats = repeats, BandwidthGBps = 10,
        }));
        Assert.StartsWith(name + " must be at least", e.Message);
    }

    [Fact]
    public void A_prompt_longer_than_the_context_is_refused()
    {
        var e = Assert.Throws<ArgumentException>(() => InferenceBenchmark.Run(new InferenceBenchmarkOptions
        {
            Model = TestPaths.Stories260K, PromptTokens = 510, NewTokens = 8, Repeats = 1, BandwidthGBps = 10,
        }));
        Assert.Contains("exceeds the model's context of 512", e.Message);
    }

    [Fact]
    public void Cli_bench_names_the_missing_or_wrong_option()
    {
        var noModel = KitProcess.Run(TestPaths.NewTempDir(), "bench");
        Assert.Equal(1, noModel.ExitCode);
        Assert.Contains("--model is required", noModel.Stderr);

        var badBatch = KitProcess.Run(TestPaths.NewTempDir(), "bench", "--model", TestPaths.Stories260K, "--batch", "0");
        Assert.Equal(1, badBatch.ExitCode);
        Assert.Contains("batch must be at least 1", badBatch.Stderr);

        var missingGguf = KitProcess.Run(TestPaths.NewTempDir(), "bench", "llama-cpp", "--gguf", "/nonexistent/model.gguf");
        Assert.Equal(1, missingGguf.ExitCode);
        Assert.Contains("GGUF file not found: /nonexistent/model.gguf", missingGguf.Stderr);
    }

    [Fact]
    public void Llama_cpp_benchmark_times_a_gguf_export_at_batch_one()
    {
        var file = Path.Combine(TestPaths.NewTempDir(), "stories260K.gguf");
        GgufExporter.Export(TestPaths.Stories260K, file, new GgufExportOptions { TensorType = GgmlType.F32 });
        var result = LlamaCppBenchmark.Run(file, promptTokens: 16, newTokens: 6, repeats: 2, threads: 1, seed: 0);
        Assert.Equal(new FileInfo(file).Length, result.DiskBytes);
        Assert.True(result.Timings.TimeToFirstTokenMs.Min > 0);
        Assert.True(result.Timings.DecodeTokensPerSecond.Min > 0);
        Assert.Equal(result.Timings.DecodeTokensPerSecond, result.Timings.BatchDecodeTokensPerSecond);
    }
}
