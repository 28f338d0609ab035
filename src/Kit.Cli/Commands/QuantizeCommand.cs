using System.CommandLine;
using Kit.Calibration;
using Kit.Data;
using Kit.Formats;
using Kit.Quantization;
using Kit.Quantization.Transforms;
using Kit.Reports;

namespace Kit.Cli.Commands;

/// <summary><c>kit quantize</c>: compress a model layer by layer and write the compressed model folder.</summary>
internal static class QuantizeCommand
{
    /// <summary>What the report says where an error needs calibration data that the run did not have.</summary>
    internal const string NotMeasured = "no calibration data: error not measured";

    public static Command Create()
    {
        var model = CliSupport.RequiredModelOption();
        var recipeFile = new Option<FileInfo?>("--recipe") { Description = "An llm-compressor style YAML recipe (instead of --method/--scheme/...)" };
        var method = new Option<string>("--method") { Description = "rtn, gptq, sparsegpt, magnitude or wanda", DefaultValueFactory = _ => "gptq" };
        var scheme = new Option<string?>("--scheme") { Description = $"Weight scheme: {string.Join(", ", QuantizationPresets.Names)}" };
        var bits = new Option<int?>("--bits") { Description = "Bits per weight, 2–8 (default: the scheme's)" };
        var groupSize = new Option<string?>("--group-size") { Description = "Columns per scale, or 'channel' (default: the scheme's)" };
        var observer = new Option<string>("--observer") { Description = "minmax or mse (clipping search)", DefaultValueFactory = _ => "minmax" };
        var sparsity = new Option<double?>("--sparsity") { Description = "Fraction of weights to prune (unstructured)" };
        var pattern = new Option<string?>("--pattern") { Description = "Semi-structured sparsity N:M, e.g. 2:4" };
        var actOrder = new Option<string?>("--act-order") { Description = "GPTQ act-order: static (the default, as llm-compressor; alias weight), group (alias dynamic) or none", Arity = ArgumentArity.ZeroOrOne };
        var damping = new Option<double>("--damping") { Description = "Dampening as a fraction of mean diag H", DefaultValueFactory = _ => 0.01 };
        var blockSize = new Option<int>("--block-size") { Description = "Columns per lazy block", DefaultValueFactory = _ => 128 };
        var ignore = new Option<string[]>("--ignore") { Description = "Modules to leave alone (names or re:regex)", AllowMultipleArgumentsPerToken = true };
        var lmHead = new Option<bool>("--lm-head") { Description = "Compress lm_head too, with the same scheme (by default it is ignored, as in llm-compressor's recipes); not for models whose head is tied to the embeddings" };
        var calibration = new Option<string?>("--calibration") { Description = "Calibration text/JSONL/Parquet file, folder, hub dataset id, or 'generated' (sampled from the model itself)" };
        var samples = new Option<int>("--samples") { Description = "Calibration sequences", DefaultValueFactory = _ => 512 };
        var seqLen = new Option<int>("--seq-len") { Description = "Tokens per calibration sequence", DefaultValueFactory = _ => 2048 };
        var seed = new Option<int>("--seed") { Description = "Calibration sampling seed", DefaultValueFactory = _ => 42 };
        var output = new Option<string>("--out") { Description = "Folder for the compressed model (a .gguf file with --format gguf)", Required = true };
        var format = new Option<string>("--format") { Description = "compressed-tensors (vLLM), dense, or gguf (llama.cpp)", DefaultValueFactory = _ => "compressed-tensors" };
        var overwrite = new Option<bool>("--overwrite") { Description = "Replace --out if it exists (only once the new model is complete)" };
        var resume = new Option<bool>("--resume") { Description = "Continue a killed run from the last layer it finished (kept in OUT.partial); same model, recipe and calibration" };
        var conditionNumber = new Option<bool>("--condition-number") { Description = "Report each Hessian's condition number (a float64 eigen-decomposition per input: slow for wide layers)" };
        var activations = new Option<string>("--activations")
        {
            Description = "Where calibration activations wait between layers, in the model's dtype: auto (memory while they take at most half " +
                "of the available memory, else disk), device, cpu (beside a GPU) or disk (a memory-mapped scratch file beside --out)",
            DefaultValueFactory = _ => "auto",
        };
        var rotate = new Option<string?>("--rotate")
        {
            Description = "Rotate the residual stream and each head's values before quantizing (QuaRot/SpinQuant's R1 and R2, folded into " +
                "the weights): hadamard, random-hadamard (the default when given without a value) or random-matrix",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var awq = new Option<bool>("--awq") { Description = "AWQ: search per-channel scales on the calibration data before rtn or gptq (llm-compressor's AWQModifier, n_grid 20, duo scaling)" };
        var gptaq = new Option<double?>("--gptaq")
        {
            Description = "GPTAQ: GPTQ aimed at the original model's outputs from the compressed model's inputs, with this weight α of the " +
                "asymmetry term (0.25, the reference's, when given without a value); keeps a second copy of the calibration activations",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var smoothQuant = new Option<double?>("--smoothquant") { Description = "SmoothQuant with this migration strength (0.5 in the paper) before quantizing, for W8A8" };
        var device = CliSupport.DeviceOption();
        var json = CliSupport.JsonOption();
        var command = new Command("quantize", "Compress a model with RTN, GPTQ, SparseGPT, magnitude or Wanda, layer by layer")
        {
            model, recipeFile, method, scheme, bits, groupSize, observer, sparsity, pattern, actOrder, damping, blockSize, ignore, lmHead, rotate, awq, smoothQuant, gptaq,
            calibration, samples, seqLen, seed, output, format, overwrite, resume, conditionNumber, activations, device, json,
        };
        command.SetAction(r => CliSupport.Run(() =>
        {
            RejectIgnoredOptions(r);
            bool asJson = r.GetValue(json);
            var recipe = r.GetValue(recipeFile) is { } file ? RecipeYaml.Load(file.FullName) : FromOptions(r);
            if (r.GetValue(ignore) is { Length: > 0 } extra) recipe = recipe with { Ignore = recipe.Ignore.Concat(extra).ToArray() };
            var request = r.GetValue(calibration) is { } spec
                ? new CalibrationRequest(spec, new CalibrationOptions { NumSamples = r.GetValue(samples), SequenceLength = r.GetValue(seqLen), Seed = r.GetValue(seed) })
                : null;
            var saveFormat = r.GetValue(format)!.ToLowerInvariant() switch
            {
                "compressed-tensors" => SaveFormat.CompressedTensors,
                "dense" => SaveFormat.Dense,
                "gguf" => SaveFormat.Gguf,
                var other => throw new ArgumentException($"unknown format '{other}' (use compressed-tensors, dense or gguf)"),
            };
            var placement = r.GetValue(activations)!.ToLowerInvariant() switch
            {
                "auto" => ActivationPlacement.Auto,
                "device" => ActivationPlacement.Device,
                "cpu" => ActivationPlacement.Host,
                "disk" => ActivationPlacement.Disk,
                var other => throw new ArgumentException($"--activations must be auto, device, cpu or disk, got '{other}'"),
            };
            var sequential = new SequentialOptions
            {
                Device = r.GetValue(device)!, Overwrite = r.GetValue(overwrite), Resume = r.GetValue(resume),
                HessianConditionNumbers = r.GetValue(conditionNumber), Activations = placement,
            };
            var report = asJson
                ? ModelExport.CompressAndSave(r.GetValue(model)!, r.GetValue(output)!, saveFormat, recipe, request, sequential)
                : TerminalProgress.StandardError().Run(scope =>
                {
                    var layers = scope.Line("compressing");
                    string layer = "";
                    var progress = new SyncProgress<CompressionProgress>(p =>
                    {
                        if (p.Module is null) layer = p.Describe();
                        else scope.Log(p.Describe());
                        layers.Report(p.Fraction, layer);
                    });
                    return ModelExport.CompressAndSave(r.GetValue(model)!, r.GetValue(output)!, saveFormat, recipe, request, sequential, progress, scope.Log);
                });
            if (asJson) CliSupport.PrintJson(report);
            else
            {
                var measured = report.Modules.Where(m => m.RelativeError is not null).Select(m => m.RelativeError!.Value).ToList();
                string error = measured.Count > 0 ? $"mean relative error {Readable.Number(measured.Average())}" : NotMeasured;
                Console.WriteLine($"compressed {report.Modules.Count} modules in {Readable.Seconds(report.Seconds)} ({error}, " +
                    $"peak memory {Readable.Bytes(report.PeakAnonymousBytes)} held, {Readable.Bytes(report.PeakWorkingSetBytes)} resident with the mapped checkpoint" +
                    (report.PeakGpuBytes is long gpu ? $", {Readable.Bytes(gpu)} on the GPU" : "") +
                    (report.Activations == ActivationPlacement.Disk ? ", activations on disk" : "") + $"); wrote {report.OutputFolder}");
                if (report.LayerTimes.Count > 1)
                    Console.WriteLine($"{report.LayerTimes.Count} layers: {Readable.Seconds(report.LayerTimes.Average(l => l.Seconds))} each on average, " +
                        $"{Readable.Seconds(report.LayerTimes.Min(l => l.Seconds))}–{Readable.Seconds(report.LayerTimes.Max(l => l.Seconds))}");
                if (SmoothingSummary(report) is { } smoothing) Console.WriteLine(smoothing);
            }
            return 0;
        }));
        return command;

        // What AWQ or SmoothQuant did, in one line: how many mappings were scaled and, for AWQ, what that won over rounding alone.
        static string? SmoothingSummary(CompressionReport report)
        {
            var mappings = report.Smoothing;
            if (mappings.Count == 0) return null;
            if (report.Recipe.Smoothing is SmoothQuantOptions sq)
                return $"SmoothQuant: strength {sq.Strength} folded into {mappings.Count} mappings";
            var scaled = mappings.Where(m => m.Ratio is not null).ToList();
            double error = mappings.Sum(m => m.Error), unscaled = mappings.Sum(m => m.UnscaledError);
            string ratios = scaled.Count == 0 ? "" : $", α {scaled.Min(m => m.Ratio!.Value):0.##}–{scaled.Max(m => m.Ratio!.Value):0.##}";
            return $"AWQ: scaled {scaled.Count} of {mappings.Count} mappings{ratios}; their Linears' output error " +
                $"{(unscaled > 0 ? Readable.Percent(1 - error / unscaled) : "0 %")} below rounding without scales";
        }

        // Options that this combination would not use are errors, so that a typo'd recipe does not quietly run another one.
        void RejectIgnoredOptions(ParseResult r)
        {
            bool fromRecipe = r.GetValue(recipeFile) is not null;
            foreach (Option o in new Option[] { method, scheme, bits, groupSize, observer, sparsity, pattern, actOrder, damping, blockSize, lmHead, rotate, awq, smoothQuant, gptaq })
                CliSupport.RejectIgnored(r, o, fromRecipe, "does not combine with --recipe: the recipe sets the method and its settings (write it there)");
            if (fromRecipe) return;
            string m = r.GetValue(method)!.ToLowerInvariant();
            string schemeHint = m switch
            {
                "magnitude" or "wanda" => $"; {m} prunes only (use sparsegpt with --scheme to prune and quantize together)",
                "sparsegpt" => "; without one, sparsegpt prunes only",
                _ => "",
            };
            foreach (Option o in new Option[] { bits, groupSize, observer })
                CliSupport.RejectIgnored(r, o, r.GetValue(scheme) is null, $"needs a quantization scheme (--scheme, e.g. W4A16) to change{schemeHint}");
            foreach (Option o in new Option[] { damping, blockSize })
                CliSupport.RejectIgnored(r, o, m is not ("gptq" or "sparsegpt"), $"applies to gptq and sparsegpt (their Hessian solve), not {m}");
            foreach (Option o in new Option[] { samples, seqLen, seed })
                CliSupport.RejectIgnored(r, o, r.GetValue(calibration) is null, "shapes calibration data; give --calibration too");
        }

        CompressionRecipe FromOptions(ParseResult r)
        {
            var m = r.GetValue(method)!.ToLowerInvariant() switch
            {
                "rtn" => CompressionMethod.Rtn,
                "gptq" => CompressionMethod.Gptq,
                "sparsegpt" => CompressionMethod.SparseGpt,
                "magnitude" => CompressionMethod.Magnitude,
                "wanda" => CompressionMethod.Wanda,
                var other => throw new ArgumentException($"unknown method '{other}' (use rtn, gptq, sparsegpt, magnitude or wanda)"),
            };
            QuantizationArgs? weights = null;
            string? name = r.GetValue(scheme);
            if (name is not null)
            {
                weights = QuantizationPresets.Parse(name);
                if (r.GetValue(bits) is int b) weights = weights with { NumBits = b };
                if (r.GetValue(groupSize) is { } g)
                    weights = g.Equals("channel", StringComparison.OrdinalIgnoreCase)
                        ? weights with { Strategy = QuantizationStrategy.Channel, GroupSize = null }
                        : int.TryParse(g, out int size) && size > 0
                            ? weights with { Strategy = QuantizationStrategy.Group, GroupSize = size }
                            : throw new ArgumentException($"--group-size must be a positive number or 'channel', got '{g}'");
                weights = r.GetValue(observer)!.ToLowerInvariant() switch
                {
                    "minmax" => weights,
                    "mse" => weights with { Observer = QuantizationObserver.Mse },
                    var other => throw new ArgumentException($"unknown observer '{other}' (use minmax or mse)"),
                };
            }
            if (r.GetValue(sparsity) is not null && r.GetValue(pattern) is not null)
                throw new ArgumentException("give either --sparsity or --pattern, not both");
            SparsityPattern? prune = r.GetValue(pattern) is { } p ? SparsityPattern.Parse(p)
                : r.GetValue(sparsity) is double s ? SparsityPattern.Unstructured(s) : null;
            if (r.GetValue(awq) && r.GetValue(smoothQuant) is not null)
                throw new ArgumentException("give either --awq or --smoothquant, not both: each rescales the same channels");
            SmoothingOptions? smoothing = r.GetValue(awq) ? new AwqOptions()
                : r.GetValue(smoothQuant) is double alpha ? new SmoothQuantOptions { Strength = alpha } : null;
            RotationOptions? rotation = r.GetResult(rotate) is null ? null
                : new RotationOptions { Kind = RotationKinds.Parse(r.GetValue(rotate) ?? "random-hadamard") };
            bool actOrderGiven = r.GetResult(actOrder) is not null;
            if (actOrderGiven && m != CompressionMethod.Gptq)
                throw new ArgumentException($"--act-order is a GPTQ setting; --method {r.GetValue(method)} visits no column order");
            return new CompressionRecipe
            {
                Method = m, Scheme = name?.ToUpperInvariant(), Weights = weights,
                InputActivations = name is null ? null : QuantizationPresets.InputActivations(name),
                Sparsity = prune, DampeningFraction = r.GetValue(damping), BlockSize = r.GetValue(blockSize),
                ActOrder = m == CompressionMethod.Gptq ? ActOrders.Parse(r.GetValue(actOrder) ?? "static") : ActOrder.None,
                Ignore = r.GetValue(lmHead) ? [] : new CompressionRecipe().Ignore,
                Rotation = rotation, Smoothing = smoothing,
                AsymmetricCalibration = r.GetResult(gptaq) is null ? null : r.GetValue(gptaq) ?? Gptaq.DefaultStrength,
            }.Validated();
        }
    }
}
