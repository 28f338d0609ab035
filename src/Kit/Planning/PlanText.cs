using System.Globalization;
using System.Text;

namespace Kit.Planning;

/// <summary>Lays a <see cref="DeploymentPlan"/> out as the text <c>kit plan</c> prints.</summary>
internal static class PlanText
{
    public static string Format(DeploymentPlan p)
    {
        var s = new StringBuilder();
        s.AppendLine(Inv($"model        {p.Model}{(p.ModelType is null ? "" : $" ({p.ModelType})")}"));
        s.AppendLine(Inv($"parameters   {Count(p.Parameters)}{(p.ActiveParameters is { } a ? $", {Count(a)} active per token ({p.Experts} experts, {p.ExpertsPerToken} per token)" : "")}"));
        s.AppendLine(Inv($"format       {p.Format}: {p.FormatDescription}"));
        s.AppendLine("sizes        decimal GB (1 GB = 10^9 bytes)");
        s.AppendLine();

        s.AppendLine(Inv($"{"component",-16}{"parameters",12}  {"stored as",-9}{"GB",10}"));
        foreach (var c in p.Components)
            s.AppendLine(Inv($"{c.Component,-16}{Count(c.Parameters),12}  {c.StoredAs,-9}{Gb(c.Bytes),10}"));
        long metadata = p.Components.Sum(c => c.MetadataBytes);
        s.AppendLine(Inv($"{"weights",-16}{Count(p.Parameters),12}  {"",-9}{Gb(p.WeightBytes),10}{(metadata > 0 ? $"  (scales etc. {Gb(metadata)})" : "")}"));
        s.AppendLine(Inv($"{"",-16}{"",12}  {"nominal",-9}{Gb(p.NominalWeightBytes),10}  (every parameter at {p.Format})"));
        s.AppendLine();

        if (p.KvCacheBytes is { } kv)
        {
            string windows = p.WindowedLayers > 0 ? $"; {p.WindowedLayers} of {p.Layers} layers keep only their attention window" : "";
            s.AppendLine(Inv($"KV cache     {Gb(kv)} GB: {p.Context} tokens × {p.Batch} sequence{(p.Batch == 1 ? "" : "s")}, {p.KvFormat}, {p.KvBytesPerToken} bytes per token{windows}"));
        }
        else
            s.AppendLine("KV cache     unknown (pass --layers, --kv-heads and --head-dim, or a config)");
        long reserve = p.RuntimeReserveBytes;
        s.AppendLine(Inv($"overhead     {Gb(p.OverheadBytesPerGpu)} GB per GPU: {Gb(p.OverheadBytesPerGpu - reserve)} left free by gpu_memory_utilization {p.GpuMemoryUtilization:0.##} + {Gb(reserve)} runtime reserve (CUDA context, graphs, activations)"));
        s.AppendLine();

        s.AppendLine(Inv($"{$"GPUs × {Gb(p.GpuMemoryBytes)} GB",-18}{"weights",9}{"KV",8}{"overhead",10}{"used",9}  {"fits",-12}{"KV room",9}"));
        foreach (var f in p.Fits)
        {
            string fits = !f.ValidTensorParallel ? "no (heads)" : f.Fits ? "yes" : "no";
            s.AppendLine(Inv($"{f.Gpus,-18}{Gb(f.WeightBytesPerGpu),9}{Gb(f.KvBytesPerGpu),8}{Gb(f.OverheadBytesPerGpu),10}{Gb(f.UsedBytesPerGpu),9}  {fits,-12}{Gb(f.KvRoomBytes),9}"));
        }
        s.AppendLine("(per GPU, except KV room: what is left for more KV cache on all of them)");
        s.AppendLine();

        s.AppendLine(Inv($"minimum by memory   {p.MinimumGpus} GPU{(p.MinimumGpus == 1 ? "" : "s")} (the weights alone fill {p.WeightBytes / (double)p.GpuMemoryBytes:0.00} GPUs)"));
        string stages = p.PipelineParallel > 1 ? Inv($" × pipeline parallel {p.PipelineParallel}") : "";
        string nodes = p.MultiNode ? Inv($" on {p.Nodes} nodes: multi-node") : " on one node";
        s.AppendLine(Inv($"tensor parallel     {p.TensorParallel}{stages} = {p.Gpus} GPU{(p.Gpus == 1 ? "" : "s")}{nodes}"));
        s.AppendLine(Inv($"total               {Gb(p.TotalBytes)} GB (weights + KV cache + overhead on {p.Gpus} GPU{(p.Gpus == 1 ? "" : "s")})"));
        string tokens = p.KvRoomTokens is { } t ? Inv($", {(p.WindowedLayers > 0 ? "at least" : "about")} {t:N0} more tokens") : "";
        s.AppendLine(Inv($"KV room left        {Gb(p.KvRoomBytes)} GB{tokens}"));
        if (p.VllmCommand is { } vllm)
        {
            s.AppendLine();
            s.AppendLine(p.MultiNode ? Inv($"vLLM (on the head node of a Ray cluster over the {p.Nodes} nodes):") : "vLLM:");
            s.AppendLine("  " + vllm);
        }
        foreach (var note in p.Notes) s.AppendLine($"note: {note}");
        return s.ToString().TrimEnd();
    }

    static string Gb(long bytes) => DeploymentPlan.Gb(bytes);

    static string Count(long n) =>
        n >= 1_000_000_000 ? Inv($"{n / 1e9:0.00} B") : n >= 1_000_000 ? Inv($"{n / 1e6:0.00} M") : Inv($"{n:N0}");

    static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
