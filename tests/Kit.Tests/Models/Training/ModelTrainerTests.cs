using Kit.Models;
using Kit.Models.Training;

namespace Kit.Tests.Models.Training;

public sealed class ModelTrainerTests
{
    [Fact]
    public void Learns_a_deterministic_sequence_far_below_chance()
    {
        // A cycle of 12 tokens is fully predictable from the previous token: loss must fall from ln(16) ≈ 2.77 towards 0.
        var config = new ModelConfig
        {
            ModelType = "llama", HiddenSize = 32, IntermediateSize = 64, NumHiddenLayers = 1, NumAttentionHeads = 2,
            NumKeyValueHeads = 1, HeadDim = 16, VocabSize = 16, MaxPositionEmbeddings = 64, TieWordEmbeddings = true,
        };
        var stream = Enumerable.Range(0, 3000).Select(i => i % 12).ToList();
        using var model = new CausalLM(config);
        ModelTrainer.Initialize(model, seed: 1);
        double before = ModelTrainer.ValidationLoss(model, stream.Take(200).ToList(), 32);
        double after = ModelTrainer.Train(model, stream, stream.Take(200).ToList(),
            new TrainingOptions { Steps = 60, BatchSize = 8, SeqLen = 32, WarmupSteps = 5, LearningRate = 1e-2, EvalEvery = 60 });
        Assert.InRange(before, 2.0, 3.5);
        Assert.True(after < 0.2, $"held-out loss {after} after training (was {before})");
        Assert.All(model.parameters(), p => Assert.False(p.requires_grad));
    }

    [Fact]
    public void Learning_rate_warms_up_linearly_then_decays_by_cosine_to_the_minimum()
    {
        var o = new TrainingOptions { Steps = 110, WarmupSteps = 10, LearningRate = 1.0, MinLearningRate = 0.1 };
        Assert.Equal(0.1, ModelTrainer.LearningRateAt(1, o), 12);
        Assert.Equal(1.0, ModelTrainer.LearningRateAt(10, o), 12);
        Assert.Equal(0.55, ModelTrainer.LearningRateAt(60, o), 12);
        Assert.Equal(0.1, ModelTrainer.LearningRateAt(110, o), 12);
    }
}
