namespace Kit.Runtime;

/// <summary>How busy the machine is, printed beside every speed figure: a loaded machine's figures are not comparable.</summary>
public static class MachineLoad
{
    /// <summary>The one-minute load average from /proc/loadavg, or 0 where it cannot be read.</summary>
    public static double OneMinuteAverage()
    {
        try
        {
            var first = File.ReadAllText("/proc/loadavg").Split(' ')[0];
            return double.Parse(first, System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException) { return 0; }
    }
}
