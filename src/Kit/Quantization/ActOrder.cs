namespace Kit.Quantization;

/// <summary>The order in which GPTQ visits a weight's input columns ("act-order", AutoGPTQ's desc_act).</summary>
public enum ActOrder
{
    /// <summary>Columns in their stored order.</summary>
    None,

    /// <summary>
    /// Columns by decreasing diag(H), with every group's grid fitted beforehand on the stored layout, so that
    /// g_idx stays the identity: llm-compressor's default <c>"static"</c> (alias <c>"weight"</c>), the
    /// reference's <c>actorder</c> with <c>static_groups</c>.
    /// </summary>
    Static,

    /// <summary>
    /// Columns by decreasing diag(H), with groups formed in that order as GPTQ reaches them, so that
    /// g_idx[perm[j]] = j / group size: AutoGPTQ's desc_act, llm-compressor's <c>"group"</c> (<c>"dynamic"</c>).
    /// </summary>
    Group,
}

/// <summary>Act-order names as llm-compressor and compressed-tensors spell them.</summary>
public static class ActOrders
{
    /// <summary>
    /// Reads an act-order name as compressed-tensors' <c>ActivationOrdering</c> does, case-insensitively:
    /// <c>static</c> or its alias <c>weight</c>; <c>group</c> or its alias <c>dynamic</c>; <c>none</c>,
    /// <c>null</c> or <c>false</c> for off (a YAML <c>null</c> or <c>false</c>); <c>true</c> means group, as there.
    /// Throws <see cref="ArgumentException"/> naming the value and the accepted names.
    /// </summary>
    public static ActOrder Parse(string? name) => name?.Trim().ToLowerInvariant() switch
    {
        null or "" or "none" or "null" or "~" or "false" => ActOrder.None,
        "static" or "weight" => ActOrder.Static,
        "group" or "dynamic" or "true" => ActOrder.Group,
        _ => throw new ArgumentException($"unknown act-order '{name}'; expected static (alias weight), group (alias dynamic) or none"),
    };

    /// <summary>The name compressed-tensors writes (<c>static</c>, <c>group</c>), or null for <see cref="ActOrder.None"/>.</summary>
    public static string? Name(ActOrder order) => order switch
    {
        ActOrder.Static => "static",
        ActOrder.Group => "group",
        _ => null,
    };
}
