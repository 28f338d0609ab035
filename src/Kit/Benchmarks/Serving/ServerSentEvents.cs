using System.Runtime.CompilerServices;
using System.Text;

namespace Kit.Benchmarks.Serving;

/// <summary>
/// The data of server-sent events as the HTML standard defines them: <c>data:</c> lines (one optional space after the
/// colon) joined by newlines, an event ending at a blank line; comments (lines starting with a colon) and other
/// fields are skipped.
/// </summary>
internal static class ServerSentEvents
{
    public static async IAsyncEnumerable<string> ReadDataAsync(TextReader reader, [EnumeratorCancellation] CancellationToken ct = default)
    {
        var data = new StringBuilder();
        bool any = false;
        while (await reader.ReadLineAsync(ct).ConfigureAwait(false) is { } line)
        {
            if (line.Length == 0)
            {
                if (any) yield return data.ToString();
                data.Clear();
                any = false;
                continue;
            }
            if (!line.StartsWith("data:", StringComparison.Ordinal)) continue;
            string value = line[5..];
            if (value.StartsWith(' ')) value = value[1..];
            if (any) data.Append('\n');
            data.Append(value);
            any = true;
        }
        if (any) yield return data.ToString();
    }
}
