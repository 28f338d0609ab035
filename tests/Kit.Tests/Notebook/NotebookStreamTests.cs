using Kit.Notebook;
using Microsoft.Extensions.AI;

namespace Kit.Tests.Notebook;

public sealed class NotebookStreamTests
{
    static async IAsyncEnumerable<ChatResponseUpdate> Pieces(params string[] pieces)
    {
        foreach (var piece in pieces)
        {
            await Task.Yield();
            yield return new ChatResponseUpdate(ChatRole.Assistant, piece);
        }
    }

    [Fact]
    public async Task The_cell_shows_the_text_growing_and_the_whole_text_is_returned()
    {
        var shown = new List<string>();
        var text = await NotebookStream.Text(Pieces("Once", "", " upon", " a time"), _ => value => shown.Add((string)value));
        Assert.Equal("Once upon a time", text);
        Assert.Equal(["Once", "Once upon", "Once upon a time"], shown);
    }
}
