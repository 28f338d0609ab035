using System.CommandLine;
using Kit.Planning;

namespace Kit.Cli.Commands;

/// <summary><c>kit plan</c>: how much GPU memory a model needs in a format, and on how many GPUs it fits.</summary>
internal static class PlanCommand
{
    public static Command Create()
    {
        var model = new Option<string?>("--model", "-m") { Description = "A model folder with config.json, a config.json file, or a hub id (only config.json is downloaded)" };
        var parameters = new Option<string?>("--params") { Description = "A parameter count instead of a config: 109e9, 109B, 400M" };
        var format = new Option<string>("--format") { Description = $"Weight format: {string.Join(", ", WeightFormat.Names)}", DefaultValueFactory = _ => "bf16" };
        var groupSize = new Option<string?>("--group-size") { Description = "Columns per scale, 'channel' or 'tensor' (default: 128 for int4, channel for int8 and fp8)" };
        var asymmetric = new Option<bool>("--asymmetric") { Description = "Integer weights with zero points (default: symmetric, as GPTQ W4A16)" };
        var actOrder = new Option<bool>("--act-order") { Description = "Count GPTQ act-order group indices (g_idx, int32 per input column)" };
        var context = new Option<long?>("--context") { Description = "Tokens per sequence in the KV cache (default: 8192, or the model's limit if smaller)" };
        var batch = new Option<long>("--batch") { Description = "Sequences held at once", DefaultValueFactory = _ => 1 };
        var kvFormat = new Option<string?>("--kv-format") { Description = "KV cache dtype: bf16, fp16 or fp8 (default: fp16 with fp16 weights, else bf16)" };
        var fullKv = new Option<bool>("--full-kv") { Description = "Count every layer at the full context, also sliding-window and chunked-attention layers" };
        var gpuMemory = new Option<double>("--gpu-memory") { Description = "GB per GPU (decimal, 10^9 bytes)", DefaultValueFactory = _ => 80 };
        var utilization = new Option<double>("--gpu-memory-utilization") { Description = "Fraction of each GPU the engine may use (vLLM's default)", DefaultValueFactory = _ => 0.9 };
        var reserve = new Option<double>("--runtime-reserve") { Description = "GB per GPU for CUDA context, graphs and activations", DefaultValueFactory = _ => 2 };
        var gpusPerNode = new Option<int>("--gpus-per-node") { Description = "GPUs in one node", DefaultValueFactory = _ => 8 };
        var layers = new Option<int?>("--layers") { Description = "With --params: decoder layers, for the KV cache" };
        var kvHeads = new Option<int?>("--kv-heads") { Description = "With --params: key/value heads per layer" };
        var headDim = new Option<int?>("--head-dim") { Description = "With --params: values per head" };
        var json = CliSupport.JsonOption();
        var command = new Command("plan", "Size a deployment: weight, KV cache and overhead memory, and how many GPUs it needs")
        {
            model, parameters, format, groupSize, asymmetric, actOrder, context, batch, kvFormat, fullKv, gpuMemory, utilization, reserve,
            gpusPerNode, layers, kvHeads, headDim, json,
        };
        command.SetAction(r => CliSupport.Run(() =>
        {
            var footprint = (r.GetValue(model), r.GetValue(parameters)) switch
            {
                ({ } m, null) => FootprintLoader.LoadAsync(m).GetAwaiter().GetResult(),
                (null, { } n) => ModelFootprint.FromParameterCount(ParameterCount.Parse(n), Layout(r.GetValue(layers), r.GetValue(kvHeads), r.GetValue(headDim))),
                _ => throw new ArgumentException("give either --model or --params"),
            };
            if (r.GetValue(model) is not null && (r.GetValue(layers) ?? r.GetValue(kvHeads) ?? r.GetValue(headDim)) is not null)
                throw new ArgumentException("--layers, --kv-heads and --head-dim go with --params; a config gives them");
            var weights = WeightFormat.Parse(r.GetValue(format)!, r.GetValue(groupSize)) with
            {
                Symmetric = !r.GetValue(asymmetric),
                ActOrder = r.GetValue(actOrder),
            };
            foreach (Option o in new Option[] { groupSize, asymmetric, actOrder })
                CliSupport.RejectIgnored(r, o, !weights.IsQuantized, $"applies to quantized formats (int4, int8, fp8), not {weights.Name}");
            var plan = DeploymentPlan.Create(footprint, new PlanOptions
            {
                Format = weights,
                KvFormat = r.GetValue(kvFormat)?.ToLowerInvariant(),
                Context = r.GetValue(context) ?? Math.Min(8192, footprint.MaxContext ?? 8192),
                Batch = r.GetValue(batch),
                GpuMemoryGb = r.GetValue(gpuMemory),
                GpuMemoryUtilization = r.GetValue(utilization),
                RuntimeReserveGb = r.GetValue(reserve),
                GpusPerNode = r.GetValue(gpusPerNode),
                CapWindowedLayers = !r.GetValue(fullKv),
            });
            if (r.GetValue(json)) CliSupport.PrintJson(plan);
            else Console.WriteLine(plan.ToText());
            return 0;
        }));
        return command;
    }

    static AttentionLayout? Layout(int? layers, int? kvHeads, int? headDim)
    {
        if (layers is null && kvHeads is null && headDim is null) return null;
        if (layers is not { } l || kvHeads is not { } k || headDim is not { } d)
            throw new ArgumentException("the KV cache needs all of --layers, --kv-heads and --head-dim");
        return AttentionLayout.Uniform(l, k, d);
    }
}
