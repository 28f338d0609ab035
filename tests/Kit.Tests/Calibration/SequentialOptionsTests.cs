using Kit.Calibration;

namespace Kit.Tests.Calibration;

public sealed class SequentialOptionsTests
{
    [Theory]
    [InlineData(8, 512, 8)]
    [InlineData(8, 100, 8)]
    [InlineData(8, 2048, 2)]     // 4,096 tokens a pass
    [InlineData(8, 1000, 4)]
    [InlineData(8, 8192, 1)]     // longer than a pass: one sequence
    [InlineData(1, 64, 1)]
    public void A_pass_takes_at_most_the_batch_and_at_most_4096_tokens(int batchSize, int tokens, int expected) =>
        Assert.Equal(expected, new SequentialOptions { BatchSize = batchSize }.SequencesPerPass(tokens));
}
