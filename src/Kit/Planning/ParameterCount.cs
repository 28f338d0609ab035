using System.Globalization;

namespace Kit.Planning;

/// <summary>Parameter counts as people write them: 109e9, 109B, 1.1b, 400M, 1.5T or 7000000000.</summary>
public static class ParameterCount
{
    /// <summary>Parses a count; K, M, B (or G) and T multiply by 10³, 10⁶, 10⁹ and 10¹².</summary>
    /// <exception cref="FormatException">Not a positive count.</exception>
    public static long Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        string s = text.Trim().Replace("_", "", StringComparison.Ordinal).Replace(",", "", StringComparison.Ordinal);
        double scale = s.Length == 0 ? 1 : char.ToUpperInvariant(s[^1]) switch
        {
            'K' => 1e3,
            'M' => 1e6,
            'B' or 'G' => 1e9,
            'T' => 1e12,
            _ => 1,
        };
        if (scale != 1) s = s[..^1];
        if (!double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) || !(value * scale >= 1) || value * scale > 1e15)
            throw new FormatException($"'{text}' is not a parameter count (examples: 109e9, 109B, 1.1B, 400M)");
        return (long)Math.Round(value * scale);
    }
}
