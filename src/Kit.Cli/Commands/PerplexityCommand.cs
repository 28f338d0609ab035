using System.CommandLine;
using Kit.Evaluation;

namespace Kit.Cli.Commands;

/// <summary><c>kit perplexity</c>: perplexity of a model on a text file.</summary>
internal static class PerplexityCommand
{
    public static Command Create()
    {
        var model = CliSupport.RequiredModelOption();
        var text = new Option<FileInfo>("--text") { Description = "A UTF-8 text file", Required = true };
        var seqLen = new Option<int>("--seq-len") { Description = "Window length in tokens", DefaultValueFactory = _ => 256 };
        var stride = new Option<int?>("--stride") { Description = "Window start spacing (default: seq-len, non-overlapping)" };
        var maxWindows = new Option<int?>("--max-windows") { Description = "Evaluate at most this many windows" };
        var device = CliSupport.DeviceOption();
        var dtype = CliSupport.DTypeOption();
        var json = CliSupport.JsonOption();
        var command = new Command("perplexity", "Perplexity of the model on a text file") { model, text, seqLen, stride, maxWindows, device, dtype, json };
        command.SetAction(r => CliSupport.Run(() =>
        {
            bool asJson = r.GetValue(json);
            var file = r.GetValue(text)!;
            if (!file.Exists) throw new FileNotFoundException($"text file not found: {file.FullName}");
            using var lm = CliSupport.LoadModel(r.GetValue(model)!, r.GetValue(device)!, r.GetValue(dtype)!, asJson, exactActivations: true);
            var result = asJson
                ? lm.PerplexityOfFile(file.FullName, r.GetValue(seqLen), r.GetValue(stride), r.GetValue(maxWindows))
                : TerminalProgress.StandardError().Run(scope => lm.PerplexityOfFile(file.FullName, r.GetValue(seqLen), r.GetValue(stride), r.GetValue(maxWindows),
                    scope.Line("perplexity").Fractions(file.Name)));
            if (asJson)
                CliSupport.PrintJson(new
                {
                    perplexity = result.Value, tokens = result.Tokens, predicted_tokens = result.PredictedTokens,
                    windows = result.Windows, mean_nll = result.MeanNll, seq_len = r.GetValue(seqLen),
                });
            else
                Console.WriteLine($"perplexity {result.Value:F4} over {result.PredictedTokens} predicted tokens ({result.Windows} windows of {r.GetValue(seqLen)}; {result.Tokens} tokens in the text)");
            return 0;
        }));
        return command;
    }
}
