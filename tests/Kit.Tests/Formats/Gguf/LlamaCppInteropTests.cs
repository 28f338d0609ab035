using Kit.Formats.Gguf;
using Kit.Inference;
using Kit.Models;
using LLama;
using LLama.Common;
using LLama.Native;

namespace Kit.Tests.Formats.Gguf;

/// <summary>llama.cpp itself (through LLamaSharp) loads Kit's GGUF export and generates what Kit generates.</summary>
public sealed class LlamaCppInteropTests
{
    [Fact]
    public void Llama_cpp_tokenizes_and_greedily_continues_the_stories260K_export_as_kit_does()
    {
        var file = Path.Combine(TestPaths.NewTempDir(), "stories260K-f32.gguf");
        GgufExporter.Export(TestPaths.Stories260K, file, new GgufExportOptions { TensorType = GgmlType.F32 });
        using var lm = LanguageModel.Load(TestPaths.Stories260K, new ModelLoadOptions { Device = "cpu", DType = "float32" });
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
            if (next == 2) break;   // </s>
            batch.Clear();
            batch.Add(next, position++, LLamaSeqId.Zero, true);
            Assert.Equal(DecodeResult.Ok, context.Decode(batch));
        }
        Assert.Equal(20, kit.TokenIds.Count);
        Assert.Equal(kit.TokenIds, generated);
    }
}
