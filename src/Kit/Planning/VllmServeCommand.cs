using System.Globalization;
using System.Text.RegularExpressions;

namespace Kit.Planning;

/// <summary>
/// The <c>vllm serve</c> command line for a planned deployment: tensor-parallel size, pipeline stages and context as
/// the planner decided them, so that the folder Kit saved runs on the GPUs it sized. Options are added only where
/// the plan departs from vLLM's defaults (an fp8 KV cache, a GPU memory fraction other than 0.9).
/// </summary>
public static partial class VllmServeCommand
{
    /// <summary>vLLM's default <c>--gpu-memory-utilization</c>.</summary>
    public const double DefaultGpuMemoryUtilization = 0.9;

    /// <summary>The command line; <paramref name="model"/> (a folder or hub id) is quoted for a POSIX shell when it needs to be.</summary>
    public static string Format(string model, int tensorParallel, int pipelineParallel, long context, string kvFormat, double gpuMemoryUtilization)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(model);
        var line = string.Create(CultureInfo.InvariantCulture,
            $"vllm serve {Quote(model)} --tensor-parallel-size {tensorParallel} --pipeline-parallel-size {pipelineParallel} --max-model-len {context}");
        // vLLM's --kv-cache-dtype auto stores the cache in the model's dtype: only fp8 needs saying.
        if (kvFormat == "fp8") line += " --kv-cache-dtype fp8";
        if (gpuMemoryUtilization != DefaultGpuMemoryUtilization)
            line += string.Create(CultureInfo.InvariantCulture, $" --gpu-memory-utilization {gpuMemoryUtilization:0.###}");
        return line;
    }

    static string Quote(string word) => SafeWord().IsMatch(word) ? word : "'" + word.Replace("'", "'\\''") + "'";

    [GeneratedRegex(@"^[A-Za-z0-9_./:@+=-]+$")]
    private static partial Regex SafeWord();
}
