using System.CommandLine;
using System.Runtime.InteropServices;
using Kit.Models.Tokenizers;
using Kit.Serving;

namespace Kit.Cli.Commands;

/// <summary><c>kit serve</c>: an OpenAI-compatible endpoint over a model, until Ctrl+C or SIGTERM.</summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        var model = CliSupport.RequiredModelOption();
        var host = new Option<string>("--host") { Description = "Address to bind (0.0.0.0 exposes the server to the network)", DefaultValueFactory = _ => "127.0.0.1" };
        var port = new Option<int>("--port") { Description = "TCP port; 0 picks a free one", DefaultValueFactory = _ => 8000 };
        var apiKey = new Option<string?>("--api-key") { Description = "Require 'Authorization: Bearer KEY' on /v1 requests" };
        var maxBatch = new Option<int>("--max-batch") { Description = "Most sequences decoded together", DefaultValueFactory = _ => 8 };
        var name = new Option<string?>("--served-model-name") { Description = "The model id clients send (default: --model as given)" };
        var chatTemplate = new Option<string?>("--chat-template")
        {
            Description = $"Chat format when the model has no chat template: {string.Join(", ", Enum.GetNames<ChatTemplateFamily>())}",
        };
        var device = CliSupport.DeviceOption();
        var dtype = CliSupport.DTypeOption();
        var prefill = CliSupport.PrefillOption();
        var command = new Command("serve", "Serve the model over an OpenAI-compatible HTTP API (as vLLM does) until Ctrl+C")
        {
            model, host, port, apiKey, maxBatch, name, chatTemplate, device, dtype, prefill,
        };
        command.SetAction((r, cancelled) => CliSupport.RunAsync(async () =>
        {
            var options = new ServerOptions
            {
                Host = r.GetValue(host)!, Port = r.GetValue(port), ApiKey = r.GetValue(apiKey), MaxBatch = r.GetValue(maxBatch),
                ModelName = r.GetValue(name), ChatTemplate = ParseFamily(r.GetValue(chatTemplate)),
            };
            options.Validate();
            using var lm = CliSupport.LoadModel(r.GetValue(model)!, r.GetValue(device)!, r.GetValue(dtype)!, quiet: false,
                bfloat16Prefill: CliSupport.ParsePrefill(r.GetValue(prefill)!));
            await using var server = await KitServer.StartAsync(lm, options, cancelled);
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancelled);
            using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
            using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
            Console.WriteLine($"Serving {server.ModelName} at {server.Url}/v1 (max batch {options.MaxBatch}); Ctrl+C stops");
            try { await Task.Delay(Timeout.Infinite, stop.Token); }
            catch (OperationCanceledException) { }
            await server.StopAsync();
            Console.Error.WriteLine("kit serve: stopped");
            return 0;

            void Stop(PosixSignalContext signal)
            {
                signal.Cancel = true;       // shut down cleanly instead of being killed
                stop.Cancel();
            }
        }));
        return command;
    }

    static ChatTemplateFamily? ParseFamily(string? name) =>
        name is null ? null
        : Enum.TryParse<ChatTemplateFamily>(name, ignoreCase: true, out var family) && !int.TryParse(name, out _) ? family
        : throw new ArgumentException($"--chat-template must be one of {string.Join(", ", Enum.GetNames<ChatTemplateFamily>())}, got '{name}'");
}
