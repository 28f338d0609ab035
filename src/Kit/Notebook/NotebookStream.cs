using Microsoft.Extensions.AI;

namespace Kit.Notebook;

/// <summary>Shows a streamed chat reply in a notebook cell as it arrives (one output, updated per piece).</summary>
public static class NotebookStream
{
    /// <summary>
    /// Displays the text of <paramref name="updates"/> as it grows, through <see cref="NotebookProgress.Display"/>
    /// (or <paramref name="show"/>), and returns the whole text once the stream ends.
    /// </summary>
    public static async Task<string> Text(IAsyncEnumerable<ChatResponseUpdate> updates, Func<object, Action<object>>? show = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(updates);
        var update = (show ?? NotebookProgress.Display)?.Invoke("");
        var text = new System.Text.StringBuilder();
        await foreach (var piece in updates.WithCancellation(cancellationToken))
        {
            if (string.IsNullOrEmpty(piece.Text)) continue;
            text.Append(piece.Text);
            update?.Invoke(text.ToString());
        }
        return text.ToString();
    }
}
