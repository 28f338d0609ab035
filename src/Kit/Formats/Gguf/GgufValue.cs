namespace Kit.Formats.Gguf;

/// <summary>The value types of GGUF metadata (<c>gguf_type</c>).</summary>
public enum GgufValueType : uint
{
    /// <summary>uint8.</summary>
    UInt8 = 0,
    /// <summary>int8.</summary>
    Int8 = 1,
    /// <summary>uint16.</summary>
    UInt16 = 2,
    /// <summary>int16.</summary>
    Int16 = 3,
    /// <summary>uint32.</summary>
    UInt32 = 4,
    /// <summary>int32.</summary>
    Int32 = 5,
    /// <summary>float32.</summary>
    Float32 = 6,
    /// <summary>One byte, 0 or 1.</summary>
    Bool = 7,
    /// <summary>uint64 length and UTF-8 bytes, no terminator.</summary>
    String = 8,
    /// <summary>uint32 element type, uint64 count, the elements.</summary>
    Array = 9,
    /// <summary>uint64.</summary>
    UInt64 = 10,
    /// <summary>int64.</summary>
    Int64 = 11,
    /// <summary>float64.</summary>
    Float64 = 12,
}

/// <summary>
/// One GGUF metadata value: a scalar (held as its .NET type: <see cref="uint"/> for UInt32, <see cref="string"/>
/// for String, ...) or an array of scalars (held as a .NET array of that type).
/// </summary>
public sealed class GgufValue
{
    GgufValue(GgufValueType type, object value, GgufValueType elementType = GgufValueType.UInt8)
    {
        (Type, Value, ElementType) = (type, value, elementType);
    }

    /// <summary>The stored type.</summary>
    public GgufValueType Type { get; }
    /// <summary>For arrays, the type of the elements.</summary>
    public GgufValueType ElementType { get; }
    /// <summary>The value: a boxed scalar or a typed array.</summary>
    public object Value { get; }

    /// <summary>A uint32 value.</summary>
    public static GgufValue UInt32(uint value) => new(GgufValueType.UInt32, value);
    /// <summary>An int32 value.</summary>
    public static GgufValue Int32(int value) => new(GgufValueType.Int32, value);
    /// <summary>A uint64 value.</summary>
    public static GgufValue UInt64(ulong value) => new(GgufValueType.UInt64, value);
    /// <summary>A float32 value.</summary>
    public static GgufValue Float32(float value) => new(GgufValueType.Float32, value);
    /// <summary>A bool value.</summary>
    public static GgufValue Bool(bool value) => new(GgufValueType.Bool, value);
    /// <summary>A string value.</summary>
    public static GgufValue String(string value) => new(GgufValueType.String, value);
    /// <summary>An array of strings.</summary>
    public static GgufValue Strings(IEnumerable<string> values) => new(GgufValueType.Array, values.ToArray(), GgufValueType.String);
    /// <summary>An array of float32.</summary>
    public static GgufValue Float32s(IEnumerable<float> values) => new(GgufValueType.Array, values.ToArray(), GgufValueType.Float32);
    /// <summary>An array of int32.</summary>
    public static GgufValue Int32s(IEnumerable<int> values) => new(GgufValueType.Array, values.ToArray(), GgufValueType.Int32);

    /// <summary>A value of any type as the reader found it; <paramref name="value"/> must be of the matching .NET type.</summary>
    internal static GgufValue Raw(GgufValueType type, object value, GgufValueType elementType) => new(type, value, elementType);

    /// <summary>The string, or an exception naming <paramref name="key"/>.</summary>
    public string AsString(string key = "value") =>
        Value as string ?? throw Wrong(key, "a string");

    /// <summary>Any integer type widened to long, or an exception naming <paramref name="key"/>.</summary>
    public long AsInteger(string key = "value") => Value switch
    {
        byte v => v, sbyte v => v, ushort v => v, short v => v, uint v => v, int v => v, long v => v,
        ulong v when v <= long.MaxValue => (long)v,
        _ => throw Wrong(key, "an integer"),
    };

    /// <summary>Any numeric type as double, or an exception naming <paramref name="key"/>.</summary>
    public double AsNumber(string key = "value") => Value switch
    {
        float v => v, double v => v,
        byte or sbyte or ushort or short or uint or int or long or ulong => AsInteger(key),
        _ => throw Wrong(key, "a number"),
    };

    /// <summary>The bool, or an exception naming <paramref name="key"/>.</summary>
    public bool AsBool(string key = "value") => Value is bool b ? b : throw Wrong(key, "a bool");

    /// <summary>An array of strings, or an exception naming <paramref name="key"/>.</summary>
    public IReadOnlyList<string> AsStrings(string key = "value") => Value as string[] ?? throw Wrong(key, "an array of strings");

    /// <summary>An array of any numeric type as doubles, or an exception naming <paramref name="key"/>.</summary>
    public IReadOnlyList<double> AsNumbers(string key = "value") => Value switch
    {
        float[] a => a.Select(v => (double)v).ToArray(),
        double[] a => a,
        Array a when Type == GgufValueType.Array && ElementType is not (GgufValueType.String or GgufValueType.Bool or GgufValueType.Array) =>
            a.Cast<object>().Select(v => Convert.ToDouble(v, System.Globalization.CultureInfo.InvariantCulture)).ToArray(),
        _ => throw Wrong(key, "an array of numbers"),
    };

    /// <inheritdoc/>
    public override string ToString() => Value is Array a ? $"{ElementType}[{a.Length}]" : $"{Type} {Value}";

    InvalidDataException Wrong(string key, string wanted) =>
        new($"GGUF metadata '{key}' should be {wanted}, found {(Type == GgufValueType.Array ? $"an array of {ElementType}" : Type.ToString())}");
}
