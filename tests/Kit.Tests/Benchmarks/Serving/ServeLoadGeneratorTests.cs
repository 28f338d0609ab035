using Xunit.Abstractions;
using Kit.Benchmarks.Serving;
using Kit.Evaluation.Results;
using Kit.Tests.Cli;

namespace Kit.Tests.Benchmarks.Serving;

/// <summary>
/// The load generator against a server whose tokens leave at known times: what it measures must be those delays,
/// and its throughput what the clients' concurrency allows.
/// </summary>
public sealed class ServeLoadGeneratorTests(ITestOutputHelper output)
{
    const double FirstMs = 150, GapMs = 25;
    const int Tokens = 8;

    static ServeLoadOptions Load(FakeOpenAiServer server, int clients, int requests) => new()
    {
        Endpoint = server.Endpoint, Clients = clients, Requests = requests, PromptTokens = 16, MaxTokens = Tokens,
    };

    [Fact]
    public async Task Latencies_and_throughput_are_those_the_server_paces()
    {
        using var server = new FakeOpenAiServer(FirstMs, GapMs, Tokens);

        var x = await ServeLoadGenerator.RunAsync(Load(server, clients: 4, requests: 12));
        output.WriteLine($"TTFT {x.TimeToFirstTokenMs}, ITL {x.InterTokenLatencyMs}, request {x.RequestLatencyMs}, {x.RequestsPerSecond:F2} req/s");

        Assert.Equal(12, x.Succeeded);
        Assert.Equal(0, x.Errors);
        Assert.Equal("fake-model", x.Model);
        // Network and scheduling only add time: on loopback a few ms (measured 152–155 ms), more when other tests load the cores.
        Assert.InRange(x.TimeToFirstTokenMs.P50, FirstMs * 0.97, FirstMs + 60);
        Assert.InRange(x.TimeToFirstTokenMs.P99, FirstMs * 0.97, FirstMs + 150);
        Assert.Equal(12 * (Tokens - 1), x.InterTokenLatencyMs.Count);
        Assert.InRange(x.InterTokenLatencyMs.P50, GapMs * 0.8, GapMs * 1.6);
        // Four clients, each one request at a time of 150 + 7 · 25 = 325 ms: three rounds, 12 requests in 0.975 s at best.
        double request = FirstMs + (Tokens - 1) * GapMs;
        Assert.InRange(x.RequestLatencyMs.P50, request * 0.97, request + 100);
        double ideal = 4 / (request / 1000);
        Assert.InRange(x.RequestsPerSecond, ideal * 0.6, ideal * 1.03);
        Assert.Equal(12L * Tokens, x.GeneratedTokens);
        Assert.Equal(x.RequestsPerSecond * Tokens, x.GeneratedTokensPerSecond, 6);
        // The server counted 16 words and a BOS.
        Assert.Equal(17, x.ServerPromptTokens);
    }

    [Fact]
    public async Task Requests_ask_for_max_tokens_streamed_with_a_prompt_of_the_given_words_after_one_warm_up_per_client()
    {
        using var server = new FakeOpenAiServer(1, 1, 3);

        await ServeLoadGenerator.RunAsync(Load(server, 2, 4) with { Model = "asked-for", PromptTokens = 33 });

        Assert.Equal(6, server.Bodies.Count);
        Assert.Equal(2, server.Bodies.Count(b => b["max_tokens"]!.GetValue<int>() == 1));
        var timed = server.Bodies.Where(b => b["max_tokens"]!.GetValue<int>() == Tokens).ToList();
        Assert.Equal(4, timed.Count);
        Assert.All(server.Bodies, b =>
        {
            Assert.Equal("asked-for", b["model"]!.GetValue<string>());
            Assert.True(b["stream"]!.GetValue<bool>());
        });
        Assert.All(timed, b => Assert.Equal(33, b["prompt"]!.GetValue<string>().Split(' ').Length));
        Assert.Equal(4, timed.Select(b => b["prompt"]!.GetValue<string>()).Distinct().Count());
    }

    [Fact]
    public async Task A_series_runs_each_client_count_with_its_share_of_requests_in_order()
    {
        using var server = new FakeOpenAiServer(1, 1, 3);

        var runs = await ServeLoadGenerator.RunSeriesAsync(Load(server, 1, 1) with { Model = "m" }, [1, 3], requestsPerClient: 2);

        Assert.Equal([1, 3], runs.Select(r => r.Clients));
        Assert.Equal([2, 6], runs.Select(r => r.Succeeded));
        Assert.Equal(1 + 2 + 3 + 6, server.Bodies.Count);   // one warm-up per client, then the timed requests
    }

    [Fact]
    public async Task Without_usage_the_streamed_chunks_are_counted()
    {
        using var server = new FakeOpenAiServer(1, 1, 5, reportUsage: false);

        var x = await ServeLoadGenerator.RunAsync(Load(server, 2, 6));

        Assert.Equal(6L * 5, x.GeneratedTokens);
        Assert.Null(x.ServerPromptTokens);
    }

    [Fact]
    public async Task Server_errors_are_counted_and_the_rest_measured()
    {
        // Every third request (0, 3, 6, 9) gets a 500.
        using var server = new FakeOpenAiServer(1, 1, 4, fails: i => i % 3 == 0);

        var x = await ServeLoadGenerator.RunAsync(Load(server, 3, 12) with { WarmUp = false });

        Assert.Equal(4, x.Errors);
        Assert.Equal(8, x.Succeeded);
        Assert.Equal(8L * 4, x.GeneratedTokens);
        Assert.Equal(8, x.TimeToFirstTokenMs.Count);
        Assert.Equal("HTTP 500 Internal Server Error: the model fell over", Assert.Single(x.FirstErrors));
    }

    [Fact]
    public async Task A_wrong_key_fails_every_request_with_401_and_the_right_key_passes()
    {
        using var server = new FakeOpenAiServer(1, 1, 2, apiKey: "secret");

        var wrong = await ServeLoadGenerator.RunAsync(Load(server, 2, 4) with { Model = "fake-model", ApiKey = "guess" });
        var right = await ServeLoadGenerator.RunAsync(Load(server, 2, 4) with { ApiKey = "secret" });

        Assert.Equal(4, wrong.Errors);
        Assert.Equal(0, wrong.Succeeded);
        Assert.Contains("HTTP 401", wrong.FirstErrors[0]);
        Assert.Contains("invalid API key", wrong.FirstErrors[0]);
        Assert.True(double.IsNaN(wrong.RequestsPerSecond) || wrong.RequestsPerSecond == 0);
        Assert.Equal(4, right.Succeeded);
    }

    [Fact]
    public async Task A_server_that_is_not_there_fails_every_request_with_the_reason()
    {
        var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        probe.Start();
        int port = ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();

        var x = await ServeLoadGenerator.RunAsync(new ServeLoadOptions { Endpoint = new Uri($"http://127.0.0.1:{port}"), Model = "m", Clients = 2, Requests = 3 });

        Assert.Equal(3, x.Errors);
        Assert.Equal(0, x.Succeeded);
        Assert.StartsWith("HttpRequestException:", Assert.Single(x.FirstErrors));
    }

    [Fact]
    public async Task Without_a_model_and_without_a_key_the_model_lookup_says_what_to_do()
    {
        using var server = new FakeOpenAiServer(1, 1, 2, apiKey: "secret");
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => ServeLoadGenerator.RunAsync(Load(server, 1, 1)));
        Assert.Contains("HTTP 401", e.Message);
        Assert.Contains("--model", e.Message);
    }

    [Fact]
    public void Rows_go_into_the_results_table_as_speed_rows_of_task_serve()
    {
        var result = new ServeLoadResult("http://h", "m", 4, 12, 11, 128, 130, 64, 700, 2.0, new Percentiles(100, 150, 199, 11),
            new Percentiles(20, 25, 30, 600), new Percentiles(1000, 1200, 1400, 11), 1, ["HTTP 500"]);
        string runs = TestPaths.NewTempDir();

        ResultsTable.Append(runs, ServeRecords.From(result, "run-1", new DateTime(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc)));
        var rows = ResultsTable.Read(runs);

        Assert.Equal(ServeRecords.Metrics, rows.Select(r => r.Metric));
        Assert.All(rows, r => Assert.Equal((ResultKinds.Speed, "serve", 4, 128, 64, 11L), (r.Kind, r.Task, r.Batch, r.PromptTokens, r.NewTokens, r.Count)));
        Assert.Equal(150, rows.Single(r => r.Metric == "ttft_ms_p90").Value);
        Assert.Equal(350, rows.Single(r => r.Metric == "generated_tokens_per_s").Value);
        Assert.Equal(5.5, rows.Single(r => r.Metric == "requests_per_s").Value);
    }

    [Fact]
    public void Kit_bench_serve_prints_a_table_and_appends_rows()
    {
        using var server = new FakeOpenAiServer(5, 2, 4);
        string work = TestPaths.NewTempDir();

        var r = KitProcess.Run(work, "bench", "serve", "--endpoint", server.Endpoint + "v1", "--clients", "1,2", "--requests", "4",
            "--prompt-tokens", "10", "--max-tokens", "4", "--runs", "runs");

        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains("first token p50 / p90 / p99", r.Stdout);
        Assert.Contains("prompts: 10 words, 11 tokens on average as the server counted them", r.Stdout);
        var rows = ResultsTable.Read(Path.Combine(work, "runs"));
        Assert.Equal(new int?[] { 1, 2 }, rows.Select(x => x.Batch).Distinct());
        Assert.All(rows.Where(x => x.Metric == "generated_tokens"), x => Assert.Equal(16, x.Value));
    }

    [Theory]
    [InlineData("--clients 4 --requests 2", "requests (2) must be at least the number of clients (4)")]
    [InlineData("--clients 0", "clients must be at least 1")]
    [InlineData("--max-tokens 0", "max-tokens must be at least 1")]
    public void Bad_options_fail_with_a_clear_message(string options, string message)
    {
        var r = KitProcess.Run(TestPaths.NewTempDir(), ["bench", "serve", "--endpoint", "http://127.0.0.1:9", .. options.Split(' ')]);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains(message, r.Stderr);
    }
}
