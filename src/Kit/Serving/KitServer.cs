using System.Security.Cryptography;
using System.Text;
using Kit.Models;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Kit.Serving;

/// <summary>
/// An OpenAI-compatible HTTP server over one loaded model, as vLLM serves one: <c>GET /v1/models</c>,
/// <c>POST /v1/completions</c>, <c>POST /v1/chat/completions</c> (streaming as server-sent events),
/// <c>GET /health</c> and <c>GET /metrics</c>. Requests share the model through a <see cref="ContinuousBatchScheduler"/>.
/// Runs in-process: a CLI, a notebook or a test starts it, calls it, and stops it.
/// </summary>
public sealed class KitServer : IAsyncDisposable
{
    readonly WebApplication app;
    bool stopped;

    KitServer(WebApplication app, ContinuousBatchScheduler scheduler, string url, string modelName) =>
        (this.app, Scheduler, Url, ModelName) = (app, scheduler, url, modelName);

    /// <summary>The base address, e.g. <c>http://127.0.0.1:8000</c> (the OpenAI base URL is <c>Url + "/v1"</c>).</summary>
    public string Url { get; }
    /// <summary>The model id that requests name.</summary>
    public string ModelName { get; }
    /// <summary>The scheduler that owns the model.</summary>
    public ContinuousBatchScheduler Scheduler { get; }
    /// <summary>What <c>/metrics</c> shows.</summary>
    public ServingMetrics Metrics => Scheduler.Metrics;

    /// <summary>Starts listening; the model is used by the server alone until it is stopped (the caller still owns and disposes it).</summary>
    /// <exception cref="ArgumentException">An option is out of range, or the host is not an IP address or <c>localhost</c>.</exception>
    public static async Task<KitServer> StartAsync(LanguageModel model, ServerOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new ServerOptions();
        options.Validate();
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        // The host that starts the server owns Ctrl+C and SIGTERM (a CLI, a notebook kernel, a test run), not Kestrel's console lifetime.
        builder.Services.AddSingleton<IHostLifetime, CallerLifetime>();
        builder.WebHost.ConfigureKestrel(k => k.Listen(options.Address, options.Port));
        var app = builder.Build();
        var scheduler = new ContinuousBatchScheduler(model, options.MaxBatch);
        string name = options.ModelName ?? model.Source;
        var endpoints = new OpenAiEndpoints(model, scheduler, name, options.ChatTemplate);
        app.Use(async (context, next) =>
        {
            try
            {
                if (options.ApiKey is { } key && context.Request.Path.StartsWithSegments("/v1") && !Authorized(context.Request, key))
                    await OpenAiEndpoints.WriteError(context, new OpenAiError(401, "missing or wrong API key: send 'Authorization: Bearer KEY'", code: "invalid_api_key"));
                else await next(context);
            }
            finally
            {
                string route = context.GetEndpoint() is RouteEndpoint { RoutePattern.RawText: { } raw } && !raw.Contains('*') ? raw : "unmatched";
                scheduler.Metrics.CountRequest(route, context.Response.StatusCode);
            }
        });
        app.MapGet("/health", () => Results.Ok());
        app.MapGet("/metrics", () => Results.Text(scheduler.Metrics.ToPrometheusText(), "text/plain; version=0.0.4; charset=utf-8"));
        app.MapGet("/v1/models", endpoints.Models);
        app.MapPost("/v1/completions", context => endpoints.Complete(context, chat: false));
        app.MapPost("/v1/chat/completions", context => endpoints.Complete(context, chat: true));
        app.MapFallback(context => OpenAiEndpoints.WriteError(context,
            new OpenAiError(404, $"no route {context.Request.Method} {context.Request.Path}", code: "not_found")));
        try { await app.StartAsync(cancellationToken); }
        catch
        {
            await scheduler.DisposeAsync();
            await app.DisposeAsync();
            throw;
        }
        var bound = app.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new KitServer(app, scheduler, bound.TrimEnd('/'), name);
    }

    static bool Authorized(HttpRequest request, string key)
    {
        string given = request.Headers.Authorization.ToString();
        return given.StartsWith("Bearer ", StringComparison.Ordinal)
            && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(given[7..].Trim()), Encoding.UTF8.GetBytes(key));
    }

    /// <summary>Stops accepting requests, fails those still running, and stops the scheduler.</summary>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        if (stopped) return;
        stopped = true;
        await Scheduler.DisposeAsync();
        await app.StopAsync(cancellationToken);
        await app.DisposeAsync();
    }

    /// <summary>Stops the server (<see cref="StopAsync"/>).</summary>
    public async ValueTask DisposeAsync() => await StopAsync();

    sealed class CallerLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;
        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
