using System.Globalization;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Kit.Quantization;

/// <summary>
/// Typed reads of YAML scalars as llm-compressor sees them: PyYAML's <c>safe_load</c> types plain scalars
/// (<c>True</c>, <c>null</c>, <c>~</c>, numbers) and pydantic then coerces numeric and boolean strings into
/// number and boolean fields. Every error names the field (<c>where</c>) and the value.
/// </summary>
internal static partial class YamlValues
{
    [GeneratedRegex("^(null|Null|NULL|~|)$")]
    private static partial Regex NullPattern();

    /// <summary>Whether the node is YAML null: a missing value or a plain <c>null</c>, <c>Null</c>, <c>NULL</c>, <c>~</c>.</summary>
    public static bool IsNull(YamlNode? node) =>
        node is null || node is YamlScalarNode { Style: ScalarStyle.Plain or ScalarStyle.Any } s && NullPattern().IsMatch(s.Value ?? "");

    /// <summary>Whether the node is a plain (unquoted) YAML boolean, as PyYAML's <c>true/True/yes/on/...</c>.</summary>
    public static bool IsBool(YamlNode node, out bool value)
    {
        value = false;
        if (node is not YamlScalarNode { Style: ScalarStyle.Plain or ScalarStyle.Any } s) return false;
        return TryBool(s.Value ?? "", out value);
    }

    static bool TryBool(string text, out bool value)
    {
        switch (text.Trim().ToLowerInvariant())
        {
            case "true" or "yes" or "on" or "y" or "t" or "1": value = true; return true;
            case "false" or "no" or "off" or "n" or "f" or "0": value = false; return true;
            default: value = false; return false;
        }
    }

    /// <summary>A text value; null and nested structures are errors.</summary>
    public static string Text(YamlNode node, string where) =>
        IsNull(node) ? throw new InvalidDataException($"{where}: expected a value, got null")
        : node is YamlScalarNode s ? s.Value ?? ""
        : throw new InvalidDataException($"{where}: expected a single value, got a {(node is YamlSequenceNode ? "list" : "mapping")}");

    /// <summary>A boolean: YAML's <c>true/True/false/False/yes/no/on/off</c>, quoted or not (pydantic's coercion).</summary>
    public static bool Bool(YamlNode node, string where) =>
        TryBool(Text(node, where), out bool v) ? v : throw new InvalidDataException($"{where}: expected true or false, got '{Text(node, where)}'");

    /// <summary>A number.</summary>
    public static double Number(YamlNode node, string where)
    {
        string text = Text(node, where).Replace("_", "", StringComparison.Ordinal);
        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && double.IsFinite(v)
            ? v : throw new InvalidDataException($"{where}: expected a number, got '{Text(node, where)}'");
    }

    /// <summary>A whole number (an integral float such as <c>128.0</c> counts, as pydantic accepts it).</summary>
    public static int Int(YamlNode node, string where)
    {
        double v;
        try { v = Number(node, where); }
        catch (InvalidDataException) { throw new InvalidDataException($"{where}: expected a whole number, got '{Text(node, where)}'"); }
        return v == Math.Floor(v) && Math.Abs(v) <= int.MaxValue ? (int)v
            : throw new InvalidDataException($"{where}: expected a whole number, got '{Text(node, where)}'");
    }

    /// <summary>A list of names; a single name counts as a list of one (llm-compressor's <c>targets</c> validator).</summary>
    public static IReadOnlyList<string> Names(YamlNode node, string where) => node switch
    {
        YamlSequenceNode seq => seq.Children.Select((c, i) => Text(c, $"{where}[{i}]")).ToArray(),
        YamlScalarNode when !IsNull(node) => new[] { Text(node, where) },
        _ => throw new InvalidDataException($"{where}: expected a list of names"),
    };

    /// <summary>The entries of a mapping, keys as text, refusing keys not in <paramref name="known"/> by name.</summary>
    public static IReadOnlyList<(string Key, YamlNode Value)> Entries(YamlNode node, string where, IReadOnlyCollection<string> known)
    {
        if (IsNull(node)) return Array.Empty<(string, YamlNode)>();
        if (node is not YamlMappingNode map) throw new InvalidDataException($"{where}: expected a mapping");
        var entries = map.Children.Select(e => (Key: Text(e.Key, where), e.Value)).ToList();
        foreach (var (key, _) in entries)
            if (!known.Contains(key))
                throw new InvalidDataException($"{where}: unknown or unsupported key '{key}' (Kit reads: {string.Join(", ", known)})");
        return entries;
    }
}
