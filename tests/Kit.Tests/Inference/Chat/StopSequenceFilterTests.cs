using Kit.Inference.Chat;

namespace Kit.Tests.Inference.Chat;

/// <summary>Stop sequences cut streamed text as OpenAI's API does: never showing the stop sequence or anything after it.</summary>
public sealed class StopSequenceFilterTests
{
    [Fact]
    public void A_stop_sequence_split_across_pieces_is_cut_and_never_shown()
    {
        var filter = new StopSequenceFilter(["o w"]);
        Assert.Equal("Hel", filter.Push("Hel"));
        Assert.Equal("l", filter.Push("lo"));     // "o" could start "o w": held back
        Assert.Equal("", filter.Push(" wo"));      // "o w" complete: cut before it
        Assert.True(filter.Stopped);
        Assert.Equal("", filter.Push("rld"));
        Assert.Equal("", filter.Flush());
    }

    [Fact]
    public void Held_text_that_does_not_become_a_stop_sequence_is_shown()
    {
        var filter = new StopSequenceFilter(["abc"]);
        Assert.Equal("x", filter.Push("xab"));
        Assert.Equal("abd", filter.Push("d"));
        Assert.Equal("", filter.Push("a"));
        Assert.Equal("a", filter.Flush());
        Assert.False(filter.Stopped);
    }

    [Fact]
    public void The_earliest_of_several_stop_sequences_wins()
    {
        var filter = new StopSequenceFilter(["world", "lo"]);
        Assert.Equal("Hel", filter.Push("Hello world"));
        Assert.True(filter.Stopped);
    }

    [Fact]
    public void Without_stop_sequences_everything_passes_at_once()
    {
        var filter = new StopSequenceFilter(null);
        Assert.Equal("Hello", filter.Push("Hello"));
        Assert.Equal("", filter.Flush());
    }
}
