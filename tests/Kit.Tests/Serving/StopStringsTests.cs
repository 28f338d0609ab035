using Kit.Serving;

namespace Kit.Tests.Serving;

/// <summary>Streamed text never contains a stop string; what could still start one is held back until settled.</summary>
public sealed class StopStringsTests
{
    [Fact]
    public void Text_that_might_start_a_stop_string_is_held_back_until_the_next_piece_settles_it()
    {
        var stops = new StopStrings(["\n\nUser:", "END"]);
        Assert.Equal("Hello", stops.Push("Hello"));
        Assert.Equal(" world", stops.Push(" world\n"));         // "\n" may begin "\n\nUser:"
        Assert.Equal("", stops.Push("\nUs"));                    // "\n\nUs" still may
        Assert.Equal("\n\nUsual", stops.Push("ual"));            // it did not
        Assert.Equal(" ", stops.Push(" EN"));                    // "EN" may begin "END"
        Assert.Equal("", stops.Push("D tail"));                  // "END" completes: nothing after the stop
        Assert.True(stops.Stopped);
        Assert.Equal("", stops.Push("more"));
        Assert.Equal("", stops.Flush());
    }

    [Fact]
    public void A_stop_string_inside_one_piece_cuts_the_text_before_it_and_the_earliest_stop_wins()
    {
        var stops = new StopStrings(["cat", "a c"]);
        Assert.Equal("It was ", stops.Push("It was a cat"));
        Assert.True(stops.Stopped);
    }

    [Fact]
    public void Held_back_text_that_never_became_a_stop_string_is_released_at_the_end()
    {
        var stops = new StopStrings(["STOP"]);
        Assert.Equal("go ", stops.Push("go ST"));
        Assert.Equal("ST", stops.Flush());
        Assert.False(stops.Stopped);
    }

    [Fact]
    public void Without_stop_strings_every_piece_passes_at_once()
    {
        var stops = new StopStrings([]);
        Assert.Equal("a\n", stops.Push("a\n"));
        Assert.Equal("", stops.Flush());
    }
}
