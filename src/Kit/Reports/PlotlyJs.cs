using System.Reflection;
using System.Text.Json;
using Plotly.NET;

namespace Kit.Reports;

/// <summary>
/// plotly.js as Plotly.NET ships it (an embedded resource of Plotly.NET.dll), and Kit's HTML for a chart that
/// draws with the page's copy of it, so that reports and notebooks draw without a network.
/// </summary>
public static class PlotlyJs
{
    static readonly Lazy<(string Version, string Source)> Embedded = new(Load);

    /// <summary>The plotly.js version embedded (that of the Plotly.NET package Kit is built with).</summary>
    public static string Version => Embedded.Value.Version;

    /// <summary>The minified plotly.js source.</summary>
    public static string Source => Embedded.Value.Source;

    /// <summary>
    /// Script tags that define <c>window.Plotly</c> from the inlined source. An AMD loader on the page (require.js in
    /// Jupyter's HTML export) would make plotly.js register as an anonymous module instead, so <c>define</c> is hidden
    /// while it runs.
    /// </summary>
    public static string ScriptTags() =>
        "<script>window.kitSavedDefine=window.define;window.define=undefined;</script>\n" +
        "<script>" + Source.Replace("</script", "<\\/script", StringComparison.OrdinalIgnoreCase) + "</script>\n" +
        "<script>window.define=window.kitSavedDefine;</script>\n";

    /// <summary>
    /// A chart as an HTML fragment: a fixed-size div and a script that draws it with the page's plotly.js
    /// (<see cref="ScriptTags"/>, once per page). Where the page has none, the script fetches plotly.js from its CDN,
    /// and says in the div that the embedding cell must run first when that fails too (offline).
    /// </summary>
    /// <param name="chart">The chart.</param>
    /// <param name="id">The div's id, unique in the page; a new one when null.</param>
    public static string ChartFragment(GenericChart chart, string? id = null)
    {
        id ??= "kit-chart-" + Guid.NewGuid().ToString("N");
        using var figure = JsonDocument.Parse(GenericChart.toFigureJson(chart));
        var layout = figure.RootElement.GetProperty("layout");
        int width = layout.TryGetProperty("width", out var w) ? w.GetInt32() : Charts.ChartStyle.Width;
        int height = layout.TryGetProperty("height", out var h) ? h.GetInt32() : Charts.ChartStyle.Height;
        string json = figure.RootElement.GetRawText().Replace("</", "<\\/");
        string idJson = JsonSerializer.Serialize(id);
        return $$"""
            <div id="{{id}}" class="kit-chart" style="width:{{width}}px;height:{{height}}px"></div>
            <script>(function(){
            var id={{idJson}},fig={{json}};
            function draw(){var d=document.getElementById(id);d.textContent='';window.Plotly.newPlot(d,fig.data,fig.layout,Object.assign({displaylogo:false},fig.config||{}));}
            if(window.Plotly){draw();return;}
            var d=document.getElementById(id);d.textContent='loading plotly.js {{Version}}…';
            var s=document.createElement('script'),saved=window.define;window.define=undefined;
            s.src='https://cdn.plot.ly/plotly-{{Version}}.min.js';
            s.onload=function(){window.define=saved;draw();};
            s.onerror=function(){window.define=saved;d.textContent='plotly.js is not on this page and the network is unreachable: run the cell that embeds it (kit-setup.dib) first';};
            document.head.appendChild(s);})();</script>
            """;
    }

    static (string, string) Load()
    {
        Assembly plotly = typeof(GenericChart).Assembly;
        string name = plotly.GetManifestResourceNames().SingleOrDefault(n => n.EndsWith(".min.js", StringComparison.Ordinal))
            ?? throw new InvalidOperationException($"{plotly.GetName().Name} {plotly.GetName().Version} carries no plotly.js resource (*.min.js); Kit's reports embed it");
        using var stream = plotly.GetManifestResourceStream(name)!;
        using var reader = new StreamReader(stream);
        // The resource is named Plotly.NET.plotly-X.Y.Z.min.js.
        string version = name[(name.IndexOf("plotly-", StringComparison.Ordinal) + "plotly-".Length)..^".min.js".Length];
        return (version, reader.ReadToEnd());
    }
}
