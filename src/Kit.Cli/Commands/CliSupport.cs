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
    };

    public static Option<string> ModelOption() => new("--model", "-m")
    {
        Description = "A model folder (config.json + safetensors + tokenizer), a hub id such as HuggingFaceTB/SmolLM2-135M, 'default' (Kit's own) or 'stories260K' (llama2.c's, bundled)",
        DefaultValueFactory = _ => DefaultModel.Name,
    };

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
            return 1;
        }
    }

    public static LanguageModel LoadModel(string model, string device, string dtype, bool quiet, bool exactActivations = false)
    {
        var progress = quiet ? null : new ConsoleProgress("download");
        return LanguageModel.Load(model, new ModelLoadOptions
        {
            Device = device,
            DType = dtype,
            ExactActivations = exactActivations,
            DownloadProgress = progress is null ? null : new SyncProgress<Kit.Models.Hub.DownloadProgress>(p =>
                progress.Report(p.File, p.BytesTotal is > 0 ? p.BytesDone / (double)p.BytesTotal.Value : 0)),
        });
    }

    public static void PrintJson(object value) => Console.WriteLine(JsonSerializer.Serialize(value, Json));
}
