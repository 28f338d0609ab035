using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Kit.Evaluation;
using Kit.Inference;
using Kit.Models;

namespace Kit.Tour;

/// <summary>What one tour found.</summary>
/// <param name="Model">The model that was toured.</param>
/// <param name="LoadMs">Milliseconds to load it.</param>
/// <param name="Prompt">The generation prompt.</param>
/// <param name="Generation">Its greedy continuation with timings.</param>
/// <param name="PerplexityText">The text perplexity was measured on.</param>
/// <param name="Perplexity">Perplexity on that text.</param>
/// <param name="ReportFolder">Where report.md and report.json were written.</param>
public sealed record TourReport(ModelSummary Model, double LoadMs, string Prompt, GenerationResult Generation,
    string PerplexityText, PerplexityResult Perplexity, string ReportFolder);

/// <summary>
/// Kit's main job end to end on one model: load it, generate, measure perplexity, and write a report.
/// Later stages (compression, export, benchmarks) join the tour as they land.
/// </summary>
public static class KitTour
{
    /// <summary>Runs the tour and writes its report under <paramref name="runsFolder"/>/tour-TIMESTAMP.</summary>
    public static TourReport Run(string model = DefaultModel.Name, string? textPath = null, string runsFolder = "runs",
        Action<string>? log = null)
    {
        textPath ??= DefaultModel.HeldOutText;
        var clock = Stopwatch.StartNew();
        using var lm = LanguageModel.Load(model);
        double loadMs = clock.Elapsed.TotalMilliseconds;
        var summary = ModelSummary.Of(lm);
        log?.Invoke(summary.ToText());

        const string prompt = "Once upon a time";
        log?.Invoke($"\ngenerating from \"{prompt}\" (greedy):");
        var generation = lm.Generate(prompt, new GenerationOptions { MaxNewTokens = 80 });
        log?.Invoke(prompt + generation.Text);
        log?.Invoke($"time to first token {generation.TimeToFirstTokenMs:F1} ms, {generation.TokensPerSecond:F1} tokens/s");

        var ppl = lm.PerplexityOfFile(textPath, seqLen: Math.Min(256, lm.Config.MaxPositionEmbeddings));
        log?.Invoke($"\nperplexity on {Path.GetFileName(textPath)}: {ppl.Value:F3} ({ppl.PredictedTokens} tokens)");

        string folder = Path.Combine(runsFolder, "tour-" + DateTime.Now.ToString("yyyyMMdd-HHmmss"));
        Directory.CreateDirectory(folder);
        var report = new TourReport(summary, loadMs, prompt, generation, textPath, ppl, Path.GetFullPath(folder));
        File.WriteAllText(Path.Combine(folder, "report.json"), JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true }));
        File.WriteAllText(Path.Combine(folder, "report.md"), ToMarkdown(report));
        log?.Invoke($"\nreport: {Path.Combine(report.ReportFolder, "report.md")}");
        return report;
    }

    /// <summary>The report as Markdown.</summary>
    public static string ToMarkdown(TourReport r)
    {
        var sb = new StringBuilder();
        sb.AppendLine("# Kit tour").AppendLine();
        sb.AppendLine("## Model").AppendLine().AppendLine("```").AppendLine(r.Model.ToText()).AppendLine("```").AppendLine();
        sb.AppendLine($"Loaded in {r.LoadMs:F0} ms.").AppendLine();
        sb.AppendLine("## Generation (greedy)").AppendLine();
        sb.AppendLine($"> {r.Prompt}{r.Generation.Text.Replace("\n", "\n> ")}").AppendLine();
        sb.AppendLine($"| time to first token | tokens/s | tokens | stop |");
        sb.AppendLine($"| --- | --- | --- | --- |");
        sb.AppendLine($"| {r.Generation.TimeToFirstTokenMs:F1} ms | {r.Generation.TokensPerSecond:F1} | {r.Generation.TokenIds.Count} | {r.Generation.StopReason} |").AppendLine();
        sb.AppendLine("## Perplexity").AppendLine();
        sb.AppendLine($"{r.Perplexity.Value:F3} on `{Path.GetFileName(r.PerplexityText)}` ({r.Perplexity.PredictedTokens} predicted tokens, {r.Perplexity.Windows} windows).");
        return sb.ToString();
    }
}
