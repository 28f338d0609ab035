using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Kit.Calibration;
using Kit.Data;
using Kit.Evaluation;
using Kit.Evaluation.Agreement;
using Kit.Evaluation.Tasks;
using Kit.Inference;
using Kit.Models;
using Kit.Quantization;
using Kit.Evaluation.Results;
using Kit.Reports;
using Kit.Reports.Charts;

namespace Kit.Tour;

/// <summary>What one tour found.</summary>
/// <param name="Model">The model that was toured.</param>
/// <param name="LoadMs">Milliseconds to load it.</param>
/// <param name="Prompt">The generation prompt.</param>
/// <param name="Generation">Its greedy continuation with timings.</param>
/// <param name="PerplexityText">The text perplexity was measured on.</param>
/// <param name="Perplexity">Perplexity on that text.</param>
/// <param name="Compressed">The same model compressed with GPTQ to 4 bits, measured the same way.</param>
/// <param name="ReportFolder">Where report.md, report.html and report.json were written.</param>
public sealed record TourReport(ModelSummary Model, double LoadMs, string Prompt, GenerationResult Generation,
    string PerplexityText, PerplexityResult Perplexity, CompressedTour Compressed, string ReportFolder);

/// <summary>The compressed leg of the tour.</summary>
/// <param name="Recipe">How it was compressed.</param>
/// <param name="Folder">The compressed-tensors folder written.</param>
/// <param name="CompressSeconds">Time to compress.</param>
/// <param name="WeightBytes">Bytes its weights hold in memory (packed).</param>
/// <param name="Generation">Its greedy continuation of the same prompt.</param>
/// <param name="Perplexity">Its perplexity on the same text.</param>
/// <param name="Agreement">Its next-token agreement with the dense model on the same text (KL divergence, top-1).</param>
/// <param name="DenseStories">The dense model's scores on Kit's offline story-completion task (kit_stories).</param>
/// <param name="CompressedStories">The compressed model's scores on the same task.</param>
public sealed record CompressedTour(string Recipe, string Folder, double CompressSeconds, long WeightBytes,
    GenerationResult Generation, PerplexityResult Perplexity, AgreementResult Agreement, TaskResult DenseStories, TaskResult CompressedStories);

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
        var compressed = CompressLeg(lm, model, Path.Combine(folder, "gptq-w4a16"), prompt, textPath, log);
        log?.Invoke($"weights: {summary.WeightBytes / 1048576.0:F2} MiB dense, {compressed.WeightBytes / 1048576.0:F2} MiB packed");
        var report = new TourReport(summary, loadMs, prompt, generation, textPath, ppl, compressed, Path.GetFullPath(folder));
        File.WriteAllText(Path.Combine(folder, "report.json"), JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true }));
        File.WriteAllText(Path.Combine(folder, "report.md"), ToMarkdown(report));
        ToHtml(report).Write(Path.Combine(folder, "report.html"));
        log?.Invoke("\n" + Comparison(report).ToText());
        log?.Invoke($"report: {Path.Combine(report.ReportFolder, "report.md")} and report.html (charts, opens offline)");
        return report;
    }

    // GPTQ W4A16 with one scale per output row (every layer width allows it), calibrated on text the model
    // writes itself so that the tour needs no corpus, saved as compressed-tensors and loaded packed.
    static CompressedTour CompressLeg(LanguageModel dense, string model, string folder, string prompt, string textPath, Action<string>? log)
    {
        var recipe = new CompressionRecipe
        {
            Method = CompressionMethod.Gptq, Scheme = "W4A16",
            Weights = QuantizationPresets.W4A16 with { Strategy = QuantizationStrategy.Channel, GroupSize = null },
        };
        log?.Invoke("\ncompressing with GPTQ W4A16 (per channel), calibrated on 32 sequences the model writes itself:");
        var report = ModelCompression.Compress(model, folder, recipe,
            new CalibrationRequest(GeneratedCalibration.SourceName, new CalibrationOptions { NumSamples = 32, SequenceLength = 128, Seed = 0 }),
            new SequentialOptions());
        // Exact activations: the accuracy figures describe the checkpoint as vLLM serves it.
        using var lm = LanguageModel.Load(folder, new ModelLoadOptions { ExactActivations = true });
        var generation = lm.Generate(prompt, new GenerationOptions { MaxNewTokens = 80 });
        log?.Invoke(prompt + generation.Text);
        int seqLen = Math.Min(256, dense.Config.MaxPositionEmbeddings);
        // The comparison with the dense model scores the compressed one on the same windows as its perplexity.
        var agreement = ModelAgreement.Measure(dense, lm, File.ReadAllText(textPath), seqLen);
        var ppl = agreement.AsCandidatePerplexity();
        log?.Invoke($"perplexity {ppl.Value:F3} after compression ({report.Seconds:F1} s to compress)");
        log?.Invoke($"agreement with the dense model: KL {agreement.MeanKl:F4} nats/token, top-1 {agreement.Top1Agreement:P1} of {agreement.Positions} positions");
        var stories = TaskRegistry.Load(TaskRegistry.KitStories);
        var denseStories = TaskScorer.Score(dense, stories);
        var compressedStories = TaskScorer.Score(lm, stories);
        log?.Invoke($"{TaskRegistry.KitStories} acc_norm: dense {denseStories.Metrics[TaskMetrics.AccNorm].Value:P0}, compressed {compressedStories.Metrics[TaskMetrics.AccNorm].Value:P0} of {stories.ReadDocuments().Count()}");
        return new CompressedTour("GPTQ W4A16 per channel", Path.GetFullPath(folder), report.Seconds, lm.Model.WeightBytes, generation, ppl,
            agreement, denseStories, compressedStories);
    }

    static string Score(TaskResult result, string metric) =>
        $"{Tables.MetricValue(metric, result.Metrics[metric].Value)} ± {Tables.MetricValue(metric, result.Metrics[metric].StdErr)}";

    /// <summary>The dense and compressed models side by side: perplexity, weights, speed and task scores, formatted for reading.</summary>
    public static ReadableTable Comparison(TourReport r)
    {
        var rows = new List<(string Measure, string Dense, string Compressed)>
        {
            ("perplexity", Readable.Number(r.Perplexity.Value), Readable.Number(r.Compressed.Perplexity.Value)),
            ("weights in memory", Readable.Bytes(r.Model.WeightBytes), Readable.Bytes(r.Compressed.WeightBytes)),
            ("time to first token", Readable.Milliseconds(r.Generation.TimeToFirstTokenMs), Readable.Milliseconds(r.Compressed.Generation.TimeToFirstTokenMs)),
            ("decode speed", Readable.TokensPerSecond(r.Generation.TokensPerSecond), Readable.TokensPerSecond(r.Compressed.Generation.TokensPerSecond)),
        };
        foreach (var metric in new[] { TaskMetrics.Acc, TaskMetrics.AccNorm })
            rows.Add(($"{TaskRegistry.KitStories} {metric} (± stderr)", Score(r.Compressed.DenseStories, metric), Score(r.Compressed.CompressedStories, metric)));
        return ReadableTable.Of(rows,
            (new TableColumn(""), x => x.Measure),
            (new TableColumn("dense", Numeric: true), x => x.Dense),
            (new TableColumn(r.Compressed.Recipe, Numeric: true), x => x.Compressed));
    }

    /// <summary>
    /// The report as a self-contained HTML page: the same text and tables as <see cref="ToMarkdown"/>, with charts of
    /// the task scores, perplexity, weight sizes and the compressed model's per-Linear errors.
    /// </summary>
    public static HtmlReport ToHtml(TourReport r)
    {
        var html = new HtmlReport("Kit tour");
        html.Heading("Model").Preformatted(r.Model.ToText()).Paragraph($"Loaded in {Readable.Milliseconds(r.LoadMs)}.");
        html.Heading("Generation (greedy)").Preformatted(r.Prompt + r.Generation.Text);
        html.Heading($"Compressed: {r.Compressed.Recipe}").Preformatted(r.Prompt + r.Compressed.Generation.Text);
        html.Table(Comparison(r));
        html.Paragraph($"Agreement with the dense model on {Path.GetFileName(r.PerplexityText)}: KL divergence {Readable.Number(r.Compressed.Agreement.MeanKl)} nats per token, "
            + $"same most likely next token at {Readable.Percent(r.Compressed.Agreement.Top1Agreement)} of {Readable.Count(r.Compressed.Agreement.Positions)} positions.");
        var records = TourRecords(r);
        html.Chart(AccuracyCharts.TaskScores(records)).Chart(AccuracyCharts.Perplexity(records));
        html.Chart(SpeedCharts.Memory(
        [
            new SpeedRow("dense", 1, 0, r.Generation.TimeToFirstTokenMs, double.NaN, r.Generation.TokensPerSecond, r.Generation.TokensPerSecond,
                r.Generation.TokensPerSecond, null, r.Model.WeightBytes),
            new SpeedRow(r.Compressed.Recipe, 1, 0, r.Compressed.Generation.TimeToFirstTokenMs, double.NaN, r.Compressed.Generation.TokensPerSecond,
                r.Compressed.Generation.TokensPerSecond, r.Compressed.Generation.TokensPerSecond, null, r.Compressed.WeightBytes),
        ]));
        html.Chart(AccuracyCharts.LayerErrors(LayerErrors.Read(r.Compressed.Folder)));
        return html;
    }

    // The tour's scores as results-table rows, so that the same chart builders as kit eval's draw them.
    static List<EvaluationRecord> TourRecords(TourReport r)
    {
        var rows = new List<EvaluationRecord>();
        var time = DateTime.UtcNow;
        void Add(string model, string task, string metric, double value, double stdErr, long count) =>
            rows.Add(new EvaluationRecord("tour", time, model, null, task, metric, value, stdErr, count, null));
        foreach (var (model, stories, ppl) in new[] { ("dense", r.Compressed.DenseStories, r.Perplexity), (r.Compressed.Recipe, r.Compressed.CompressedStories, r.Compressed.Perplexity) })
        {
            Add(model, "perplexity", "perplexity", ppl.Value, double.NaN, ppl.PredictedTokens);
            foreach (var (metric, value) in stories.Metrics) Add(model, stories.Task, metric, value.Value, value.StdErr, stories.Count);
        }
        Add(r.Compressed.Recipe, "agreement", "top1_agreement", r.Compressed.Agreement.Top1Agreement, r.Compressed.Agreement.Top1StdErr, r.Compressed.Agreement.Positions);
        return rows;
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
        sb.AppendLine($"{r.Perplexity.Value:F3} on `{Path.GetFileName(r.PerplexityText)}` ({r.Perplexity.PredictedTokens} predicted tokens, {r.Perplexity.Windows} windows).").AppendLine();
        sb.AppendLine($"## Compressed: {r.Compressed.Recipe}").AppendLine();
        sb.AppendLine($"> {r.Prompt}{r.Compressed.Generation.Text.Replace("\n", "\n> ")}").AppendLine();
        sb.Append(Comparison(r).ToMarkdown());
        sb.AppendLine().AppendLine($"Agreement with the dense model on the same text: KL divergence {r.Compressed.Agreement.MeanKl:F4} ± {r.Compressed.Agreement.KlStdErr:F4} nats per token (largest {r.Compressed.Agreement.MaxKl:F3}), "
            + $"same most likely next token at {r.Compressed.Agreement.Top1Agreement:P1} of {r.Compressed.Agreement.Positions} positions.");
        return sb.ToString();
    }
}
