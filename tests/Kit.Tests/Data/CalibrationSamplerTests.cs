using Kit.Data;
using static Kit.Tests.Data.DataFixtures;

namespace Kit.Tests.Data;

public sealed class CalibrationSamplerTests
{
    const int Eos = 2;

    static readonly string[] Colors = ["red", "blue", "green", "yellow", "pink", "brown", "white", "black"];

    /// <summary>Paragraphs of varied story sentences, so that windows of a few dozen tokens do not repeat.</summary>
    static string[] Paragraphs(int count) => Enumerable.Range(0, count)
        .Select(i => $"Tim had {i} {Colors[i % 8]} balls. His friend Sue saw {Colors[(i * 3 + 1) % 8]} birds on day {i * 7}.")
        .ToArray();

    static ITextSource ParagraphSource(string[] paragraphs) =>
        CalibrationSource.Open(WriteFile("p.txt", string.Join("\n\n", paragraphs)), new SourceOptions { TextMode = TextFileMode.Paragraphs });

    /// <summary>The stream built by hand: each paragraph with BOS, then EOS.</summary>
    static List<int> ReferenceStream(string[] paragraphs) =>
        paragraphs.SelectMany(p => Tokenizer.Encode(p, addSpecialTokens: true).Append(Eos)).ToList();

    [Fact]
    public void Corpus_stream_is_each_document_with_bos_followed_by_eos()
    {
        var paragraphs = Paragraphs(5);
        var corpus = TokenizedCorpus.Build(ParagraphSource(paragraphs), Tokenizer);
        var reference = ReferenceStream(paragraphs);
        Assert.Equal(1, reference[0]);
        Assert.Equal(reference, corpus.Tokens.ToArray());
        Assert.Equal(5, corpus.Documents.Count);
        Assert.Equal(Tokenizer.Encode(paragraphs[3]), corpus.Document(3).ToArray());
    }

    [Fact]
    public void Windows_are_non_overlapping_windows_of_the_document_stream()
    {
        var paragraphs = Paragraphs(60);
        int[] reference = [.. ReferenceStream(paragraphs)];
        var set = CalibrationSampler.Sample(ParagraphSource(paragraphs), Tokenizer,
            new CalibrationOptions { NumSamples = 20, SequenceLength = 40, Seed = 3 });

        Assert.Equal(20, set.Count);
        Assert.Equal(reference.Length, set.CorpusTokens);
        var starts = set.Samples.Select(s => { Assert.Equal(40, s.Length); return IndexOf(reference, s); }).Order().ToList();
        Assert.DoesNotContain(-1, starts);
        for (int i = 1; i < starts.Count; i++) Assert.True(starts[i] - starts[i - 1] >= 40, $"windows at {starts[i - 1]} and {starts[i]} overlap");
    }

    [Fact]
    public void Same_seed_gives_the_same_samples_and_other_seeds_do_not()
    {
        var corpus = TokenizedCorpus.Build(ParagraphSource(Paragraphs(60)), Tokenizer);
        var options = new CalibrationOptions { NumSamples = 10, SequenceLength = 32, Seed = 7 };
        var first = CalibrationSampler.Sample(corpus, options).Samples;
        var again = CalibrationSampler.Sample(corpus, options).Samples;
        var other = CalibrationSampler.Sample(corpus, options with { Seed = 8 }).Samples;
        Assert.Equal(first, again);
        Assert.NotEqual(first, other);
        // Different windows, not just a different order.
        Assert.NotEqual(first.Select(s => string.Join(",", s)).Order(), other.Select(s => string.Join(",", s)).Order());
    }

    [Fact]
    public void Without_slack_the_windows_tile_the_stream()
    {
        // The first paragraph count whose stream length has a divisor in 10..49.
        var (paragraphs, reference, length) = Enumerable.Range(20, 20)
            .Select(n => (Paragraphs: Paragraphs(n), Stream: ReferenceStream(Paragraphs(n))))
            .Select(p => (p.Paragraphs, p.Stream, Length: Enumerable.Range(10, 40).FirstOrDefault(l => p.Stream.Count % l == 0)))
            .First(p => p.Length > 0);
        int count = reference.Count / length;
        var set = CalibrationSampler.Sample(ParagraphSource(paragraphs), Tokenizer,
            new CalibrationOptions { NumSamples = count, SequenceLength = length });
        var tiles = Enumerable.Range(0, count).Select(i => string.Join(",", reference.Skip(i * length).Take(length)));
        Assert.Equal(tiles.Order(), set.Samples.Select(s => string.Join(",", s)).Order());
    }

    [Fact]
    public void Window_placements_are_uniform_over_all_non_overlapping_placements()
    {
        // All tokens distinct, so a window's first token gives its position. Two windows of 2 in T tokens leave
        // slack S = T - 4 and C(S + 2, 2) placements (stars and bars).
        string path = WriteFile("t.txt", "Tim saw a big dog.");
        var corpus = TokenizedCorpus.Build(CalibrationSource.Open(path), Tokenizer);
        var stream = corpus.Tokens.ToArray();
        Assert.Equal(stream.Length, stream.Distinct().Count());
        int slack = stream.Length - 4;
        int placements = (slack + 2) * (slack + 1) / 2;

        var counts = new Dictionary<(int, int), int>();
        const int trials = 5600;
        for (int seed = 0; seed < trials; seed++)
        {
            var samples = CalibrationSampler.Sample(corpus, new CalibrationOptions { NumSamples = 2, SequenceLength = 2, Seed = seed }).Samples;
            int a = Array.IndexOf(stream, samples[0][0]), b = Array.IndexOf(stream, samples[1][0]);
            var key = (Math.Min(a, b), Math.Max(a, b));
            Assert.True(key.Item2 - key.Item1 >= 2);
            counts[key] = counts.GetValueOrDefault(key) + 1;
        }
        Assert.Equal(placements, counts.Count);
        double expected = (double)trials / placements; // binomial sd ≈ sqrt(expected)
        Assert.All(counts.Values, c => Assert.InRange(c, expected - 5 * Math.Sqrt(expected), expected + 5 * Math.Sqrt(expected)));
    }

    [Fact]
    public void Document_packing_takes_the_heads_of_documents_long_enough()
    {
        string[] documents = ["Hi.", .. Paragraphs(6), "Yes.", "The end."];
        var source = CalibrationSource.Open(WriteFile("d.jsonl",
            string.Join("\n", documents.Select(d => System.Text.Json.JsonSerializer.Serialize(new { text = d })))));
        const int length = 12;
        var heads = documents.Select(d => Tokenizer.Encode(d)).Where(t => t.Count >= length)
            .Select(t => string.Join(",", t.Take(length))).ToList();
        Assert.Equal(6, heads.Count);

        var set = CalibrationSampler.Sample(source, Tokenizer,
            new CalibrationOptions { NumSamples = 4, SequenceLength = length, Packing = CalibrationPacking.Documents, Seed = 1 });

        var got = set.Samples.Select(s => string.Join(",", s)).ToList();
        Assert.Equal(4, got.Distinct().Count());
        Assert.All(got, g => Assert.Contains(g, heads));
    }

    [Fact]
    public void Fit_clamps_length_to_the_model_and_count_to_the_corpus_and_says_why()
    {
        var paragraphs = Paragraphs(30);
        int tokens = ReferenceStream(paragraphs).Count;
        var corpus = TokenizedCorpus.Build(ParagraphSource(paragraphs), Tokenizer);

        var fit = new CalibrationOptions().FitTo(maxPositionEmbeddings: 64, corpus);

        Assert.Equal(64, fit.Options.SequenceLength);
        Assert.Equal(tokens / 64, fit.Options.NumSamples);
        Assert.Equal(2, fit.Changes.Count);
        Assert.Equal("sequence length 2048 → 64: the model's max_position_embeddings is 64", fit.Changes[0]);
        Assert.Contains($"samples 512 → {tokens / 64}", fit.Changes[1]);
        Assert.Contains($"{tokens:N0} tokens", fit.Changes[1]);
        Assert.Equal(tokens / 64, CalibrationSampler.Sample(corpus, fit.Options).Count);
    }

    [Fact]
    public void Fit_leaves_options_that_fit_unchanged()
    {
        var corpus = TokenizedCorpus.Build(ParagraphSource(Paragraphs(30)), Tokenizer);
        var options = new CalibrationOptions { NumSamples = 4, SequenceLength = 16 };
        var fit = options.FitTo(512, corpus);
        Assert.Equal(options, fit.Options);
        Assert.Empty(fit.Changes);
    }

    [Fact]
    public void Fit_for_documents_clamps_length_to_the_longest_document()
    {
        var source = CalibrationSource.Open(WriteFile("d.jsonl", "{\"text\":\"Tim saw a big dog.\"}\n{\"text\":\"Hi.\"}\n"));
        var corpus = TokenizedCorpus.Build(source, Tokenizer);
        int longest = Tokenizer.Encode("Tim saw a big dog.").Count;
        var fit = new CalibrationOptions { Packing = CalibrationPacking.Documents }.FitTo(512, corpus);
        Assert.Equal(longest, fit.Options.SequenceLength);
        Assert.Equal(1, fit.Options.NumSamples);
    }

    [Fact]
    public void Token_budget_stops_reading_after_the_document_that_reaches_it()
    {
        var paragraphs = Paragraphs(40);
        int firstTwo = ReferenceStream(paragraphs[..2]).Count;
        var corpus = TokenizedCorpus.Build(ParagraphSource(paragraphs), Tokenizer, maxTokens: firstTwo - 1);
        Assert.Equal(firstTwo, corpus.TokenCount);
        Assert.True(corpus.Truncated);
    }

    [Fact]
    public void Tensor_holds_the_samples_row_by_row()
    {
        var set = new CalibrationSet([[1, 2, 3], [4, 5, 6]], 3, "hand", 6);
        using var tensor = set.ToTensor(TorchSharp.torch.CPU);
        Assert.Equal([2L, 3L], tensor.shape);
        Assert.Equal(TorchSharp.torch.ScalarType.Int64, tensor.dtype);
        Assert.Equal([1L, 2, 3, 4, 5, 6], tensor.data<long>().ToArray());
    }
}
