using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;

namespace Kit.Tests.Benchmarks.Serving;

/// <summary>
/// A minimal OpenAI-compatible server on 127.0.0.1 for the load generator's tests: <c>GET /v1/models</c> and streamed
/// <c>POST /v1/completions</c> whose tokens leave at known times — the first <see cref="FirstTokenMs"/> after the request
/// arrived, then one every <see cref="InterTokenMs"/> (deadlines from the arrival, so delays do not add up).
/// </summary>
internal sealed class FakeOpenAiServer : IDisposable
{
    readonly HttpListener listener = new();
    readonly Task loop;
    int received;

    public FakeOpenAiServer(double firstTokenMs, double interTokenMs, int tokens, string? apiKey = null, bool reportUsage = true,
        Func<int, bool>? fails = null)
    {
        (FirstTokenMs, InterTokenMs, Tokens, ApiKey, ReportUsage, Fails) = (firstTokenMs, interTokenMs, tokens, apiKey, reportUsage, fails ?? (_ => false));
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        int port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        Endpoint = new Uri($"http://127.0.0.1:{port}/");
        listener.Prefixes.Add(Endpoint.ToString());
        listener.Start();
        loop = Task.Run(AcceptAsync);
    }

    public Uri Endpoint { get; }
    public double FirstTokenMs { get; }
    public double InterTokenMs { get; }
    public int Tokens { get; }
    public string? ApiKey { get; }
    public bool ReportUsage { get; }
    public Func<int, bool> Fails { get; }
    /// <summary>The completion requests' bodies, as received.</summary>
    public List<JsonObject> Bodies { get; } = new();

    async Task AcceptAsync()
    {
        while (listener.IsListening)
        {
            HttpListenerContext context;
            try { context = await listener.GetContextAsync(); }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException) { return; }
            _ = Task.Run(() => HandleAsync(context));
        }
    }

    async Task HandleAsync(HttpListenerContext context)
    {
        var arrived = Stopwatch.StartNew();
        var (request, response) = (context.Request, context.Response);
        try
        {
            if (ApiKey is not null && request.Headers["Authorization"] != $"Bearer {ApiKey}")
            {
                await Json(response, 401, """{"error":{"message":"invalid API key","type":"invalid_request_error","code":"invalid_api_key"}}""");
                return;
            }
            if (request.HttpMethod == "GET" && request.Url!.AbsolutePath == "/v1/models")
            {
                await Json(response, 200, """{"object":"list","data":[{"id":"fake-model","object":"model"}]}""");
                return;
            }
            if (request.HttpMethod != "POST" || request.Url!.AbsolutePath != "/v1/completions")
            {
                await Json(response, 404, """{"error":{"message":"no such route"}}""");
                return;
            }
            var body = JsonNode.Parse(await new StreamReader(request.InputStream).ReadToEndAsync())!.AsObject();
            int index;
            lock (Bodies)
            {
                Bodies.Add(body);
                index = received++;
            }
            if (Fails(index))
            {
                await Json(response, 500, """{"error":{"message":"the model fell over","type":"server_error"}}""");
                return;
            }
            response.StatusCode = 200;
            response.ContentType = "text/event-stream";
            response.SendChunked = true;
            var output = response.OutputStream;
            for (int i = 0; i < Tokens; i++)
            {
                double due = FirstTokenMs + i * InterTokenMs - arrived.Elapsed.TotalMilliseconds;
                if (due > 0) await Task.Delay(TimeSpan.FromMilliseconds(due));
                await Send(output, $$"""{"id":"cmpl-1","object":"text_completion","model":"fake-model","choices":[{"index":0,"text":" w{{i}}","finish_reason":null}]}""");
            }
            int promptWords = body["prompt"]!.GetValue<string>().Split(' ').Length;
            if (ReportUsage)
                await Send(output, $$$"""{"id":"cmpl-1","object":"text_completion","model":"fake-model","choices":[],"usage":{"prompt_tokens":{{{promptWords + 1}}},"completion_tokens":{{{Tokens}}},"total_tokens":{{{promptWords + 1 + Tokens}}}}}""");
            await Send(output, "[DONE]");
            response.Close();
        }
        catch (Exception e) when (e is HttpListenerException or IOException or ObjectDisposedException)
        {
            // The client went away: nothing to answer.
        }
    }

    static async Task Send(Stream output, string data)
    {
        await output.WriteAsync(Encoding.UTF8.GetBytes($"data: {data}\n\n"));
        await output.FlushAsync();
    }

    static async Task Json(HttpListenerResponse response, int status, string body)
    {
        response.StatusCode = status;
        response.ContentType = "application/json";
        var bytes = Encoding.UTF8.GetBytes(body);
        response.ContentLength64 = bytes.Length;
        await response.OutputStream.WriteAsync(bytes);
        response.Close();
    }

    public void Dispose()
    {
        listener.Stop();
        listener.Close();
        loop.Wait(TimeSpan.FromSeconds(5));
    }
}
