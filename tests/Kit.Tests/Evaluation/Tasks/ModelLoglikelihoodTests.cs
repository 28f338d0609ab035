using Kit.Evaluation.Tasks;
using Kit.Models;
using static TorchSharp.torch;

namespace Kit.Tests.Evaluation.Tasks;

public sealed class ModelLoglikelihoodTests
{
    static readonly Lazy<LanguageModel> Stories = new(() => LanguageModel.Load(TestPaths.Stories260K, new ModelLoadOptions { Device = "cpu" }));

    static readonly LoglikelihoodRequest[] Requests =
    [
        new("Once upon a time, there was a little girl named Lily.", " She"),
        new("Once upon a time, there was a little girl named Lily.", " She liked to play outside in the park."),
        new("The dog ran to the", " park"),
        new("Tom had a red ball. He", " threw the ball to his friend"),
        new("One day", ","),
        new("Lily and her mom went to the store to buy some", " milk and bread."),
    ];

    /// <summary>
    /// The reference: the context's tokens and the whole text's tokens (with BOS <paramref name="bos"/> first, as
    /// lm-eval's HFLM with a tokenizer that adds it), one plain forward pass over the last <paramref name="maxLength"/>
    /// + 1 tokens, and a float64 log-softmax summed over the continuation's positions, with the argmax checked
    /// position by position.
    /// </summary>
    static (double LogProb, bool Greedy) Reference(LanguageModel lm, LoglikelihoodRequest request, int maxLength = 512, bool bos = true)
    {
        int[] first = bos ? [lm.Tokenizer.BosId!.Value] : [];
        var context = first.Concat(lm.Tokenizer.Encode(request.Context, addSpecialTokens: false)).ToList();
        var whole = first.Concat(lm.Tokenizer.Encode(request.Context + request.Continuation, addSpecialTokens: false)).ToList();
        Assert.Equal(context, whole.Take(context.Count));
        var all = whole.Select(t => (long)t).ToArray();
        var window = all[Math.Max(0, all.Length - (maxLength + 1))..];
        int continuation = whole.Count - context.Count;

        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var logits = lm.Model.Forward(tensor(window[..^1], [1, window.Length - 1]))[0].to_type(ScalarType.Float64);
        var logProbs = logits.log_softmax(-1).data<double>().ToArray();
        long vocab = logits.shape[1];
        double sum = 0;
        bool greedy = true;
        for (int i = window.Length - 1 - continuation; i < window.Length - 1; i++)
        {
            var row = logProbs.AsSpan((int)(i * vocab), (int)vocab);
            long target = window[i + 1];
            sum += row[(int)target];
            greedy &= row.IndexOf(row.ToArray().Max()) == target;
        }
        return (sum, greedy);
    }

    [Fact]
    public void Loglikelihood_equals_a_direct_sum_of_log_softmax_over_the_continuation()
    {
        var lm = Stories.Value;
        var answers = new ModelLoglikelihood(lm, new LoglikelihoodOptions { BatchSize = 1 }).Score(Requests);

        for (int i = 0; i < Requests.Length; i++)
        {
            var (logProb, greedy) = Reference(lm, Requests[i]);
            Assert.Equal(logProb, answers[i].LogProb, 1e-4);
            Assert.Equal(greedy, answers[i].IsGreedy);
        }
        Assert.All(answers, a => Assert.True(a.LogProb < 0));
    }

    [Fact]
    public void Without_bos_the_loglikelihood_is_the_direct_sum_over_the_bare_tokens()
    {
        var lm = Stories.Value;
        var answers = new ModelLoglikelihood(lm, new LoglikelihoodOptions { AddBosToken = false }).Score(Requests);

        for (int i = 0; i < Requests.Length; i++)
            Assert.Equal(Reference(lm, Requests[i], bos: false).LogProb, answers[i].LogProb, 1e-4);
        // stories260K was trained on BOS-led stories: without BOS its first predictions are worse.
        var withBos = new ModelLoglikelihood(lm).Score(Requests);
        Assert.True(withBos[2].LogProb > answers[2].LogProb + 1, $"{withBos[2].LogProb} vs {answers[2].LogProb}");
    }

    /// <summary>
    /// Hand-checked tokens of stories260K's SentencePiece vocabulary (llama2.c's tok512): "The dog ran to the" is
    /// ▁The ▁do g ▁r an ▁to ▁the = 291 400 428 352 303 267 265, " park" is ▁p ar k = 282 295 433, and BOS &lt;s&gt; is 1,
    /// which the folder's tokenizer_config.json adds (add_bos_token: true).
    /// </summary>
    [Theory]
    [InlineData(null, true)]
    [InlineData(true, true)]
    [InlineData(false, false)]
    public void Bos_leads_the_context_only_as_lm_eval_encodes_it(bool? addBosToken, bool bos)
    {
        var lm = Stories.Value;
        Assert.True(lm.Tokenizer.AddsBosToken);
        var source = new ModelLoglikelihood(lm, new LoglikelihoodOptions { AddBosToken = addBosToken });
        var (context, continuation) = source.Encode(new("The dog ran to the ", "park"));

        int[] words = [291, 400, 428, 352, 303, 267, 265];
        Assert.Equal(bos ? [1, .. words] : words, context);
        Assert.Equal([282, 295, 433], continuation);
        Assert.Equal(bos, source.AddsBos);
        Assert.Equal(addBosToken is null ? "auto:true" : bos ? "true" : "false", source.BosPolicy);
    }

    [Theory]
    [InlineData(null)]
    [InlineData(true)]
    [InlineData(false)]
    public void An_empty_context_is_the_bos_token_under_every_policy(bool? addBosToken)
    {
        var source = new ModelLoglikelihood(Stories.Value, new LoglikelihoodOptions { AddBosToken = addBosToken });
        // " Once upon a time" is ▁Once ▁upon ▁a ▁time = 403 407 261 378.
        AssertTokens([1], [403, 407, 261, 378], source.Encode(new("", " Once upon a time")));
        // A continuation that spells BOS out already supplies it (lm-eval's prefix_token_id == continuation_enc[0]).
        AssertTokens([1], [291, 400, 428], source.Encode(new("", "<s>The dog")));
    }

    [Fact]
    public void A_context_that_spells_bos_out_gets_no_second_one()
    {
        var source = new ModelLoglikelihood(Stories.Value);
        AssertTokens([1, 291, 400, 428], [282, 295, 433], source.Encode(new("<s>The dog", " park")));
    }

    [Fact]
    public void Auto_follows_a_tokenizer_config_that_adds_no_bos_and_true_adds_it_anyway()
    {
        string folder = TestPaths.NewTempDir();
        foreach (var file in Directory.GetFiles(TestPaths.Stories260K)) File.Copy(file, Path.Combine(folder, Path.GetFileName(file)));
        string config = Path.Combine(folder, "tokenizer_config.json");
        File.WriteAllText(config, File.ReadAllText(config).Replace("\"add_bos_token\": true", "\"add_bos_token\": false"));
        using var lm = LanguageModel.Load(folder, new ModelLoadOptions { Device = "cpu" });
        Assert.False(lm.Tokenizer.AddsBosToken);

        var auto = new ModelLoglikelihood(lm);
        var always = new ModelLoglikelihood(lm, new LoglikelihoodOptions { AddBosToken = true });
        Assert.Equal("auto:false", auto.BosPolicy);
        Assert.Equal("true", always.BosPolicy);
        Assert.Equal([291, 400, 428], auto.Encode(new("The dog", " park")).Context);
        Assert.Equal([1, 291, 400, 428], always.Encode(new("The dog", " park")).Context);
        Assert.Equal(Reference(Stories.Value, Requests[2]).LogProb, always.Score([Requests[2]])[0].LogProb, 1e-4);
        Assert.Equal(Reference(Stories.Value, Requests[2], bos: false).LogProb, auto.Score([Requests[2]])[0].LogProb, 1e-4);
    }

    static void AssertTokens(int[] context, int[] continuation, (IReadOnlyList<int> Context, IReadOnlyList<int> Continuation) actual)
    {
        Assert.Equal(context, actual.Context);
        Assert.Equal(continuation, actual.Continuation);
    }

    [Fact]
    public void Batching_and_padding_give_the_one_by_one_numbers()
    {
        var lm = Stories.Value;
        var single = new ModelLoglikelihood(lm, new LoglikelihoodOptions { BatchSize = 1 }).Score(Requests);
        var progress = new List<double>();
        var batched = new ModelLoglikelihood(lm, new LoglikelihoodOptions { BatchSize = 4 }).Score(Requests, new SyncProgress(progress));

        for (int i = 0; i < Requests.Length; i++)
        {
            Assert.Equal(single[i].LogProb, batched[i].LogProb, 1e-4);
            Assert.Equal(single[i].IsGreedy, batched[i].IsGreedy);
        }
        Assert.Equal([4.0 / 6, 1.0], progress);
    }

    [Fact]
    public void Trailing_space_of_the_context_moves_to_the_continuation()
    {
        var lm = Stories.Value;
        var source = new ModelLoglikelihood(lm);
        var answers = source.Score([new("The dog ran to the ", "park"), new("The dog ran to the", " park")]);

        // Same tokens, so the same sum up to float32 rounding (the two rows of one batch may take different GEMM paths).
        Assert.Equal(answers[1].LogProb, answers[0].LogProb, 1e-5);
        var (context, continuation) = source.Encode(new("The dog ran to the ", "park"));
        var (expectedContext, expectedContinuation) = source.Encode(new("The dog ran to the", " park"));
        Assert.Equal(expectedContext, context);
        Assert.Equal(expectedContinuation, continuation);
    }

    [Fact]
    public void Long_inputs_are_cut_from_the_left_to_the_context_length()
    {
        var lm = Stories.Value;
        var request = Requests[3];
        var answer = new ModelLoglikelihood(lm, new LoglikelihoodOptions { MaxLength = 10 }).Score([request])[0];

        var (cut, _) = Reference(lm, request, maxLength: 10);
        var (full, _) = Reference(lm, request);
        Assert.Equal(cut, answer.LogProb, 1e-4);
        Assert.NotEqual(full, answer.LogProb, 3);
    }

    [Fact]
    public void Task_scored_with_the_model_picks_the_likelier_continuation()
    {
        var lm = Stories.Value;
        var task = new EvaluationTask("tiny", TaskOutput.MultipleChoice, [TaskMetrics.Acc, TaskMetrics.AccNorm], "in memory",
            () => [TaskDocument.MultipleChoice("Once upon a time, there was a little", ["girl", "xqzv"], gold: 0)]);
        var result = TaskScorer.Score(lm, task);

        var answers = Assert.Single(result.Documents).Answers;
        Assert.Equal(Reference(lm, new("Once upon a time, there was a little", " girl")).LogProb, answers[0].LogProb, 1e-4);
        Assert.Equal(1.0, result.Metrics[TaskMetrics.Acc].Value);
    }

    /// <summary>Records reports on the calling thread (Progress&lt;T&gt; posts to the thread pool).</summary>
    sealed class SyncProgress(List<double> values) : IProgress<double>
    {
        public void Report(double value) => values.Add(value);
    }
}
