using System.CommandLine;
using Kit.Models;

namespace Kit.Cli.Commands;

/// <summary><c>kit info</c>: what a model is.</summary>
internal static class InfoCommand
{
    public static Command Create()
    {
        var model = CliSupport.ModelOption();
        var json = CliSupport.JsonOption();
        var command = new Command("info", "Show a model's architecture, size and tokenizer") { model, json };
        command.SetAction(r => CliSupport.Run(() =>
        {
            using var lm = CliSupport.LoadModel(r.GetValue(model)!, "cpu", "auto", r.GetValue(json));
            var summary = ModelSummary.Of(lm);
            if (r.GetValue(json)) CliSupport.PrintJson(summary);
            else Console.WriteLine(summary.ToText());
            return 0;
        }));
        return command;
    }
}
