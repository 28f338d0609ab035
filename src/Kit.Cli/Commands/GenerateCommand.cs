using System.CommandLine;
using Kit.Inference;

namespace Kit.Cli.Commands;

/// <summary><c>kit generate</c>: continue a prompt, streaming the text.</summary>
internal static class GenerateCommand
{
    public static Command Create()
    {
        var model = CliSupport.ModelOption();
        var prompt = new Option<string>("--prompt", "-p") { Description = "The text to continue", Required = true };
        var maxNew = new Option<int>("--max-new-tokens") { Description = "Most tokens to generate", DefaultValueFactory = _ => 64 };
        var temperature = new Option<double>("--temperature") { Description = "0 = greedy; above 0 samples", DefaultValueFactory = _ => 0 };
        var topK = new Option<int>("--top-k") { Description = "Sample among the k most likely tokens (0 = all)" };
        var topP = new Option<double>("--top-p") { Description = "Nucleus sampling threshold", DefaultValueFactory = _ => 1.0 };
        var seed = new Option<long>("--seed") { Description = "Sampling seed" };
        var device = CliSupport.DeviceOption();
        var dtype = CliSupport.DTypeOption();
        var prefill = CliSupport.PrefillOption();
        var json = CliSupport.JsonOption();
        var command = new Command("generate", "Continue a prompt with the model") { model, prompt, maxNew, temperature, topK, topP, seed, device, dtype, prefill, json };
        command.SetAction(r => CliSupport.Run(() =>
        {
            bool asJson = r.GetValue(json);
            var options = new GenerationOptions
            {
                MaxNewTokens = r.GetValue(maxNew), Temperature = r.GetValue(temperature), TopK = r.GetValue(topK),
                TopP = r.GetValue(topP), Seed = r.GetValue(seed),
            };
            options.Validate();
            foreach (Option o in new Option[] { topK, topP, seed })
                CliSupport.RejectIgnored(r, o, options.Temperature == 0, "applies to sampling; greedy decoding (--temperature 0) ignores it, so give --temperature above 0 too");
            using var lm = CliSupport.LoadModel(r.GetValue(model)!, r.GetValue(device)!, r.GetValue(dtype)!, asJson,
                bfloat16Prefill: CliSupport.ParsePrefill(r.GetValue(prefill)!));
            string text = r.GetValue(prompt)!;
            if (!asJson) Console.Write(text);
            var result = lm.Generate(text, options, asJson ? null : t => Console.Write(t.Text));
            if (asJson)
                CliSupport.PrintJson(new
                {
                    text = result.Text, token_ids = result.TokenIds, prompt_tokens = result.PromptTokenCount,
                    ttft_ms = result.TimeToFirstTokenMs, tokens_per_second = result.TokensPerSecond, stop_reason = result.StopReason,
                });
            else
            {
                Console.WriteLine();
                Console.Error.WriteLine($"[{result.TokenIds.Count} tokens, time to first token {result.TimeToFirstTokenMs:F1} ms, {result.TokensPerSecond:F1} tokens/s, stop: {result.StopReason}]");
            }
            return 0;
        }));
        return command;
    }
}
