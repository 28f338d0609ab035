using System.Globalization;
using YamlDotNet.RepresentationModel;

namespace Kit.Quantization;

/// <summary>
/// Reads recipes written as llm-compressor writes them: stages of modifier groups, each modifier with its
/// arguments, e.g. <c>quant_stage: {quant_modifiers: {GPTQModifier: {scheme: W4A16, ignore: [lm_head]}}}</c>.
/// A SparseGPT modifier together with a quantization modifier means pruning and quantizing in one pass.
/// </summary>
public static class RecipeYaml
{
    static readonly Dictionary<string, CompressionMethod> Modifiers = new()
    {
        ["QuantizationModifier"] = CompressionMethod.Rtn,
        ["GPTQModifier"] = CompressionMethod.Gptq,
        ["SparseGPTModifier"] = CompressionMethod.SparseGpt,
        ["MagnitudePruningModifier"] = CompressionMethod.Magnitude,
        ["WandaPruningModifier"] = CompressionMethod.Wanda,
    };

    static readonly HashSet<string> KnownKeys = new()
    {
        "targets", "ignore", "scheme", "config_groups", "block_size", "dampening_frac", "actorder", "sparsity", "final_sparsity",
        "mask_structure", "sequential_update", "offload_hessians", "preserve_sparsity_mask",
    };

    /// <summary>Reads a recipe file.</summary>
    public static CompressionRecipe Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"recipe not found: {path}", path);
        return Parse(File.ReadAllText(path), path);
    }

    /// <summary>Parses recipe YAML; <paramref name="source"/> names it in errors.</summary>
    public static CompressionRecipe Parse(string yaml, string source = "recipe")
    {
        var stream = new YamlStream();
        try { stream.Load(new StringReader(yaml)); }
        catch (YamlDotNet.Core.YamlException e) { throw new InvalidDataException($"{source}: invalid YAML at line {e.Start.Line}: {e.Message}", e); }
        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is not YamlMappingNode root)
            throw new InvalidDataException($"{source}: expected stages (a mapping) at the top");

        var modifiers = new List<(string Name, YamlMappingNode Args)>();
        foreach (var (stageKey, stage) in root.Children)
        {
            if (stage is not YamlMappingNode groups) throw new InvalidDataException($"{source}: stage '{stageKey}' must be a mapping of modifier groups");
            foreach (var (groupKey, group) in groups.Children)
            {
                if (group is not YamlMappingNode mods) throw new InvalidDataException($"{source}: '{stageKey}.{groupKey}' must be a mapping of modifiers");
                foreach (var (modKey, args) in mods.Children)
                {
                    string name = ((YamlScalarNode)modKey).Value ?? "";
                    if (!Modifiers.ContainsKey(name))
                        throw new InvalidDataException($"{source}: modifier '{name}' is not supported (supported: {string.Join(", ", Modifiers.Keys)})");
                    modifiers.Add((name, args as YamlMappingNode ?? new YamlMappingNode()));
                }
            }
        }
        if (modifiers.Count == 0) throw new InvalidDataException($"{source}: no modifiers found");
        return Combine(modifiers, source);
    }

    static CompressionRecipe Combine(List<(string Name, YamlMappingNode Args)> modifiers, string source)
    {
        var recipe = new CompressionRecipe();
        var pruning = modifiers.Where(m => Modifiers[m.Name] is CompressionMethod.SparseGpt or CompressionMethod.Magnitude or CompressionMethod.Wanda).ToList();
        var quantizing = modifiers.Where(m => Modifiers[m.Name] is CompressionMethod.Rtn or CompressionMethod.Gptq).ToList();
        if (pruning.Count > 1 || quantizing.Count > 1)
            throw new InvalidDataException($"{source}: at most one pruning and one quantization modifier are supported");
        foreach (var (name, args) in modifiers) recipe = Apply(recipe, name, args, source);
        var method = pruning.Count == 1 ? Modifiers[pruning[0].Name] : Modifiers[quantizing[0].Name];
        if (pruning.Count == 1 && quantizing.Count == 1 && method != CompressionMethod.SparseGpt)
            throw new InvalidDataException($"{source}: only SparseGPTModifier can be combined with quantization (it prunes and quantizes in one pass)");
        return (recipe with { Method = method }).Validated();
    }

    static CompressionRecipe Apply(CompressionRecipe recipe, string modifier, YamlMappingNode args, string source)
    {
        foreach (var (keyNode, value) in args.Children)
        {
            string key = ((YamlScalarNode)keyNode).Value ?? "";
            string where = $"{source}: {modifier}.{key}";
            if (!KnownKeys.Contains(key)) throw new InvalidDataException($"{source}: {modifier} has no argument '{key}'");
            recipe = key switch
            {
                "targets" => recipe with { Targets = List(value, where) },
                "ignore" => recipe with { Ignore = List(value, where) },
                "scheme" => WithScheme(recipe, Scalar(value, where), where),
                "config_groups" => WithConfigGroups(recipe, value, where),
                "block_size" => recipe with { BlockSize = (int)Number(value, where) },
                "dampening_frac" => recipe with { DampeningFraction = Number(value, where) },
                "actorder" => recipe with { ActOrder = Scalar(value, where) is "null" or "" or "false" ? "none" : Scalar(value, where) },
                "sparsity" or "final_sparsity" => recipe.Sparsity is { IsNOfM: true } ? recipe : recipe with { Sparsity = Pattern(() => SparsityPattern.Unstructured(Number(value, where)), where) },
                "mask_structure" => WithMask(recipe, Scalar(value, where), where),
                _ => recipe,
            };
        }
        return recipe;
    }

    static CompressionRecipe WithScheme(CompressionRecipe recipe, string scheme, string where)
    {
        try
        {
            return recipe with
            {
                Scheme = scheme.ToUpperInvariant(), Weights = QuantizationPresets.Parse(scheme),
                InputActivations = QuantizationPresets.InputActivations(scheme),
            };
        }
        catch (ArgumentException e) { throw new InvalidDataException($"{where}: {e.Message}", e); }
    }

    static CompressionRecipe WithConfigGroups(CompressionRecipe recipe, YamlNode value, string where)
    {
        if (value is not YamlMappingNode groups || groups.Children.Count != 1 || groups.Children.Values.Single() is not YamlMappingNode group)
            throw new InvalidDataException($"{where}: expected exactly one config group");
        if (group.Children.TryGetValue(new YamlScalarNode("targets"), out var targets)) recipe = recipe with { Targets = List(targets, where) };
        if (!group.Children.TryGetValue(new YamlScalarNode("weights"), out var w) || w is not YamlMappingNode weights)
            throw new InvalidDataException($"{where}: the config group needs 'weights'");
        string Get(string k, string fallback) => weights.Children.TryGetValue(new YamlScalarNode(k), out var n) ? Scalar(n, $"{where}.weights.{k}") : fallback;
        string strategy = Get("strategy", "group");
        var args = new QuantizationArgs
        {
            NumBits = int.Parse(Get("num_bits", "4"), CultureInfo.InvariantCulture),
            Type = Get("type", "int") == "float" ? QuantizationType.Float : QuantizationType.Int,
            Symmetric = Get("symmetric", "true") == "true",
            Strategy = strategy switch
            {
                "tensor" => QuantizationStrategy.Tensor,
                "channel" => QuantizationStrategy.Channel,
                "group" => QuantizationStrategy.Group,
                _ => throw new InvalidDataException($"{where}.weights.strategy: '{strategy}' is not supported (tensor, channel, group)"),
            },
            GroupSize = strategy == "group" ? int.Parse(Get("group_size", "128"), CultureInfo.InvariantCulture) : null,
            Observer = Get("observer", "minmax") == "mse" ? QuantizationObserver.Mse : QuantizationObserver.MinMax,
        };
        if (Get("actorder", "") is { Length: > 0 } order) recipe = recipe with { ActOrder = order };
        return recipe with { Scheme = "custom", Weights = args };
    }

    static CompressionRecipe WithMask(CompressionRecipe recipe, string mask, string where)
    {
        var parts = mask.Split(':');
        if (parts.Length != 2 || !int.TryParse(parts[0], out int n) || !int.TryParse(parts[1], out int m))
            throw new InvalidDataException($"{where}: expected N:M such as 2:4, got '{mask}'");
        return n == 0 && m == 0 ? recipe : recipe with { Sparsity = Pattern(() => SparsityPattern.NOfM(n, m), where) };
    }

    static SparsityPattern Pattern(Func<SparsityPattern> make, string where)
    {
        try { return make(); }
        catch (ArgumentException e) { throw new InvalidDataException($"{where}: {e.Message}", e); }
    }

    static string Scalar(YamlNode node, string where) =>
        node is YamlScalarNode s ? s.Value ?? "" : throw new InvalidDataException($"{where}: expected a single value");

    static double Number(YamlNode node, string where) =>
        double.TryParse(Scalar(node, where), NumberStyles.Float, CultureInfo.InvariantCulture, out var v)
            ? v : throw new InvalidDataException($"{where}: expected a number, got '{Scalar(node, where)}'");

    static IReadOnlyList<string> List(YamlNode node, string where) => node switch
    {
        YamlSequenceNode seq => seq.Children.Select(c => Scalar(c, where)).ToArray(),
        YamlScalarNode s => new[] { s.Value ?? "" },
        _ => throw new InvalidDataException($"{where}: expected a list of names"),
    };
}
