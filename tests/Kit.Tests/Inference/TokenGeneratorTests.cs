using Kit.Inference;
using Kit.Tests.Models;

namespace Kit.Tests.Inference;

public sealed class TokenGeneratorTests
{
    [Fact]
    public void Greedy_decoding_equals_argmax_of_full_reference_recomputation()
    {
        var config = TinyModels.Llama();
        var weights = TinyModels.RandomWeights(config, seed: 21);
        var reference = new ReferenceTransformer(config, weights);
        using var model = TinyModels.Build(config, weights);
        var prompt = new List<int> { 1, 4, 9 };

        var result = TokenGenerator.Generate(model, new[] { prompt }, new GenerationOptions { MaxNewTokens = 8 }, new HashSet<int>())[0];

        var expected = new List<int>(prompt);
        for (int i = 0; i < 8; i++)
        {
            var last = reference.Forward(expected)[^1];
            expected.Add(Array.IndexOf(last, last.Max()));
        }
        Assert.Equal(expected.Skip(3), result.TokenIds);
        Assert.Equal("length", result.StopReason);
    }

    [Fact]
    public void Batched_prompts_of_different_lengths_equal_single_runs_and_stop_at_eos()
    {
        var config = TinyModels.Qwen2();
        using var model = TinyModels.Build(config, TinyModels.RandomWeights(config, seed: 4));
        IReadOnlyList<int>[] prompts = { new[] { 1, 2, 3, 4, 5, 6 }, new[] { 1, 30 } };
        var options = new GenerationOptions { MaxNewTokens = 6 };
        var alone = prompts.Select(p => TokenGenerator.Generate(model, new[] { p }, options, new HashSet<int>())[0].TokenIds).ToArray();

        var batch = TokenGenerator.Generate(model, prompts, options, new HashSet<int>());
        Assert.Equal(alone[0], batch[0].TokenIds);
        Assert.Equal(alone[1], batch[1].TokenIds);

        // Declaring the third token of the first sequence a stop token ends it there, and only it.
        int stop = alone[0][2];
        var stopped = TokenGenerator.Generate(model, prompts, options, new HashSet<int> { stop });
        Assert.Equal(alone[0].Take(alone[0].ToList().IndexOf(stop) + 1), stopped[0].TokenIds);
        Assert.Equal("eos", stopped[0].StopReason);
    }

    [Fact]
    public void Streaming_callback_sees_every_token_in_order()
    {
        var config = TinyModels.Llama();
        using var model = TinyModels.Build(config, TinyModels.RandomWeights(config, seed: 2));
        var seen = new List<int>();
        var result = TokenGenerator.Generate(model, new[] { new[] { 1, 2 } }, new GenerationOptions { MaxNewTokens = 5 },
            new HashSet<int>(), onToken: (_, id) => seen.Add(id))[0];
        Assert.Equal(result.TokenIds, seen);
        Assert.True(result.TimeToFirstTokenMs > 0);
    }

    [Fact]
    public void Prompt_longer_than_the_context_is_rejected()
    {
        var config = TinyModels.Llama() with { MaxPositionEmbeddings = 8 };
        using var model = TinyModels.Build(config, TinyModels.RandomWeights(config, seed: 2));
        var e = Assert.Throws<ArgumentException>(() => TokenGenerator.Generate(model, new[] { new[] { 1, 2, 3, 4, 5 } },
            new GenerationOptions { MaxNewTokens = 4 }, new HashSet<int>()));
        Assert.Contains("context of 8", e.Message);
    }
}
