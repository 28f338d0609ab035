using System.CommandLine;
using Kit.Tour;

namespace Kit.Cli.Commands;

/// <summary><c>kit tour</c>: the main job on the default model, with a written report.</summary>
internal static class TourCommand
{
    public static Command Create()
    {
        var model = CliSupport.ModelOption();
        var runs = new Option<string>("--runs") { Description = "Folder for the report", DefaultValueFactory = _ => "runs" };
        var json = CliSupport.JsonOption();
        var command = new Command("tour", "Load, generate, measure perplexity and write a report") { model, runs, json };
        command.SetAction(r => CliSupport.Run(() =>
        {
            bool asJson = r.GetValue(json);
            var report = KitTour.Run(r.GetValue(model)!, runsFolder: r.GetValue(runs)!, log: asJson ? null : Console.WriteLine);
            if (asJson) CliSupport.PrintJson(report);
            return 0;
        }));
        return command;
    }
}
