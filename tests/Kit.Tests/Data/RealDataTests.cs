using Kit.Data;
using Kit.Models;
using static Kit.Tests.Data.DataFixtures;

namespace Kit.Tests.Data;

/// <summary>The bundled corpora with the stories260K tokenizer: 128 windows of 256 tokens, as a small-model run would use.</summary>
public sealed class RealDataTests
{
    [Theory]
    [InlineData("text/wikitext-2/test.txt")]
    [InlineData("text/tinystories/tinystories_validation_head.txt")]
    public void Bundled_corpus_gives_128_windows_of_256_tokens_from_its_stream(string relative)
    {
        string path = Path.Combine(TestPaths.Data, relative);
        // The GPTQ reference's stream: the whole file tokenized at once (BOS ... ), then the EOS that ends a document.
        var reference = Tokenizer.Encode(File.ReadAllText(path)).Append(2).ToArray();

        var set = CalibrationSampler.Sample(CalibrationSource.Open(path), Tokenizer,
            new CalibrationOptions { NumSamples = 128, SequenceLength = 256, Seed = 0 });

        Assert.Equal(128, set.Count);
        Assert.Equal(reference.Length, set.CorpusTokens);
        var starts = set.Samples.Select(s => { Assert.Equal(256, s.Length); return IndexOf(reference, s); }).Order().ToList();
        Assert.DoesNotContain(-1, starts);
        for (int i = 1; i < starts.Count; i++) Assert.True(starts[i] - starts[i - 1] >= 256);
        // Spread over the stream, not bunched at its start.
        Assert.True(starts[^1] > reference.Length / 2);
    }

    [Fact]
    public void Llm_compressor_defaults_scale_to_the_stories260K_context()
    {
        var config = ModelConfig.Load(Path.Combine(TestPaths.Stories260K, "config.json"));
        var corpus = TokenizedCorpus.Build(
            CalibrationSource.Open(TestPaths.TinyStoriesText), Tokenizer);

        var fit = new CalibrationOptions().FitTo(config.MaxPositionEmbeddings, corpus);

        // 393,013 + 1 tokens hold 767 windows of 512, more than the 512 samples asked for.
        Assert.Equal(new CalibrationOptions { SequenceLength = 512 }, fit.Options);
        Assert.Equal(["sequence length 2048 → 512: the model's max_position_embeddings is 512"], fit.Changes);
    }
}
