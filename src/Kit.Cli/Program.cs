using System.CommandLine;
using Kit.Cli.Commands;

var root = new RootCommand("Kit: compress, run and measure Llama-family language models.") { CliSupport.Verbose };
root.Subcommands.Add(GenerateCommand.Create());
root.Subcommands.Add(PerplexityCommand.Create());
root.Subcommands.Add(InfoCommand.Create());
root.Subcommands.Add(TourCommand.Create());
root.Subcommands.Add(TrainDefaultCommand.Create());
root.Subcommands.Add(CreateModelCommand.Create());
root.Subcommands.Add(QuantizeCommand.Create());
root.Subcommands.Add(BenchCommand.Create());
root.Subcommands.Add(EvalCommand.Create());
root.Subcommands.Add(PlanCommand.Create());
root.Subcommands.Add(ServeCommand.Create());
var parsed = root.Parse(args);
CliSupport.ShowStackTraces = parsed.GetValue(CliSupport.Verbose);
return parsed.Invoke();
