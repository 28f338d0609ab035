using Kit.Formats.Gguf;
using Kit.Models;
using Kit.Quantization;
using static TorchSharp.torch;

namespace Kit.Tests.Formats.Gguf;

/// <summary>Models exported to GGUF and imported back: stories260K (SentencePiece, tied) and a byte-level BPE model.</summary>
public sealed class GgufRoundTripTests
{
    static readonly string[] Texts = ["Once upon a time", "The cat sat.\n\nThen it ran!", "Lily's 123 toys, €5"];
    static readonly ModelLoadOptions Cpu = new() { Device = "cpu", DType = "float32" };

    static Tensor Logits(LanguageModel lm, IReadOnlyList<int> ids) =>
        lm.Model.Forward(tensor(ids.Select(i => (long)i).ToArray(), 1, ids.Count));

    static (LanguageModel Original, LanguageModel Imported, GgufExportReport Report, string File) RoundTrip(string folder, GgufExportOptions options)
    {
        var dir = TestPaths.NewTempDir();
        var file = Path.Combine(dir, "model.gguf");
        var original = LanguageModel.Load(folder, Cpu);
        var report = GgufExporter.Export(original, file, options);
        var imported = LanguageModel.Load(Import(file, dir), Cpu);
        return (original, imported, report, file);
    }

    static string Import(string file, string dir)
    {
        var folder = Path.Combine(dir, "imported");
        GgufImporter.ToFolder(file, folder);
        return folder;
    }

    [Fact]
    public void A_packed_compressed_tensors_model_exports_its_dequantized_weights()
    {
        // RTN W8A16 per channel of stories260K, saved as compressed-tensors: it loads with packed Linears and no
        // dense weight parameters. Exported at F32, the GGUF holds the dequantized weights, so the reimported model
        // computes what the packed one computes with exact activations, to float32 rounding.
        var dir = TestPaths.NewTempDir();
        var folder = Path.Combine(dir, "w8");
        Kit.Calibration.ModelCompression.Compress(TestPaths.Stories260K, folder, new CompressionRecipe
        {
            Method = CompressionMethod.Rtn,
            Weights = QuantizationPresets.W8A16 with { Strategy = QuantizationStrategy.Channel, GroupSize = null },
        }, calibration: null);
        var file = Path.Combine(dir, "w8.gguf");
        using var packed = LanguageModel.Load(folder, Cpu with { ExactActivations = true });
        Assert.Contains(packed.Model.DecoderLinears(), l => l.Module is Kit.Inference.QuantizedLinear);
        GgufExporter.Export(packed, file, new GgufExportOptions { TensorType = GgmlType.F32 });
        using var imported = LanguageModel.Load(Import(file, dir), Cpu);
        var ids = packed.Tokenizer.Encode(Texts[0]);
        using var a = Logits(packed, ids);
        using var b = Logits(imported, ids);
        Assert.True(a.allclose(b, rtol: 1e-4, atol: 1e-4), $"max difference {(a - b).abs().max().item<float>()}");
    }

    [Fact]
    public void Stories260K_f32_export_reimports_with_identical_logits_and_tokens()
    {
        var (original, imported, report, file) = RoundTrip(TestPaths.Stories260K, new GgufExportOptions { TensorType = GgmlType.F32 });
        using (original) using (imported)
        {
            Assert.Equal("llama", report.TokenizerModel);
            Assert.Equal(original.Config with { TorchDtype = "float32" }, imported.Config with { EosTokenIds = original.Config.EosTokenIds });
            Assert.Equal(original.Config.EosTokenIds, imported.Config.EosTokenIds);
            foreach (var text in Texts)
            {
                var ids = original.Tokenizer.Encode(text);
                Assert.Equal(ids, imported.Tokenizer.Encode(text));
                Assert.Equal(original.Tokenizer.Decode(ids), imported.Tokenizer.Decode(ids));
                using var a = Logits(original, ids);
                using var b = Logits(imported, ids);
                Assert.True(a.eq(b).all().item<bool>(), $"logits differ for '{text}'");
            }
            // This tokenizer.model turns on SentencePiece's remove_extra_whitespaces, which GGUF has no key for:
            // llama.cpp keeps runs of spaces, and so does the import (one more '▁' piece here).
            Assert.Equal(original.Tokenizer.Encode("Then  it").Count + 1, imported.Tokenizer.Encode("Then  it").Count);
            Assert.Contains(report.Notes, n => n.Contains("remove_extra_whitespaces"));
        }

        var spec = SpecGgufReader.Read(file);
        Assert.Equal("llama", spec.Get("general.architecture").Value);
        Assert.Equal(0u, spec.Get("general.file_type").Value);
        Assert.Equal(2u, spec.Get("general.quantization_version").Value);
        Assert.Equal(64u, spec.Get("llama.embedding_length").Value);
        Assert.Equal(5u, spec.Get("llama.block_count").Value);
        Assert.Equal(172u, spec.Get("llama.feed_forward_length").Value);
        Assert.Equal(8u, spec.Get("llama.attention.head_count").Value);
        Assert.Equal(4u, spec.Get("llama.attention.head_count_kv").Value);
        Assert.Equal(8u, spec.Get("llama.rope.dimension_count").Value);
        Assert.Equal(512u, spec.Get("llama.context_length").Value);
        Assert.Equal(1e-5f, spec.Get("llama.attention.layer_norm_rms_epsilon").Value);
        Assert.Equal(10000f, spec.Get("llama.rope.freq_base").Value);
        Assert.Equal(512, ((object[])spec.Get("tokenizer.ggml.tokens").Value).Length);
        Assert.Equal((9u, 6u), (spec.Get("tokenizer.ggml.scores").Type, spec.Get("tokenizer.ggml.scores").ElementType));
        Assert.Equal("<s>", ((object[])spec.Get("tokenizer.ggml.tokens").Value)[1]);
        Assert.Equal(3, ((object[])spec.Get("tokenizer.ggml.token_type").Value)[1]);   // <s> is a control token
        Assert.Equal(1u, spec.Get("tokenizer.ggml.bos_token_id").Value);
        Assert.Equal(2u, spec.Get("tokenizer.ggml.eos_token_id").Value);
        Assert.Equal(true, spec.Get("tokenizer.ggml.add_bos_token").Value);
        // Tied embeddings: no output tensor; 1 + 5·9 + 1 tensors; norms are F32 vectors.
        Assert.DoesNotContain(spec.Infos, i => i.Name == "output.weight");
        Assert.Equal(47, spec.Infos.Count);
        Assert.Equal(new ulong[] { 64 }, spec.Tensor("blk.0.attn_norm.weight").Ne);
        Assert.Equal(new ulong[] { 64, 32 }, spec.Tensor("blk.0.attn_k.weight").Ne);   // k_proj [4·8, 64] in ggml order
        Assert.All(spec.Infos, i => Assert.Equal(0ul, i.Offset % 32));
    }

    [Fact]
    public void Stories260K_q8_0_export_stays_close_and_falls_back_to_f16_for_172_wide_rows()
    {
        var (original, imported, report, file) = RoundTrip(TestPaths.Stories260K, new GgufExportOptions { TensorType = GgmlType.Q8_0 });
        using (original) using (imported)
        {
            var ids = original.Tokenizer.Encode(Texts[0]);
            using var a = Logits(original, ids);
            using var b = Logits(imported, ids);
            double err = (a - b).abs().max().item<float>(), scale = a.abs().max().item<float>();
            Assert.True(err < 0.02 * scale, $"max |Δlogit| {err} against max |logit| {scale}");
            Assert.True(err > 0, "Q8_0 should change something");
        }
        var spec = SpecGgufReader.Read(file);
        Assert.Equal(7u, spec.Get("general.file_type").Value);
        Assert.Equal(8u, spec.Tensor("blk.0.attn_q.weight").Type);
        Assert.Equal(8u, spec.Tensor("token_embd.weight").Type);
        Assert.Equal(1u, spec.Tensor("blk.0.ffn_down.weight").Type);
        Assert.Equal(0u, spec.Tensor("output_norm.weight").Type);
        Assert.Contains(report.Notes, n => n.StartsWith("blk.0.ffn_down.weight") && n.Contains("F16"));
        var q = report.Tensors.Single(t => t.Name == "blk.0.attn_q.weight");
        Assert.Equal(GgufTensorOrigin.Dense, q.Origin);
        Assert.InRange(q.MaxDeviation, 1e-6, 0.05);
    }

    [Fact]
    public void Symmetric_4bit_groups_export_losslessly_into_q4_0()
    {
        using var lm = LanguageModel.Load(TestPaths.Stories260K, Cpu);
        // q_proj [64, 64] and up_proj [172, 64] on a 4-bit g32 grid with fp16-exact scales.
        var weights = new Dictionary<string, QuantizedWeight>
        {
            ["model.layers.0.self_attn.q_proj"] = QuantizedWeightBlocksTests.Symmetric(64, 64, 4, 32, seed: 11),
            ["model.layers.1.mlp.up_proj"] = QuantizedWeightBlocksTests.Symmetric(172, 64, 8, 64, seed: 12),
            // Act-order groups that interleave columns cannot become blocks: requantized, and reported.
            ["model.layers.2.self_attn.v_proj"] = QuantizedWeightBlocksTests.Symmetric(32, 64, 4, 32, seed: 13, gIdx: j => j % 2),
        };
        var file = Path.Combine(TestPaths.NewTempDir(), "q4.gguf");
        var report = GgufExporter.Export(lm, file, new GgufExportOptions { TensorType = GgmlType.Q4_0, QuantizedWeights = weights });

        var q = report.Tensors.Single(t => t.Name == "blk.0.attn_q.weight");
        Assert.Equal((GgmlType.Q4_0, GgufTensorOrigin.Lossless, 0.0), (q.Type, q.Origin, q.MaxDeviation));
        var up = report.Tensors.Single(t => t.Name == "blk.1.ffn_up.weight");
        Assert.Equal((GgmlType.Q8_0, GgufTensorOrigin.Lossless, 0.0), (up.Type, up.Origin, up.MaxDeviation));

        var v = report.Tensors.Single(t => t.Name == "blk.2.attn_v.weight");
        Assert.Equal((GgmlType.Q4_0, GgufTensorOrigin.Requantized), (v.Type, v.Origin));
        Assert.Contains("spans two groups", v.Note);
        Assert.Contains(report.Notes, n => n.StartsWith("blk.2.attn_v.weight"));

        var gguf = GgufFile.Open(file);
        using var storedV = gguf.Load("blk.2.attn_v.weight");
        using var expectedV = weights["model.layers.2.self_attn.v_proj"].Dequantize();
        Assert.Equal(v.MaxDeviation, (storedV - expectedV).abs().max().item<float>(), 6);
        Assert.True(v.MaxDeviation > 0);
        using var storedQ = LlamaQkPermutation.Unpermute(gguf.Load("blk.0.attn_q.weight"), 8);
        using var expectedQ = weights["model.layers.0.self_attn.q_proj"].Dequantize();
        Assert.True(storedQ.eq(expectedQ).all().item<bool>());
        using var storedUp = gguf.Load("blk.1.ffn_up.weight");
        using var expectedUp = weights["model.layers.1.mlp.up_proj"].Dequantize();
        Assert.True(storedUp.eq(expectedUp).all().item<bool>());
        // Dense Linears of a Q4_0 file are Q4_0; the tied embedding (also the output head) stays Q8_0.
        Assert.Equal(GgmlType.Q4_0, gguf.Tensor("blk.0.attn_k.weight").Type);
        Assert.Equal(GgmlType.Q8_0, gguf.Tensor("token_embd.weight").Type);
        Assert.Equal(2u, SpecGgufReader.Read(file).Get("general.file_type").Value);
        foreach (var w in weights.Values) w.Dispose();
    }

    /// <summary>RTN W4 asymmetric g32 codes for every Linear of <paramref name="lm"/> (rows not a multiple of 32 end in a shorter group).</summary>
    internal static Dictionary<string, QuantizedWeight> AsymmetricRtn(LanguageModel lm)
    {
        var args = new QuantizationArgs { NumBits = 4, GroupSize = 32, Symmetric = false };
        return lm.Model.named_parameters()
            .Where(p => p.name.EndsWith("_proj.weight", StringComparison.Ordinal))
            .ToDictionary(p => p.name[..^".weight".Length], p =>
            {
                using var w = p.parameter.detach();
                return Rtn.Quantize(w, args);
            });
    }

    [Fact]
    public void Asymmetric_4bit_groups_export_losslessly_into_q4_1()
    {
        using var lm = LanguageModel.Load(TestPaths.Stories260K, Cpu);
        var weights = AsymmetricRtn(lm);
        // q_proj of layer 0 on a grid whose d and m are fp16-exact; v_proj of layer 2 with act-order groups that interleave.
        weights["model.layers.0.self_attn.q_proj"].Dispose();
        weights["model.layers.0.self_attn.q_proj"] = QuantizedWeightBlocksTests.Asymmetric(64, 64, 32, seed: 14);
        weights["model.layers.2.self_attn.v_proj"].Dispose();
        var interleaved = QuantizedWeightBlocksTests.Asymmetric(32, 64, 32, seed: 15);
        interleaved.GIdx.Dispose();
        weights["model.layers.2.self_attn.v_proj"] = interleaved with { GIdx = tensor(Enumerable.Range(0, 64).Select(j => j % 2).ToArray()) };
        var file = Path.Combine(TestPaths.NewTempDir(), "q4_1.gguf");
        var report = GgufExporter.Export(lm, file, new GgufExportOptions { TensorType = GgmlType.F16, QuantizedWeights = weights });
        var spec = SpecGgufReader.Read(file);
        var gguf = GgufFile.Open(file);

        // Most of the blocks' matrices are Q4_1 (ffn_down's 172-wide rows are F16): MOSTLY_Q4_1.
        Assert.Equal(3u, spec.Get("general.file_type").Value);
        var q = report.Tensors.Single(t => t.Name == "blk.0.attn_q.weight");
        Assert.Equal((GgmlType.Q4_1, GgufTensorOrigin.Lossless, 0.0, (string?)null), (q.Type, q.Origin, q.MaxDeviation, q.Note));
        using (var decoded = tensor(SpecQ4_1Decoder.Decode(spec.Data("blk.0.attn_q.weight")), 64, 64))
        using (var storedQ = LlamaQkPermutation.Unpermute(decoded, 8))
        using (var expectedQ = weights["model.layers.0.self_attn.q_proj"].Dequantize())
            Assert.True(storedQ.eq(expectedQ).all().item<bool>());

        // RTN's float32 scales: d and m round to fp16, the report says so and measures it, and Kit reads what ggml would.
        foreach (var name in new[] { "blk.1.attn_v.weight", "blk.3.ffn_up.weight" })
        {
            var t = report.Tensors.Single(r => r.Name == name);
            Assert.Equal((GgmlType.Q4_1, GgufTensorOrigin.Lossless), (t.Type, t.Origin));
            Assert.Contains("not an fp16 value", t.Note);
            Assert.Contains(report.Notes, n => n.StartsWith(name) && n.Contains("half an fp16 ulp of m"));
            var decoded = SpecQ4_1Decoder.Decode(spec.Data(name));
            Assert.Equal(decoded, gguf.ReadFloats(name));
            using var expected = weights[t.SourceName[..^".weight".Length]].Dequantize();
            double deviation = decoded.Zip(expected.data<float>().ToArray(), (a, b) => Math.Abs((double)a - b)).Max();
            Assert.Equal(t.MaxDeviation, deviation, 7);
            Assert.InRange(t.MaxDeviation, 1e-9, 1e-3);
        }

        var down = report.Tensors.Single(t => t.Name == "blk.0.ffn_down.weight");
        Assert.Equal((GgmlType.F16, GgufTensorOrigin.Requantized), (down.Type, down.Origin));
        Assert.Contains("multiple of 32", down.Note);
        // Interleaved act-order groups: requantized with ggml's own Q4_1 quantizer rather than Q4_0's.
        var v = report.Tensors.Single(t => t.Name == "blk.2.attn_v.weight");
        Assert.Equal((GgmlType.Q4_1, GgufTensorOrigin.Requantized), (v.Type, v.Origin));
        Assert.Equal(3u, spec.Tensor("blk.2.attn_v.weight").Type);
        foreach (var w in weights.Values) w.Dispose();
    }

    [Fact]
    public void A_scale_fp16_cannot_hold_stops_the_export_before_anything_is_written()
    {
        using var lm = LanguageModel.Load(TestPaths.Stories260K, Cpu);
        using var w = QuantizedWeightBlocksTests.Symmetric(32, 64, 4, 32, seed: 16);
        w.Scale[5, 1] = tensor(2e-6f);
        var dir = TestPaths.NewTempDir();
        var file = Path.Combine(dir, "refused.gguf");
        var e = Assert.Throws<ArgumentException>(() => GgufExporter.Export(lm, file, new GgufExportOptions
        {
            TensorType = GgmlType.Q8_0,
            QuantizedWeights = new Dictionary<string, QuantizedWeight> { ["model.layers.1.self_attn.v_proj"] = w },
        }));
        Assert.Contains("model.layers.1.self_attn.v_proj.weight: the scale 2E-06 of row 5, group 1", e.Message);
        Assert.Contains("subnormal", e.Message);
        Assert.Empty(Directory.EnumerateFileSystemEntries(dir));
    }

    [Fact]
    public void Byte_level_bpe_model_round_trips_through_a_gpt2_tokenizer()
    {
        var folder = Path.Combine(TestPaths.NewTempDir(), "bpe");
        var config = new ModelConfig
        {
            ModelType = "llama", HiddenSize = 64, IntermediateSize = 96, NumHiddenLayers = 2, NumAttentionHeads = 4,
            NumKeyValueHeads = 2, HeadDim = 16, VocabSize = 1024, MaxPositionEmbeddings = 256, RmsNormEps = 1e-6,
            TieWordEmbeddings = false, BosTokenId = 1, EosTokenIds = [2],
        };
        RandomModel.Write(config, folder, seed: 5);
        var (original, imported, report, file) = RoundTrip(folder, new GgufExportOptions { TensorType = GgmlType.F32 });
        using (original) using (imported)
        {
            Assert.Equal(("gpt2", "gpt-2"), (report.TokenizerModel, report.PreTokenizer));
            foreach (var text in Texts)
            {
                var ids = original.Tokenizer.Encode(text);
                Assert.Equal(ids, imported.Tokenizer.Encode(text));
                Assert.Equal(text, imported.Tokenizer.Decode(ids));
                using var a = Logits(original, ids);
                using var b = Logits(imported, ids);
                Assert.True(a.eq(b).all().item<bool>(), $"logits differ for '{text}'");
            }
            Assert.False(imported.Config.TieWordEmbeddings);
            Assert.Equal(original.Tokenizer.BosId, imported.Tokenizer.BosId);
            Assert.Equal(original.Tokenizer.EosIds, imported.Tokenizer.EosIds);
            Assert.Equal(original.Tokenizer.PadId, imported.Tokenizer.PadId);
        }
        var spec = SpecGgufReader.Read(file);
        Assert.Equal("gpt-2", spec.Get("tokenizer.ggml.pre").Value);
        var tokens = (object[])spec.Get("tokenizer.ggml.tokens").Value;
        var types = (object[])spec.Get("tokenizer.ggml.token_type").Value;
        Assert.Equal(1024, tokens.Length);
        Assert.Equal(("<|bos|>", 3), ((string)tokens[1], (int)types[1]));
        Assert.Equal(1, (int)types[500]);
        Assert.Equal("h e", ((object[])spec.Get("tokenizer.ggml.merges").Value)[0]);
        Assert.Equal(new ulong[] { 64, 1024 }, spec.Tensor("output.weight").Ne);
    }

    [Fact]
    public void Llama3_rope_scaling_is_written_as_rope_freqs_and_refused_on_import()
    {
        var folder = Path.Combine(TestPaths.NewTempDir(), "llama3");
        RandomModel.Write(new ModelConfig
        {
            ModelType = "llama", HiddenSize = 64, IntermediateSize = 64, NumHiddenLayers = 1, NumAttentionHeads = 4,
            NumKeyValueHeads = 4, HeadDim = 16, VocabSize = 1024, RopeTheta = 500000,
            RopeScaling = new RopeScaling("llama3", 8, LowFreqFactor: 1, HighFreqFactor: 4, OriginalMaxPositionEmbeddings: 8192),
        }, folder);
        var file = Path.Combine(TestPaths.NewTempDir(), "llama3.gguf");
        GgufExporter.Export(folder, file, new GgufExportOptions { TensorType = GgmlType.F32 });
        var factors = GgufFile.Open(file).ReadFloats("rope_freqs.weight");
        // Wavelengths 2π·500000^(2i/16): i = 0 is far below 8192/4 (kept, factor 1), i = 7 (≈ 6·10⁵) far above 8192 (factor 8).
        Assert.Equal(8, factors.Length);
        Assert.Equal(1f, factors[0]);
        Assert.Equal(8f, factors[7]);
        Assert.True(factors.Zip(factors.Skip(1)).All(p => p.First <= p.Second));
        var e = Assert.Throws<NotSupportedException>(() => GgufImporter.ToFolder(file, Path.Combine(TestPaths.NewTempDir(), "back")));
        Assert.Contains("rope_freqs", e.Message);
    }

    [Fact]
    public void Importer_load_gives_a_language_model_named_by_the_gguf_file()
    {
        var file = Path.Combine(TestPaths.NewTempDir(), "stories.gguf");
        GgufExporter.Export(TestPaths.Stories260K, file, new GgufExportOptions { TensorType = GgmlType.F16 });
        Assert.True(GgufImporter.IsGgufFile(file));
        Assert.False(GgufImporter.IsGgufFile(Path.Combine(TestPaths.Stories260K, "config.json")));
        using var lm = GgufImporter.Load(file, Cpu);
        Assert.Equal(file, lm.Source);
        Assert.Equal(512, lm.Config.VocabSize);
        Assert.Equal(new[] { 1, 403, 407, 261, 378 }, lm.Tokenizer.Encode("Once upon a time"));
    }
}
