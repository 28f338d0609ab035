using System.CommandLine;
using Kit.Evaluation;
using Kit.Models;
using Kit.Reports;

namespace Kit.Cli.Commands;

/// <summary><c>kit eval</c>: perplexity, zero-shot tasks and agreement with a baseline, appended to the results table.</summary>
internal static class EvalCommand
{
    public static Command Create()
    {
        var model = CliSupport.RequiredModelOption();
        var tasks = new Option<string>("--tasks")
        {
            Description = $"Comma-separated tasks: {string.Join(", ", ModelEvaluation.TaskNames)}",
            DefaultValueFactory = _ => ModelEvaluation.PerplexityTask,
        };
        var baseline = new Option<string?>("--baseline") { Description = "The uncompressed model to compare with: KL divergence and top-1 agreement on the text" };
        var taskData = new Option<string[]>("--task-data")
        {
            Description = "TASK=PATH: read a task's documents from a local Parquet/JSON Lines file or folder (or another hub split) instead of its hub split; repeatable",
            AllowMultipleArgumentsPerToken = true,
        };
        var limit = new Option<int?>("--limit") { Description = "Score only the first N documents of each zero-shot task" };
        var text = new Option<string>("--text")
        {
            Description = "Text for perplexity and agreement: a .txt/.jsonl/.parquet file, a folder, or a hub dataset org/name:config:split",
            DefaultValueFactory = _ => EvaluationText.DefaultSpec,
        };
        var seqLen = new Option<int>("--seq-len") { Description = "Window length in tokens (capped at the model's context)", DefaultValueFactory = _ => 2048 };
        var maxWindows = new Option<int?>("--max-windows") { Description = "Score at most this many windows of the text" };
        var addBos = new Option<string>("--add-bos-token")
        {
            Description = "BOS before a zero-shot task's context, as lm-evaluation-harness's add_bos_token: auto (the tokenizer's configuration, lm-eval's default since v0.4.9.2), true, or false (lm-eval v0.4.0–v0.4.9.1)",
            DefaultValueFactory = _ => "auto",
        };
        var runs = new Option<string>("--runs") { Description = "Folder of the results table (results.csv, results.parquet)", DefaultValueFactory = _ => "runs" };
        var device = CliSupport.DeviceOption();
        var dtype = CliSupport.DTypeOption();
        var json = CliSupport.JsonOption();
        var command = new Command("eval", "Evaluate a model: perplexity, zero-shot tasks, agreement with a baseline")
            { model, tasks, baseline, taskData, limit, addBos, text, seqLen, maxWindows, runs, device, dtype, json };
        command.SetAction(r => CliSupport.Run(() =>
        {
            bool asJson = r.GetValue(json);
            var names = r.GetValue(tasks)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            bool readsText = r.GetValue(baseline) is not null || names.Any(IsPerplexity);
            foreach (Option o in new Option[] { text, seqLen, maxWindows })
                CliSupport.RejectIgnored(r, o, !readsText, $"applies to perplexity and agreement, and the run has neither (--tasks {string.Join(',', names)}, no --baseline)");
            foreach (Option o in new Option[] { limit, addBos })
                CliSupport.RejectIgnored(r, o, names.All(IsPerplexity), "applies to zero-shot tasks, and --tasks names none");
            var options = new EvaluationOptions
            {
                Tasks = names,
                Baseline = r.GetValue(baseline),
                TaskData = ParseTaskData(r.GetValue(taskData) ?? []),
                Limit = r.GetValue(limit),
                AddBosToken = r.GetValue(addBos)!.ToLowerInvariant() switch
                {
                    "auto" => null, "true" => true, "false" => false,
                    var other => throw new ArgumentException($"--add-bos-token must be auto, true or false, got '{other}'"),
                },
                Text = r.GetValue(text)!,
                SeqLen = r.GetValue(seqLen),
                MaxWindows = r.GetValue(maxWindows),
                RunsFolder = r.GetValue(runs),
                Load = new ModelLoadOptions { Device = r.GetValue(device)!, DType = r.GetValue(dtype)!, ExactActivations = true },
            };
            var run = asJson
                ? ModelEvaluation.Run(r.GetValue(model)!, options)
                : TerminalProgress.StandardError().Run(scope =>
                {
                    ProgressLine? step = null;
                    return ModelEvaluation.Run(r.GetValue(model)!, options,
                        new SyncProgress<string>(name =>
                        {
                            step?.Report(1);
                            // The bar carries the step's name; its details (task file, BOS policy) print once above.
                            int details = name.IndexOf(" (", StringComparison.Ordinal);
                            if (details > 0) scope.Log(name);
                            step = scope.Line(details > 0 ? name[..details] : name);
                        }),
                        new SyncProgress<double>(f => step?.Report(f)));
                });
            string? report = options.RunsFolder is { } runsFolder ? EvaluationReport.Write(run, runsFolder) : null;
            if (asJson) CliSupport.PrintJson(new { run.RunId, run.Records, run.Perplexity, run.Agreement, run.LayerErrors, run.Tasks, run.Seconds, Report = report });
            else Print(run, options.RunsFolder, report);
            return 0;
        }));
        return command;
    }

    static void Print(EvaluationRun run, string? runsFolder, string? report)
    {
        Console.Write(Tables.Results(run.Records).ToText());
        if (run.Records.FirstOrDefault(r => r.AddBosToken is not null) is { } scored)
            Console.WriteLine($"zero-shot tasks scored with add_bos_token={scored.AddBosToken}");
        var worst = run.LayerErrors.Where(e => double.IsFinite(e.RelativeError)).OrderByDescending(e => e.RelativeError).Take(3).ToList();
        if (worst.Count > 0)
            Console.WriteLine($"largest layer errors: {string.Join(", ", worst.Select(e => $"{e.Module} {Readable.Number(e.RelativeError)}"))}");
        Console.WriteLine($"run {run.RunId} in {Readable.Seconds(run.Seconds)}" + (runsFolder is null ? "" : $"; appended to {Path.Combine(runsFolder, Kit.Evaluation.Results.ResultsTable.CsvFile)}"));
        if (report is not null) Console.WriteLine($"report: {report}");
    }

    static bool IsPerplexity(string task) => task.Equals(ModelEvaluation.PerplexityTask, StringComparison.OrdinalIgnoreCase);

    static Dictionary<string, string> ParseTaskData(string[] pairs)
    {
        var data = new Dictionary<string, string>();
        foreach (var pair in pairs)
        {
            int at = pair.IndexOf('=');
            if (at <= 0 || at == pair.Length - 1)
                throw new ArgumentException($"--task-data: expected TASK=PATH, got '{pair}'");
            data[pair[..at].Trim().ToLowerInvariant()] = pair[(at + 1)..];
        }
        return data;
    }
}
