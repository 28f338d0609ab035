using Kit.Formats.Gguf;
using Kit.Inference;
using Kit.Models;
using LLama;
using LLama.Common;
using LLama.Native;

namespace Kit.Tests.Formats.Gguf;

/// <summary>llama.cpp itself (through LLamaSharp) loads Kit's GGUF exports and generates what Kit generates.</summary>
public sealed class LlamaCppInteropTests
{
    /// <summary>
    /// stories260K (SentencePiece, "llama" tokenizer) in F32 against the original model in Kit; Kit's default
    /// model (byte-level BPE, "gpt2" tokenizer with pre-tokenizer "gpt-2") in Q4_0 against the same file imported
    /// into Kit; the default model with RTN W4 asymmetric g32 codes written as Q4_1 blocks (down_proj's
    /// 344-wide rows as F16) against the same file imported into Kit. Prompt ids and 20 greedy tokens must agree.
    /// </summary>
    [Theory]
    [InlineData("stories260K", GgmlType.F32)]
    [InlineData("default", GgmlType.Q4_0)]
    [InlineData("default", GgmlType.Q4_1)]
    public void Llama_cpp_tokenizes_and_greedily_continues_kit_exports_as_kit_does(string model, GgmlType type)
    {
        string folder = model == "stories260K" ? TestPaths.Stories260K : DefaultModel.Folder;
        var file = Path.Combine(TestPaths.NewTempDir(), $"{model}-{type}.gguf");
        var cpu = new ModelLoadOptions { Device = "cpu", DType = "float32" };
        if (type == GgmlType.Q4_1)
        {
            using var original = LanguageModel.Load(folder, cpu);
            var codes = GgufRoundTripTests.AsymmetricRtn(original);
            var report = GgufExporter.Export(original, file, new GgufExportOptions { TensorType = GgmlType.Q4_0, QuantizedWeights = codes });
            Assert.Equal(6 * 4, report.Tensors.Count(t => t.Type == GgmlType.Q4_1 && t.Origin == GgufTensorOrigin.Lossless));
            foreach (var w in codes.Values) w.Dispose();
        }
        else
            GgufExporter.Export(folder, file, new GgufExportOptions { TensorType = type });
        using var lm = type == GgmlType.F32 ? LanguageModel.Load(folder, cpu) : GgufImporter.Load(file, cpu);
        const string prompt = "Once upon a time";
        var kit = lm.Generate(prompt, new GenerationOptions { MaxNewTokens = 20 });

        var parameters = new ModelParams(file) { ContextSize = 128, BatchSize = 128, GpuLayerCount = 0, Threads = 1 };
        using var weights = LLamaWeights.LoadFromFile(parameters);
        using var context = weights.CreateContext(parameters);
        var tokens = context.Tokenize(prompt, addBos: true, special: false);
        Assert.Equal(lm.Tokenizer.Encode(prompt), tokens.Select(t => (int)t));

        var batch = new LLamaBatch();
        batch.AddRange(tokens, 0, LLamaSeqId.Zero, true);
        Assert.Equal(DecodeResult.Ok, context.Decode(batch));
        var generated = new List<int>();
        int position = tokens.Length;
        while (generated.Count < 20)
        {
            var logits = context.NativeHandle.GetLogitsIth(batch.TokenCount - 1);
            int next = 0;
            for (int v = 1; v < logits.Length; v++) if (logits[v] > logits[next]) next = v;
            generated.Add(next);
            if (lm.Tokenizer.EosIds.Contains(next)) break;
            batch.Clear();
            batch.Add(next, position++, LLamaSeqId.Zero, true);
            Assert.Equal(DecodeResult.Ok, context.Decode(batch));
        }
        Assert.Equal(20, kit.TokenIds.Count);
        Assert.Equal(kit.TokenIds, generated);
    }
}
