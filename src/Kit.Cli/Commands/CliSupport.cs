using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Serialization;
using Kit.Models;

namespace Kit.Cli.Commands;

/// <summary>Options and plumbing shared by the verbs.</summary>
internal static class CliSupport
{
    public static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        // Enums by name, as kit_compression.json writes them: "Gptq", not 1.
        Converters = { new JsonStringEnumConverter() },
    };

    const string ModelDescription = "A model folder (config.json + safetensors + tokenizer), a hub id such as HuggingFaceTB/SmolLM2-135M, 'default' (Kit's own) or 'stories260K' (llama2.c's, bundled)";

    /// <summary>The model of a verb that only shows or tries a model, which may fall back to Kit's default one.</summary>
    public static Option<string> ModelOption() => new("--model", "-m")
    {
        Description = ModelDescription, DefaultValueFactory = _ => DefaultModel.Name,
    };

    /// <summary>
    /// The model of a verb that writes or measures: required, so that a forgotten <c>--model</c> is an error
    /// rather than a quiet run on the toy default model.
    /// </summary>
    public static Option<string> RequiredModelOption() => new("--model", "-m") { Description = ModelDescription, Required = true };

    /// <summary>The global <c>--verbose</c>: errors also print the whole exception (stack trace, inner exceptions).</summary>
    public static readonly Option<bool> Verbose = new("--verbose")
    {
        Description = "On an error, also print the full exception with its stack trace", Recursive = true,
    };

    /// <summary>Set from <see cref="Verbose"/> once the command line is parsed.</summary>
    public static bool ShowStackTraces { get; set; }

    public static Option<string> DeviceOption() => new("--device")
    {
        Description = "cpu, cuda, cuda:N or auto", DefaultValueFactory = _ => "auto",
    };

    public static Option<string> DTypeOption() => new("--dtype")
    {
        Description = "auto, float32, bfloat16, float16 or float64", DefaultValueFactory = _ => "auto",
    };

    public static Option<bool> JsonOption() => new("--json") { Description = "Print one JSON object with the results" };

    /// <summary>Runs a verb, turning exceptions into one clear line on stderr and exit code 1.</summary>
    public static int Run(Func<int> action)
    {
        try { return action(); }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Console.Error.WriteLine($"kit: error: {e.Message}");
            if (ShowStackTraces) Console.Error.WriteLine(e);
            return 1;
        }
    }

    /// <summary>Runs an asynchronous verb with <see cref="Run"/>'s error handling; cancellation (Ctrl+C, SIGTERM) ends it with exit code 0.</summary>
    public static async Task<int> RunAsync(Func<Task<int>> action)
    {
        try { return await action(); }
        catch (OperationCanceledException) { return 0; }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Console.Error.WriteLine($"kit: error: {e.Message}");
            if (ShowStackTraces) Console.Error.WriteLine(e);
            return 1;
        }
    }

    /// <summary>Whether <paramref name="option"/> was typed on the command line (not merely defaulted).</summary>
    public static bool Given(ParseResult r, Option option) => r.GetResult(option) is { Implicit: false };

    /// <summary>
    /// Refuses an option that was given but that <paramref name="ignored"/> says this combination would not use:
    /// the message names the option as typed (<c>--bits 4</c>) and <paramref name="why"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The option was given and would be ignored.</exception>
    public static void RejectIgnored(ParseResult r, Option option, bool ignored, string why)
    {
        if (!ignored || r.GetResult(option) is not { Implicit: false } given) return;
        string typed = string.Join(' ', given.Tokens.Select(t => t.Value).Prepend(option.Name));
        throw new ArgumentException($"{typed} {why}");
    }

    /// <summary>--prefill: how packed weight-only layers multiply a prompt.</summary>
    public static Option<string> PrefillOption() => new("--prefill")
    {
        Description = "How weight-only quantized layers multiply prompts: int8 (activations per 32-value block, as decode), "
            + "bfloat16 (libtorch's matmul; fast on Intel AMX) or auto (bfloat16 where the CPU has AMX)",
        DefaultValueFactory = _ => "auto",
    };

    /// <summary>The value of <see cref="PrefillOption"/> as <see cref="ModelLoadOptions.BFloat16Prefill"/>.</summary>
    /// <exception cref="ArgumentException">Not auto, int8 or bfloat16.</exception>
    public static bool? ParsePrefill(string value) => value switch
    {
        "auto" => null,
        "int8" => false,
        "bfloat16" => true,
        _ => throw new ArgumentException($"--prefill must be auto, int8 or bfloat16, got '{value}'"),
    };

    /// <summary>Loads a model for a verb, with a download bar on stderr unless <paramref name="quiet"/>.</summary>
    public static LanguageModel LoadModel(string model, string device, string dtype, bool quiet, bool exactActivations = false, bool? bfloat16Prefill = null)
    {
        var options = new ModelLoadOptions { Device = device, DType = dtype, ExactActivations = exactActivations, BFloat16Prefill = bfloat16Prefill };
        if (quiet) return LanguageModel.Load(model, options);
        return TerminalProgress.StandardError().Run(scope =>
        {
            ProgressLine? download = null;
            return LanguageModel.Load(model, options with
            {
                DownloadProgress = new SyncProgress<Kit.Models.Hub.DownloadProgress>(p =>
                    (download ??= scope.Line("download")).Report(p.BytesTotal is > 0 ? p.BytesDone / (double)p.BytesTotal.Value : 0, p.File)),
            });
        });
    }

    public static void PrintJson(object value) => Console.WriteLine(JsonSerializer.Serialize(value, Json));
}
