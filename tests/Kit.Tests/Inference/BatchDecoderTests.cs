using Kit.Calibration;
using Kit.Inference;
using Kit.Models;
using Kit.Quantization;
using Kit.Tests.Models;

namespace Kit.Tests.Inference;

/// <summary>Sequences decoded together, each with its own KV cache, give the tokens each gets alone.</summary>
public sealed class BatchDecoderTests
{
    static readonly IReadOnlySet<int> NoStops = new HashSet<int>();

    [Theory]
    [MemberData(nameof(TinyModels.All), MemberType = typeof(TinyModels))]
    public void Batched_greedy_decoding_equals_argmax_of_a_full_float64_recomputation(string family)
    {
        // Mistral's window of 3 is shorter than every sequence here, so its per-sequence masks are exercised too.
        var config = TinyModels.ByName(family);
        var weights = TinyModels.RandomWeights(config, seed: 8);
        var reference = new ReferenceTransformer(config, weights);
        using var model = TinyModels.Build(config, weights);
        // The prompts of 3, 3 and 4 tokens share a prefill pass (the shortest padded), 1 and 6 get their own.
        IReadOnlyList<int>[] prompts = { new[] { 1, 4, 9 }, new[] { 2, 7, 3, 5, 8, 6 }, new[] { 11 }, new[] { 3, 3, 12 }, new[] { 5, 1, 9, 2 } };

        var batch = TokenGenerator.Generate(model, prompts, new GenerationOptions { MaxNewTokens = 6 }, NoStops);

        for (int s = 0; s < prompts.Length; s++)
        {
            var expected = new List<int>(prompts[s]);
            for (int i = 0; i < 6; i++)
            {
                var last = reference.Forward(expected)[^1];
                expected.Add(Array.IndexOf(last, last.Max()));
            }
            Assert.Equal(expected.Skip(prompts[s].Count), batch[s].TokenIds);
        }
    }

    [Fact]
    public void A_sequence_added_between_decode_steps_gets_the_tokens_it_gets_alone()
    {
        var config = TinyModels.Llama();
        using var model = TinyModels.Build(config, TinyModels.RandomWeights(config, seed: 5));
        var options = new GenerationOptions { MaxNewTokens = 5 };
        int[] first = { 1, 2, 3, 4 }, late = { 9, 8 };
        var alone = new[] { first, late }.Select(p => TokenGenerator.Generate(model, new[] { p }, options, NoStops)[0].TokenIds).ToArray();

        using var decoder = new BatchDecoder(model, options, NoStops);
        var a = decoder.Add(first);
        decoder.Step();
        decoder.Step();
        // Joins while the first is two tokens in: its prefill and the first's decode step share the next Step.
        var b = decoder.Add(late);
        var produced = decoder.Step();
        Assert.Equal(new[] { b, a }, produced.Select(p => p.Sequence));
        while (!decoder.Finished) decoder.Step();

        Assert.Equal(alone[0], a.Generated);
        Assert.Equal(alone[1], b.Generated);
        Assert.All(decoder.Sequences, s => Assert.Equal("length", s.StopReason));
    }

    [Fact]
    public void Prompts_of_similar_length_share_a_prefill_pass_and_padding_stays_within_a_quarter()
    {
        // 3 + 4 + 4 + 5 = 16 tokens padded to 4 · 5 = 20 (+25 %); 40 alone would pad the others eightfold.
        var passes = BatchDecoder.PrefillPasses(new[] { 4, 40, 3, 5, 4 }).ToList();
        Assert.Equal(new[] { new[] { 0, 2, 3, 4 }, new[] { 1 } }, passes);
        Assert.Equal(new[] { new[] { 0, 1 } }, BatchDecoder.PrefillPasses(new[] { 7, 7 }));
        Assert.Empty(BatchDecoder.PrefillPasses(Array.Empty<int>()));
        // 4 + 6 = 10 padded to 12 (+20 %) fits; 1 + 6 padded to 12 (+71 %) does not.
        Assert.Equal(new[] { new[] { 0, 1 } }, BatchDecoder.PrefillPasses(new[] { 4, 6 }));
        Assert.Equal(new[] { new[] { 0 }, new[] { 1 } }, BatchDecoder.PrefillPasses(new[] { 1, 6 }));
    }

    [Fact]
    public void One_token_prompts_never_share_a_pass_with_longer_ones()
    {
        // A pass of one position per sequence is multiplied as a decode step, a longer one as a prefill
        // (QuantizedLinear.BFloat16Prefill): a one-token prompt padded beside a longer one would change its numbers.
        var random = new Random(3);
        for (int trial = 0; trial < 200; trial++)
        {
            var lengths = Enumerable.Range(0, random.Next(1, 12)).Select(_ => random.Next(1, 4)).ToArray();
            foreach (var pass in BatchDecoder.PrefillPasses(lengths))
                Assert.True(pass.All(i => lengths[i] == 1) || pass.All(i => lengths[i] > 1), string.Join(",", pass.Select(i => lengths[i])));
        }
    }

    [Fact]
    public void Zero_new_tokens_finishes_every_sequence_at_once_with_nothing_generated()
    {
        var config = TinyModels.Llama();
        using var model = TinyModels.Build(config, TinyModels.RandomWeights(config, seed: 5));
        var result = TokenGenerator.Generate(model, new[] { new[] { 1, 2 }, new[] { 3 } }, new GenerationOptions { MaxNewTokens = 0 }, NoStops);
        Assert.All(result, r => Assert.Empty(r.TokenIds));
    }

    [Theory]
    [InlineData("stories260K")]
    [InlineData("default")]
    public void Different_prompts_generated_together_equal_each_prompt_alone_token_for_token(string model)
    {
        using var lm = LanguageModel.Load(model, new ModelLoadOptions { Device = "cpu" });
        AssertBatchEqualsAlone(lm);
    }

    [Theory]
    [InlineData("W4A16", false)]
    [InlineData("W4A16", true)]     // prompts multiplied in bfloat16, steps by the int8 kernels
    [InlineData("W8A8", false)]
    public void A_compressed_model_generates_the_same_tokens_together_as_alone(string scheme, bool bfloat16Prefill)
    {
        // One scale per output channel: stories260K's widths (64, 172) are not multiples of the default group of 128.
        var folder = Path.Combine(TestPaths.NewTempDir(), scheme);
        var recipe = new CompressionRecipe
        {
            Method = CompressionMethod.Rtn, Scheme = scheme, InputActivations = QuantizationPresets.InputActivations(scheme),
            Weights = QuantizationPresets.Parse(scheme) with { Strategy = QuantizationStrategy.Channel, GroupSize = null },
        };
        ModelCompression.Compress(TestPaths.Stories260K, folder, recipe, null, new SequentialOptions { Device = "cpu" });
        using var lm = LanguageModel.Load(folder, new ModelLoadOptions { Device = "cpu", BFloat16Prefill = bfloat16Prefill });
        Assert.Contains(lm.Model.DecoderLinears(), l => l.Module is QuantizedLinear);
        Assert.All(lm.Model.DecoderLinears().Select(l => l.Module).OfType<QuantizedLinear>(), l => Assert.Equal(bfloat16Prefill, l.BFloat16Prefill));
        AssertBatchEqualsAlone(lm);
    }

    static void AssertBatchEqualsAlone(LanguageModel lm)
    {
        string[] texts = { "Once upon a time", "Tom", "Lily went to the park with her mom and saw a big red", "The dog was" };
        var prompts = texts.Select(t => lm.Tokenizer.Encode(t)).ToArray();
        Assert.True(prompts.Select(p => p.Count).Distinct().Count() >= 3, "the prompts differ in length");
        var options = new GenerationOptions { MaxNewTokens = 12, StopOnEos = false };
        var alone = prompts.Select(p => TokenGenerator.Generate(lm.Model, new[] { p }, options, NoStops)[0].TokenIds).ToArray();

        var together = TokenGenerator.Generate(lm.Model, prompts, options, NoStops);
        for (int s = 0; s < prompts.Length; s++) Assert.Equal(alone[s], together[s].TokenIds);

        // Two tokens that the first and third sequences produce early become stop tokens: every sequence must end at
        // its own first stop token, as it would alone, while the others run on.
        var stops = new HashSet<int> { alone[0][2], alone[2][4] };
        var stopped = TokenGenerator.Generate(lm.Model, prompts, options with { StopOnEos = true }, stops);
        for (int s = 0; s < prompts.Length; s++)
        {
            int at = alone[s].ToList().FindIndex(stops.Contains);
            Assert.Equal(at < 0 ? alone[s] : alone[s].Take(at + 1), stopped[s].TokenIds);
            Assert.Equal(at < 0 ? "length" : "eos", stopped[s].StopReason);
        }
        Assert.True(stopped[0].TokenIds.Count <= 3 && stopped.Any(r => r.StopReason == "length"), "some sequences stop early and some run on");
    }
}

/// <summary>Sequences with options of their own (a server's requests) decode as they would alone, and can leave at any step.</summary>
public sealed class BatchDecoderOwnOptionsTests
{
    static readonly IReadOnlySet<int> NoStops = new HashSet<int>();

    [Fact]
    public void Sampled_sequences_with_their_own_seeds_get_the_tokens_they_get_alone_beside_greedy_ones()
    {
        var config = TinyModels.Llama();
        using var model = TinyModels.Build(config, TinyModels.RandomWeights(config, seed: 5));
        var sampled = new GenerationOptions { MaxNewTokens = 8, Temperature = 1.5, TopP = 0.9, Seed = 11 };
        var other = sampled with { Seed = 12, MaxNewTokens = 5 };
        var greedy = new GenerationOptions { MaxNewTokens = 6 };
        int[] p1 = { 1, 2, 3 }, p2 = { 4, 5 }, p3 = { 6, 7, 8, 9 };
        IReadOnlyList<int> Alone(int[] p, GenerationOptions o) => TokenGenerator.Generate(model, new[] { p }, o, NoStops)[0].TokenIds;

        using var decoder = new BatchDecoder(model, new GenerationOptions(), NoStops);
        var a = decoder.Add(p1, sampled);
        decoder.Step();
        var b = decoder.Add(p2, greedy);
        var c = decoder.Add(p3, other);
        while (!decoder.Finished) decoder.Step();

        Assert.Equal(Alone(p1, sampled), a.Generated);
        Assert.Equal(Alone(p2, greedy), b.Generated);
        Assert.Equal(Alone(p3, other), c.Generated);
        Assert.Equal(new[] { 8, 6, 5 }, new[] { a, b, c }.Select(s => s.Generated.Count));
        Assert.NotEqual(Alone(p1, sampled with { Seed = 12 }), a.Generated);
    }

    [Fact]
    public void A_removed_sequence_leaves_the_batch_at_once_and_the_others_run_on_unchanged()
    {
        var config = TinyModels.Llama();
        using var model = TinyModels.Build(config, TinyModels.RandomWeights(config, seed: 5));
        var options = new GenerationOptions { MaxNewTokens = 6 };
        using var decoder = new BatchDecoder(model, options, NoStops);
        var leaving = decoder.Add(new[] { 1, 2, 3 });
        var staying = decoder.Add(new[] { 3, 2, 1 });
        decoder.Step();
        decoder.Step();
        Assert.True(decoder.Remove(leaving));
        Assert.False(decoder.Remove(leaving));
        Assert.Equal(new[] { staying }, decoder.Sequences);
        Assert.All(decoder.Step(), p => Assert.Same(staying, p.Sequence));
        while (!decoder.Finished) decoder.Step();
        Assert.Equal(TokenGenerator.Generate(model, new[] { new[] { 3, 2, 1 } }, options, NoStops)[0].TokenIds, staying.Generated);
    }
}
