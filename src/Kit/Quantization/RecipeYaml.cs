using YamlDotNet.RepresentationModel;
using Kit.Quantization.Transforms;
using static Kit.Quantization.YamlValues;

namespace Kit.Quantization;

/// <summary>
/// Reads recipes written as llm-compressor writes them: stages of modifier groups, each modifier with its
/// arguments, e.g. <c>quant_stage: {quant_modifiers: {GPTQModifier: {scheme: W4A16, ignore: [lm_head]}}}</c>.
/// Values are typed as PyYAML and pydantic type them (<c>symmetric: True</c> is a boolean, <c>actorder: null</c>
/// is off). Modifiers run in recipe order, each with its own targets, ignore list, block size and damping:
/// a pruning modifier followed by a quantization modifier prunes first and then quantizes the pruned weights
/// with the mask kept; a <c>QuantizationModifier</c> followed by a <c>GPTQModifier</c> without a config of its own
/// runs GPTQ on the QuantizationModifier's scheme, as llm-compressor does. Modifiers, keys and schemes Kit does
/// not implement are refused by name rather than ignored.
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

    // Modifiers that transform the model before its weights are quantized (Kit's CompressionRecipe.Rotation and Smoothing).
    static readonly string[] TransformModifiers = ["AWQModifier", "SmoothQuantModifier", "SpinQuantModifier", "QuIPModifier"];

    static readonly string[] QuantizationKeys = ["targets", "ignore", "scheme", "config_groups"];
    static readonly Dictionary<string, string[]> KnownKeys = new()
    {
        ["QuantizationModifier"] = QuantizationKeys,
        ["GPTQModifier"] = [.. QuantizationKeys, "block_size", "dampening_frac", "actorder", "offload_hessians"],
        ["SparseGPTModifier"] = ["targets", "ignore", "sparsity", "mask_structure", "block_size", "dampening_frac", "sequential_update", "offload_hessians", "preserve_sparsity_mask"],
        ["WandaPruningModifier"] = ["targets", "ignore", "sparsity", "mask_structure"],
        ["MagnitudePruningModifier"] = ["targets", "ignore", "final_sparsity", "mask_structure"],
    };

    /// <summary>One modifier as read: its own settings, before modifiers are combined.</summary>
    sealed record Modifier(string Name, CompressionMethod Method)
    {
        public bool HasConfig { get; init; }
        public IReadOnlyList<string>? Targets { get; init; }
        public IReadOnlyList<string> Ignore { get; init; } = Array.Empty<string>();
        public string? Scheme { get; init; }
        public QuantizationArgs? Weights { get; init; }
        public string? InputActivations { get; init; }
        public ActOrder? GroupActOrder { get; init; }
        public bool ModifierActOrderGiven { get; init; }
        public ActOrder ModifierActOrder { get; init; }
        public int BlockSize { get; init; } = 128;
        public double DampeningFraction { get; init; } = 0.01;
        public SparsityPattern? Sparsity { get; init; }
        public bool Prunes => Method is CompressionMethod.SparseGpt or CompressionMethod.Magnitude or CompressionMethod.Wanda;
    }

    /// <summary>Reads a recipe file.</summary>
    public static CompressionRecipe Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"recipe not found: {path}", path);
        return Parse(File.ReadAllText(path), path);
    }

    /// <summary>Parses recipe YAML; <paramref name="source"/> names it in errors.</summary>
    /// <exception cref="InvalidDataException">Bad YAML, a bad value (the message names the field and the value), or a modifier, key or scheme Kit does not implement.</exception>
    public static CompressionRecipe Parse(string yaml, string source = "recipe")
    {
        var stream = new YamlStream();
        try { stream.Load(new StringReader(yaml)); }
        catch (YamlDotNet.Core.YamlException e) { throw new InvalidDataException($"{source}: invalid YAML at line {e.Start.Line}: {e.Message}", e); }
        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is not YamlMappingNode root)
            throw new InvalidDataException($"{source}: expected stages (a mapping) at the top");

        var modifiers = new List<Modifier>();
        RotationOptions? rotation = null;
        SmoothingOptions? smoothing = null;
        foreach (var (stageKey, stage) in root.Children)
        {
            if (stage is not YamlMappingNode groups) throw new InvalidDataException($"{source}: stage '{stageKey}' must be a mapping of modifier groups");
            foreach (var (groupKey, group) in groups.Children)
            {
                if (group is not YamlMappingNode mods) throw new InvalidDataException($"{source}: '{stageKey}.{groupKey}' must be a mapping of modifiers");
                foreach (var (modKey, args) in mods.Children)
                {
                    string name = Text(modKey, $"{source}: '{stageKey}.{groupKey}'");
                    if (TransformModifiers.Contains(name))
                    {
                        if (modifiers.Count > 0)
                            throw new InvalidDataException($"{source}: {name} after {modifiers[^1].Name}: Kit transforms the model before it compresses any weight, so put {name} first");
                        ReadTransform(name, args, $"{source}: {name}", ref rotation, ref smoothing, modifiers);
                        continue;
                    }
                    if (!Modifiers.TryGetValue(name, out var method))
                        throw new InvalidDataException($"{source}: modifier '{name}' is not supported by Kit (supported: {string.Join(", ", Modifiers.Keys.Concat(TransformModifiers.Where(t => t != "QuIPModifier")))})");
                    modifiers.Add(Read(name, method, args, $"{source}: {name}"));
                }
            }
        }
        if (modifiers.Count == 0)
            throw new InvalidDataException(rotation is null && smoothing is null
                ? $"{source}: no modifiers found"
                : $"{source}: a rotation or smoothing modifier prepares weights for quantization; add a quantization modifier (QuantizationModifier or GPTQModifier) with a scheme");
        try { return (Combine(modifiers, source) with { Rotation = rotation, Smoothing = smoothing }).Validated(); }
        catch (ArgumentException e) { throw new InvalidDataException($"{source}: {e.Message}", e); }
    }

    static Modifier Read(string name, CompressionMethod method, YamlNode args, string where)
    {
        var m = new Modifier(name, method);
        foreach (var (key, value) in Entries(args, where, KnownKeys[name]))
        {
            string at = $"{where}.{key}";
            m = key switch
            {
                "targets" => m with { Targets = Names(value, at), HasConfig = true },
                "ignore" => m with { Ignore = IsNull(value) ? Array.Empty<string>() : Names(value, at), HasConfig = true },
                "scheme" => IsNull(value) ? m : WithScheme(m, value, at),
                "config_groups" => IsNull(value) ? m : WithConfigGroups(m, value, at),
                "block_size" => m with { BlockSize = Int(value, at) },
                "dampening_frac" => m with { DampeningFraction = Number(value, at) },
                "actorder" => m with { ModifierActOrderGiven = true, ModifierActOrder = ReadActOrder(value, at) },
                "sparsity" or "final_sparsity" => m.Sparsity is { IsNOfM: true } ? m : m with { Sparsity = Pattern(() => SparsityPattern.Unstructured(Number(value, at)), at) },
                "mask_structure" => WithMask(m, Text(value, at), at),
                "preserve_sparsity_mask" => Bool(value, at)
                    ? throw new InvalidDataException($"{at}: true (keeping a mask the model already has) is not supported; Kit prunes dense models")
                    : m,
                // Memory and scheduling switches that do not change the result.
                "offload_hessians" or "sequential_update" => Unchanged(Bool(value, at), m),
                _ => throw new InvalidDataException($"{at}: not supported"),
            };
        }
        return m;
    }

    static Modifier Unchanged(bool _, Modifier m) => m;

    // The rotation and smoothing modifiers, with llm-compressor's defaults. AWQModifier with a scheme also quantizes
    // (RTN, as llm-compressor's QuantizationMixin does): that part joins the quantization modifiers.
    static void ReadTransform(string name, YamlNode args, string where, ref RotationOptions? rotation, ref SmoothingOptions? smoothing, List<Modifier> modifiers)
    {
        switch (name)
        {
            case "QuIPModifier":
                throw new InvalidDataException($"{where}: QuIP's rotations (u, v) multiply each Linear's inputs and outputs at run time, which needs " +
                    "kernel support in the serving engine; Kit folds rotations into the weights only (SpinQuantModifier with R1, R2)");
            case "SpinQuantModifier":
            {
                if (rotation is not null) throw new InvalidDataException($"{where}: the model is rotated once; give one SpinQuantModifier");
                string type = "hadamard";
                bool randomize = false;
                IReadOnlyList<string> rotations = ["R1", "R2"];
                foreach (var (key, value) in Entries(args, where, ["rotations", "transform_type", "randomize", "learnable", "precision", "transform_block_size"]))
                {
                    string at = $"{where}.{key}";
                    switch (key)
                    {
                        case "rotations": rotations = Names(value, at).Select(r => r.ToUpperInvariant()).ToList(); break;
                        case "transform_type": type = Text(value, at).ToLowerInvariant(); break;
                        case "randomize": randomize = Bool(value, at); break;
                        case "learnable":
                            if (Bool(value, at)) throw new InvalidDataException($"{at}: true (SpinQuant's trained rotations) is not supported; Kit's rotations are fixed");
                            break;
                        case "precision": break; // the dtype the rotation is applied in; Kit multiplies in float64 always
                        default:
                            if (!IsNull(value)) throw new InvalidDataException($"{at}: block-diagonal rotations are not supported; Kit rotates the whole hidden size");
                            break;
                    }
                }
                var online = rotations.Where(r => r is "R3" or "R4").ToList();
                if (online.Count > 0)
                    throw new InvalidDataException($"{where}.rotations: {string.Join(", ", online)} rotate activations at run time (online), which needs kernel support; Kit folds R1 and R2 into the weights");
                var unknown = rotations.Where(r => r is not ("R1" or "R2")).ToList();
                if (unknown.Count > 0) throw new InvalidDataException($"{where}.rotations: unknown rotation(s) {string.Join(", ", unknown)} (R1, R2)");
                if (!rotations.Contains("R1")) throw new InvalidDataException($"{where}.rotations: Kit rotates the residual stream (R1) whenever it rotates; R2 alone is not supported");
                var kind = type switch
                {
                    "hadamard" => randomize ? RotationKind.RandomHadamard : RotationKind.Hadamard,
                    "random-hadamard" => RotationKind.RandomHadamard,
                    "random-matrix" => RotationKind.RandomMatrix,
                    _ => throw new InvalidDataException($"{where}.transform_type: '{type}' is not supported (hadamard, random-hadamard, random-matrix)"),
                };
                rotation = new RotationOptions { Kind = kind, RotateHeads = rotations.Contains("R2") };
                break;
            }
            case "SmoothQuantModifier":
            {
                if (smoothing is not null) throw new InvalidDataException($"{where}: give one smoothing modifier (AWQ or SmoothQuant)");
                var options = new SmoothQuantOptions();
                foreach (var (key, value) in Entries(args, where, ["smoothing_strength", "mappings", "ignore", "num_calibration_steps"]))
                {
                    string at = $"{where}.{key}";
                    options = key switch
                    {
                        "smoothing_strength" => options with { Strength = Number(value, at) },
                        "mappings" => IsNull(value) ? options : throw CustomMappings(at),
                        "ignore" => IsNull(value) || Names(value, at).Count == 0 ? options : throw new InvalidDataException($"{at}: Kit smooths every decoder layer; an ignore list is not supported"),
                        _ => IsNull(value) ? options : throw new InvalidDataException($"{at}: Kit calibrates on every sample it is given; limit them with --samples"),
                    };
                }
                smoothing = options;
                break;
            }
            default:
            {
                if (smoothing is not null) throw new InvalidDataException($"{where}: give one smoothing modifier (AWQ or SmoothQuant)");
                var options = new AwqOptions();
                var quantization = new List<(YamlNode Key, YamlNode Value)>();
                foreach (var (key, value) in Entries(args, where, [.. QuantizationKeys, "n_grid", "duo_scaling", "mappings", "offload_device", "sequential_targets"]))
                {
                    string at = $"{where}.{key}";
                    switch (key)
                    {
                        case "n_grid": options = options with { Grid = Int(value, at) }; break;
                        case "duo_scaling":
                            options = options with
                            {
                                DuoScaling = IsBool(value, out bool duo) ? duo ? AwqDuoScaling.Duo : AwqDuoScaling.ActivationsOnly
                                    : Text(value, at).ToLowerInvariant() == "both" ? AwqDuoScaling.Both
                                    : throw new InvalidDataException($"{at}: expected true, false or both, got '{Text(value, at)}'"),
                            };
                            break;
                        case "mappings": if (!IsNull(value)) throw CustomMappings(at); break;
                        case "offload_device" or "sequential_targets": break; // where and how llm-compressor schedules; no effect on the result
                        default: quantization.Add((new YamlScalarNode(key), value)); break;
                    }
                }
                smoothing = options;
                // With a scheme of its own, AWQModifier also quantizes the weights (round to nearest), as llm-compressor's does.
                if (quantization.Count > 0)
                {
                    var node = new YamlMappingNode(quantization.Select(e => new KeyValuePair<YamlNode, YamlNode>(e.Key, e.Value)));
                    var m = Read("QuantizationModifier", CompressionMethod.Rtn, node, where) with { Name = name };
                    if (m.Weights is not null) modifiers.Add(m);
                    else if (m.HasConfig) throw new InvalidDataException($"{where}: targets or ignore without a scheme; give AWQModifier a scheme, or put them on the quantization modifier that follows");
                }
                break;
            }
        }
    }

    static InvalidDataException CustomMappings(string where) =>
        new($"{where}: Kit uses llm-compressor's Llama mappings (input_layernorm → q/k/v, v → o, post_attention_layernorm → gate/up, up → down); custom mappings are not supported");

    static ActOrder ReadActOrder(YamlNode value, string where)
    {
        if (IsNull(value)) return ActOrder.None;
        // compressed-tensors: True means group, False means none; strings are the enum's names.
        if (IsBool(value, out bool b)) return b ? ActOrder.Group : ActOrder.None;
        string text = Text(value, where);
        return text.ToLowerInvariant() is "static" or "weight" or "group" or "dynamic"
            ? ActOrders.Parse(text)
            : throw new InvalidDataException($"{where}: '{text}' is not an act-order (static, weight, group, dynamic or null)");
    }

    static Modifier WithScheme(Modifier m, YamlNode value, string where)
    {
        string scheme;
        var targets = m.Targets;
        if (value is YamlMappingNode map)
        {
            // {W4A16: [Linear]}: a preset with its own targets.
            if (map.Children.Count != 1) throw new InvalidDataException($"{where}: Kit writes one config group; give one preset scheme");
            var (key, t) = map.Children.Single();
            scheme = Text(key, where);
            targets = Names(t, $"{where}.{scheme}");
        }
        else scheme = Text(value, where);
        try
        {
            return m with
            {
                HasConfig = true, Scheme = scheme.Trim().ToUpperInvariant(), Weights = QuantizationPresets.Parse(scheme),
                InputActivations = QuantizationPresets.InputActivations(scheme), Targets = targets,
            };
        }
        catch (ArgumentException e) { throw new InvalidDataException($"{where}: {e.Message}", e); }
    }

    static Modifier WithConfigGroups(Modifier m, YamlNode value, string where)
    {
        if (value is not YamlMappingNode groups || groups.Children.Count != 1)
            throw new InvalidDataException($"{where}: Kit writes exactly one config group, got {(value as YamlMappingNode)?.Children.Count ?? 0}");
        var (nameNode, groupNode) = groups.Children.Single();
        string at = $"{where}.{Text(nameNode, where)}";
        IReadOnlyList<string>? targets = null;
        QuantizationArgs? weights = null;
        ActOrder? actOrder = null;
        string? inputs = null;
        foreach (var (key, v) in Entries(groupNode, at, ["targets", "weights", "input_activations", "output_activations"]))
        {
            string field = $"{at}.{key}";
            switch (key)
            {
                case "targets": targets = Names(v, field); break;
                case "weights": if (!IsNull(v)) (weights, actOrder) = ReadWeights(v, field); break;
                case "input_activations": inputs = IsNull(v) ? null : ReadInputs(v, field); break;
                default:
                    if (!IsNull(v)) throw new InvalidDataException($"{field}: output activation quantization is not supported by Kit");
                    break;
            }
        }
        if (targets is null) throw new InvalidDataException($"{at}: a config group needs 'targets'");
        if (weights is null) throw new InvalidDataException($"{at}: the config group needs 'weights' (Kit quantizes weights)");
        return m with { HasConfig = true, Scheme = "custom", Weights = weights, InputActivations = inputs, GroupActOrder = actOrder, Targets = targets };
    }

    static (QuantizationArgs, ActOrder?) ReadWeights(YamlNode node, string where)
    {
        var args = new QuantizationArgs { GroupSize = null, Strategy = QuantizationStrategy.Tensor };
        string? strategy = null;
        int? groupSize = null;
        ActOrder? actOrder = null;
        foreach (var (key, v) in Entries(node, where, ["num_bits", "type", "symmetric", "strategy", "group_size", "actorder", "observer", "dynamic", "block_structure"]))
        {
            string at = $"{where}.{key}";
            switch (key)
            {
                case "num_bits": args = args with { NumBits = Int(v, at) }; break;
                case "type":
                    args = args with
                    {
                        Type = Text(v, at).ToLowerInvariant() switch
                        {
                            "int" => QuantizationType.Int,
                            "float" => QuantizationType.Float,
                            var other => throw new InvalidDataException($"{at}: '{other}' is not supported (int, float)"),
                        },
                    };
                    break;
                case "symmetric": args = args with { Symmetric = Bool(v, at) }; break;
                case "strategy": strategy = IsNull(v) ? null : Text(v, at).ToLowerInvariant(); break;
                case "group_size": groupSize = IsNull(v) ? null : Int(v, at); break;
                case "actorder": actOrder = IsNull(v) ? null : ReadActOrder(v, at); break;
                case "observer":
                    if (!IsNull(v))
                        args = args with
                        {
                            Observer = Text(v, at).ToLowerInvariant() switch
                            {
                                "minmax" => QuantizationObserver.MinMax,
                                "mse" => QuantizationObserver.Mse,
                                var other => throw new InvalidDataException($"{at}: '{other}' is not supported (minmax, mse)"),
                            },
                        };
                    break;
                case "dynamic":
                    if (!IsNull(v) && Bool(v, at)) throw new InvalidDataException($"{at}: weights are quantized once (dynamic: false), got true");
                    break;
                default:
                    if (!IsNull(v)) throw new InvalidDataException($"{at}: block-quantized weights are not supported by Kit");
                    break;
            }
        }
        // compressed-tensors infers a missing strategy from the group size.
        strategy ??= groupSize switch { null => "tensor", > 0 => "group", -1 => "channel", _ => throw new InvalidDataException($"{where}.group_size: {groupSize} is not a group size (> 0, or -1 for channel)") };
        args = strategy switch
        {
            "tensor" => args with { Strategy = QuantizationStrategy.Tensor },
            "channel" => args with { Strategy = QuantizationStrategy.Channel },
            "group" => args with { Strategy = QuantizationStrategy.Group, GroupSize = groupSize },
            _ => throw new InvalidDataException($"{where}.strategy: '{strategy}' is not supported (tensor, channel, group)"),
        };
        try { return (args.Validated(), actOrder); }
        catch (ArgumentException e) { throw new InvalidDataException($"{where}: {e.Message}", e); }
    }

    // The run-time activation schemes Kit writes and serves: W8A8's and FP8_DYNAMIC's.
    static string ReadInputs(YamlNode node, string where)
    {
        int bits = 8;
        string type = "int", strategy = "tensor";
        bool symmetric = true, dynamic = false;
        foreach (var (key, v) in Entries(node, where, ["num_bits", "type", "symmetric", "strategy", "dynamic", "group_size", "observer", "actorder", "block_structure"]))
        {
            string at = $"{where}.{key}";
            switch (key)
            {
                case "num_bits": bits = Int(v, at); break;
                case "type": type = Text(v, at).ToLowerInvariant(); break;
                case "symmetric": symmetric = Bool(v, at); break;
                case "strategy": strategy = Text(v, at).ToLowerInvariant(); break;
                case "dynamic": dynamic = !IsNull(v) && Bool(v, at); break;
                case "observer": break;
                default:
                    if (!IsNull(v)) throw new InvalidDataException($"{at}: not supported for input activations");
                    break;
            }
        }
        return (bits, type, symmetric, strategy, dynamic) switch
        {
            (8, "int", true, "token", true) => "int8-dynamic-token",
            (8, "float", true, "token", true) => "fp8-dynamic-token",
            _ => throw new InvalidDataException(
                $"{where}: {bits}-bit {type} {(symmetric ? "symmetric" : "asymmetric")} {(dynamic ? "dynamic" : "static")} per-{strategy} activations are not supported; " +
                "Kit writes symmetric dynamic per-token int8 (W8A8) or fp8 (FP8_DYNAMIC) activations"),
        };
    }

    static CompressionRecipe Combine(List<Modifier> modifiers, string source)
    {
        var pruning = modifiers.Where(m => m.Prunes).ToList();
        var quantizing = modifiers.Where(m => !m.Prunes).ToList();
        if (pruning.Count > 1) throw new InvalidDataException($"{source}: Kit runs one pruning modifier, got {string.Join(", ", pruning.Select(p => p.Name))}");
        if (pruning.Count == 1 && quantizing.Count > 0 && modifiers.IndexOf(pruning[0]) > modifiers.IndexOf(quantizing[0]))
            throw new InvalidDataException($"{source}: {pruning[0].Name} after {quantizing[0].Name} would prune quantized weights; put the pruning modifier first");

        PruningStep? step = pruning.Count == 0 ? null : new PruningStep
        {
            Method = pruning[0].Method, Sparsity = pruning[0].Sparsity ?? throw new InvalidDataException($"{source}: {pruning[0].Name} needs 'sparsity'"),
            BlockSize = pruning[0].BlockSize, DampeningFraction = pruning[0].DampeningFraction,
            Targets = pruning[0].Targets ?? ["Linear"], Ignore = pruning[0].Ignore,
        };
        if (quantizing.Count == 0)
            return new CompressionRecipe
            {
                Method = step!.Method, Weights = null, Sparsity = step.Sparsity, BlockSize = step.BlockSize,
                DampeningFraction = step.DampeningFraction, Targets = step.Targets, Ignore = step.Ignore,
            };
        return Quantization(quantizing, source) with { PruneFirst = step };
    }

    static CompressionRecipe Quantization(List<Modifier> quantizing, string source)
    {
        Modifier config, run;
        ActOrder actOrder;
        switch (quantizing.Select(q => q.Method).ToArray())
        {
            case [CompressionMethod.Rtn]:
                (config, run) = (quantizing[0], quantizing[0]);
                actOrder = ActOrder.None;
                break;
            case [CompressionMethod.Gptq]:
                (config, run) = (quantizing[0], quantizing[0]);
                actOrder = GptqActOrder(run, source);
                break;
            case [CompressionMethod.Rtn, CompressionMethod.Gptq]:
                // llm-compressor: a GPTQModifier without a config of its own runs GPTQ on the schemes an earlier
                // modifier attached; its actorder then has no effect, the scheme's own actorder counts.
                (config, run) = (quantizing[0], quantizing[1]);
                if (run.HasConfig || run.Weights is not null)
                    throw new InvalidDataException($"{source}: QuantizationModifier and GPTQModifier both give a quantization config; Kit writes one (give it to one of them)");
                if (run.ModifierActOrderGiven)
                    throw new InvalidDataException($"{source}: GPTQModifier.actorder has no effect when the scheme comes from QuantizationModifier; set actorder in its config_groups weights");
                actOrder = config.GroupActOrder ?? ActOrder.None;
                break;
            default:
                throw new InvalidDataException($"{source}: Kit runs one quantization modifier, or a QuantizationModifier followed by a GPTQModifier; got {string.Join(", ", quantizing.Select(q => q.Name))}");
        }
        if (config.Weights is null)
            throw new InvalidDataException($"{source}: {config.Name} needs a quantization scheme ('scheme' or 'config_groups' with weights)");
        // llm-compressor falls back to no act-order where group act-order meets a strategy without groups.
        if (actOrder == ActOrder.Group && config.Weights.Strategy != QuantizationStrategy.Group) actOrder = ActOrder.None;
        return new CompressionRecipe
        {
            Method = run.Method, Scheme = config.Scheme, Weights = config.Weights, InputActivations = config.InputActivations,
            Targets = config.Targets ?? ["Linear"], Ignore = config.Ignore, ActOrder = actOrder,
            BlockSize = run.BlockSize, DampeningFraction = run.DampeningFraction,
        };
    }

    // GPTQModifier.resolve_actorder: the modifier's value, unset meaning "static unless the scheme says otherwise".
    static ActOrder GptqActOrder(Modifier m, string source)
    {
        if (!m.ModifierActOrderGiven) return m.GroupActOrder ?? ActOrder.Static;
        if (m.GroupActOrder is null || m.GroupActOrder == m.ModifierActOrder) return m.ModifierActOrder;
        throw new InvalidDataException($"{source}: GPTQModifier.actorder ({m.ModifierActOrder}) and the config group's weights.actorder ({m.GroupActOrder}) differ; give one of them");
    }

    static Modifier WithMask(Modifier m, string mask, string where)
    {
        var parts = mask.Split(':');
        if (parts.Length != 2 || !int.TryParse(parts[0], out int n) || !int.TryParse(parts[1], out int k))
            throw new InvalidDataException($"{where}: expected N:M such as 2:4, got '{mask}'");
        return n == 0 && k == 0 ? m : m with { Sparsity = Pattern(() => SparsityPattern.NOfM(n, k), where) };
    }

    static SparsityPattern Pattern(Func<SparsityPattern> make, string where)
    {
        try { return make(); }
        catch (ArgumentException e) { throw new InvalidDataException($"{where}: {e.Message}", e); }
    }
}
