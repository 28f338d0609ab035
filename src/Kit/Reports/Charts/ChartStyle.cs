using Microsoft.FSharp.Core;
using Plotly.NET;
using Plotly.NET.CSharp;
using CSharpChart = Plotly.NET.CSharp.Chart;

namespace Kit.Reports.Charts;

/// <summary>Titles, axes and size shared by Kit's charts, so that every chart reads the same way.</summary>
internal static class ChartStyle
{
    /// <summary>The size every Kit chart draws at, in pixels; reports lay charts out in boxes of this size.</summary>
    public const int Width = 760, Height = 420;

    /// <summary>Names the chart and its axes; <paramref name="logX"/> and <paramref name="logY"/> give logarithmic axes.</summary>
    public static GenericChart Styled(this GenericChart chart, string title, string xTitle, string yTitle, bool logX = false, bool logY = false)
    {
        var styled = chart.WithXAxisStyle<double, double, string>(
            TitleText: xTitle, AxisType: logX ? StyleParam.AxisType.Log : StyleParam.AxisType.Auto);
        styled = Plotly.NET.CSharp.GenericChartExtensions.WithYAxisStyle<double, double, string>(styled,
            TitleText: yTitle, AxisType: logY ? StyleParam.AxisType.Log : StyleParam.AxisType.Auto);
        return Plotly.NET.Chart.withTitle(Title.init(FSharpOption<string>.Some(title), null, null, null, null, null, null, null, null, null, null, null)).Invoke(styled).WithSize(Width, Height);
    }

    /// <summary>Charts drawn together on one set of axes.</summary>
    public static GenericChart Combine(IEnumerable<GenericChart> charts) => CSharpChart.Combine(charts);
}
