using System.CommandLine;
using Kit.Benchmarks.Serving;
using Kit.Evaluation.Results;
using Kit.Reports;

namespace Kit.Cli.Commands;

/// <summary>
/// <c>kit bench serve</c>: load on an OpenAI-compatible server from concurrent streaming clients, timed as the clients
/// see it, into the results table.
/// </summary>
internal static class BenchServeCommand
{
    public static Command Create()
    {
        var endpoint = new Option<string>("--endpoint") { Description = "The server's address, such as http://127.0.0.1:8000 (Kit's kit serve, vLLM, llama.cpp's server)", Required = true };
        var clients = new Option<string>("--clients") { Description = "Concurrent clients; a comma-separated list runs one load per count", DefaultValueFactory = _ => "1" };
        var requests = new Option<int>("--requests") { Description = "Requests in all per load, shared by the clients", DefaultValueFactory = _ => 8 };
        var promptTokens = new Option<int>("--prompt-tokens") { Description = "About this many prompt tokens: as many random common words, each new per request", DefaultValueFactory = _ => 128 };
        var maxTokens = new Option<int>("--max-tokens") { Description = "max_tokens of each request (a model that ends early generates fewer; the counts say so)", DefaultValueFactory = _ => 64 };
        var model = new Option<string?>("--model", "-m") { Description = "The model to ask for (default: the first GET /v1/models lists)" };
        var apiKey = new Option<string?>("--api-key") { Description = "Sent as Authorization: Bearer" };
        var seed = new Option<int>("--seed") { Description = "Seed of the prompts' words", DefaultValueFactory = _ => 0 };
        var timeout = new Option<double>("--timeout") { Description = "Seconds one request may take before it counts as an error", DefaultValueFactory = _ => 300 };
        var runs = new Option<string>("--runs") { Description = "Folder of the results table (results.csv, results.parquet) the rows are appended to", DefaultValueFactory = _ => "runs" };
        var json = CliSupport.JsonOption();
        var command = new Command("serve", "Load an OpenAI-compatible server with concurrent streaming clients: time to first token, inter-token latency, request and token throughput, errors")
        { endpoint, clients, requests, promptTokens, maxTokens, model, apiKey, seed, timeout, runs, json };
        command.SetAction(r => CliSupport.Run(() =>
        {
            if (!Uri.TryCreate(r.GetValue(endpoint), UriKind.Absolute, out var uri))
                throw new ArgumentException($"--endpoint: '{r.GetValue(endpoint)}' is not an absolute address like http://127.0.0.1:8000");
            var counts = r.GetValue(clients)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(s => int.TryParse(s, out int n) ? n : throw new ArgumentException($"--clients: '{s}' is not a whole number")).ToArray();
            if (counts.Length == 0) throw new ArgumentException("--clients: give at least one count");
            var loads = counts.Select(n => new ServeLoadOptions
            {
                Endpoint = uri, Clients = n, Requests = r.GetValue(requests), PromptTokens = r.GetValue(promptTokens), MaxTokens = r.GetValue(maxTokens),
                Model = r.GetValue(model), ApiKey = r.GetValue(apiKey), Seed = r.GetValue(seed), RequestTimeout = TimeSpan.FromSeconds(r.GetValue(timeout)),
            }.Validated()).ToArray();

            var time = DateTime.UtcNow;
            string runId = $"{time:yyyyMMdd-HHmmss}-{Guid.NewGuid().ToString("N")[..6]}";
            var results = new List<ServeLoadResult>();
            foreach (var load in loads)
            {
                Console.Error.WriteLine($"{load.Clients} client{(load.Clients == 1 ? "" : "s")}, {load.Requests} requests of ~{load.PromptTokens} prompt tokens and max_tokens {load.MaxTokens} to {uri}");
                // The model looked up once is asked for by every later load.
                var result = ServeLoadGenerator.RunAsync(load with { Model = load.Model ?? results.FirstOrDefault()?.Model }, Console.Error.WriteLine)
                    .GetAwaiter().GetResult();
                results.Add(result);
            }
            string folder = r.GetValue(runs)!;
            ResultsTable.Append(folder, results.SelectMany(x => ServeRecords.From(x, runId, time)));
            string table = Path.Combine(folder, ResultsTable.CsvFile);
            if (r.GetValue(json)) CliSupport.PrintJson(new { run_id = runId, results_table = table, runs = results });
            else
            {
                Console.WriteLine(Tables.Serve(results).ToText());
                foreach (var x in results.Where(x => x.Errors > 0))
                    Console.WriteLine($"{x.Clients} client{(x.Clients == 1 ? "" : "s")}: {x.Errors} of {x.Requests} requests failed; first: {string.Join(" | ", x.FirstErrors)}");
                var counted = results.FirstOrDefault(x => x.ServerPromptTokens is not null);
                if (counted is not null) Console.WriteLine($"prompts: {counted.PromptTokens} words, {counted.ServerPromptTokens:F0} tokens on average as the server counted them");
                Console.WriteLine($"run {runId}: {results.Count * ServeRecords.Metrics.Count} rows appended to {table}");
            }
            return results.All(x => x.Succeeded > 0) ? 0 : 1;
        }));
        return command;
    }
}
