using System.Globalization;

namespace Kit.Reports;

/// <summary>
/// Numbers as a person reads them in a table: three significant digits, the unit beside the value,
/// thousands grouped, and a dash for a value that is missing (NaN or null) rather than <c>NaN</c> or <c>&lt;null&gt;</c>.
/// Every table Kit shows (reports, notebooks, the CLI's text output) formats through here.
/// </summary>
public static class Readable
{
    /// <summary>What a missing value shows as.</summary>
    public const string Missing = "–";

    static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    /// <summary>
    /// A plain number to <paramref name="significant"/> digits: 0.0204, 20.4, 1,502, 3.10e-05 (scientific only
    /// below 1e-4, where leading zeros would hide the digits).
    /// </summary>
    public static string Number(double? value, int significant = 3)
    {
        if (value is not double v || !double.IsFinite(v)) return value is double.PositiveInfinity ? "∞" : value is double.NegativeInfinity ? "−∞" : Missing;
        if (v == 0) return "0";
        double magnitude = Math.Abs(v);
        if (magnitude < 1e-4) return v.ToString("0." + new string('0', significant - 1) + "e+00", Invariant).Replace("e+", "e");
        int digitsBeforePoint = (int)Math.Floor(Math.Log10(magnitude)) + 1;
        int decimals = Math.Max(0, significant - digitsBeforePoint);
        double rounded = Math.Round(v, decimals, MidpointRounding.AwayFromZero);
        // Rounding can carry into a new digit (9.996 → 10.0); recount so that the width stays at the significant digits.
        if (Math.Abs(rounded) >= Math.Pow(10, digitsBeforePoint) && decimals > 0) decimals--;
        return rounded.ToString("#,0." + new string('0', decimals), Invariant).TrimEnd('.');
    }

    /// <summary>A count with grouped thousands: 12,345.</summary>
    public static string Count(long? value) => value is long v ? v.ToString("#,0", Invariant) : Missing;

    /// <summary>A fraction as a percentage: 0.873 → "87.3 %".</summary>
    public static string Percent(double? fraction, int significant = 3) =>
        fraction is double f && double.IsFinite(f) ? Number(f * 100, significant) + " %" : Missing;

    /// <summary>Milliseconds: "20.4 ms", "1,502 ms".</summary>
    public static string Milliseconds(double? ms) => WithUnit(ms, "ms");

    /// <summary>Seconds: "64.0 s".</summary>
    public static string Seconds(double? seconds) => WithUnit(seconds, "s");

    /// <summary>Tokens per second: "25.5 tok/s".</summary>
    public static string TokensPerSecond(double? value) => WithUnit(value, "tok/s");

    /// <summary>Bytes in decimal units (as memory and disk sizes are quoted): "1.23 GB", "512 kB", "96 B".</summary>
    public static string Bytes(double? bytes)
    {
        if (bytes is not double b || !double.IsFinite(b)) return Missing;
        string[] units = ["B", "kB", "MB", "GB", "TB", "PB"];
        int unit = 0;
        double scaled = b;
        while (Math.Abs(scaled) >= 999.5 && unit < units.Length - 1)
        {
            scaled /= 1000;
            unit++;
        }
        return unit == 0 ? $"{scaled.ToString("0", Invariant)} B" : $"{Number(scaled)} {units[unit]}";
    }

    /// <summary>Bytes per second in decimal units: "41.6 GB/s".</summary>
    public static string BytesPerSecond(double? bytesPerSecond) => bytesPerSecond is double b && double.IsFinite(b) ? Bytes(b) + "/s" : Missing;

    /// <summary>Floating-point operations per second: "1.23 TFLOP/s".</summary>
    public static string FlopsPerSecond(double? flops)
    {
        if (flops is not double f || !double.IsFinite(f)) return Missing;
        string[] units = ["FLOP/s", "kFLOP/s", "MFLOP/s", "GFLOP/s", "TFLOP/s", "PFLOP/s"];
        int unit = 0;
        while (Math.Abs(f) >= 999.5 && unit < units.Length - 1)
        {
            f /= 1000;
            unit++;
        }
        return $"{Number(f)} {units[unit]}";
    }

    /// <summary>A multiple: "0.69×".</summary>
    public static string Times(double? ratio) => ratio is double r && double.IsFinite(r) ? Number(r) + "×" : Missing;

    /// <summary>A value with a unit after a space: "20.4 ms".</summary>
    public static string WithUnit(double? value, string unit) => value is double v && double.IsFinite(v) ? $"{Number(v)} {unit}" : Missing;

    /// <summary>
    /// A model as a table names it: the last folder or file name of a path (the full path is in the results
    /// file), a hub id or Kit name unchanged.
    /// </summary>
    public static string Model(string? model)
    {
        if (string.IsNullOrWhiteSpace(model)) return Missing;
        string trimmed = model.TrimEnd('/', Path.DirectorySeparatorChar);
        bool isPath = trimmed.StartsWith('/') || trimmed.StartsWith('.') || trimmed.Count(c => c == '/') > 1 || Path.IsPathRooted(trimmed);
        return isPath ? Path.GetFileName(trimmed) : trimmed;
    }
}
