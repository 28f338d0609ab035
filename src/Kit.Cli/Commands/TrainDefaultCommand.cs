using System.CommandLine;
using Kit.Models.Training;

namespace Kit.Cli.Commands;

/// <summary><c>kit train-default</c>: rebuild Kit's embedded default model from a text file.</summary>
internal static class TrainDefaultCommand
{
    public static Command Create()
    {
        var text = new Option<FileInfo>("--text") { Description = "Training text (TinyStories by default)", Required = true };
        var output = new Option<string>("--out") { Description = "Model folder to write", DefaultValueFactory = _ => "data/default-model" };
        var steps = new Option<int>("--steps") { Description = "Optimizer steps", DefaultValueFactory = _ => new TrainingOptions().Steps };
        var seed = new Option<long>("--seed") { Description = "Seed", DefaultValueFactory = _ => new TrainingOptions().Seed };
        var command = new Command("train-default", "Train the tokenizer and the small Llama that Kit ships as its default model") { text, output, steps, seed };
        command.SetAction(r => CliSupport.Run(() =>
        {
            var options = new TrainingOptions { Steps = r.GetValue(steps), Seed = r.GetValue(seed) };
            var started = DateTime.Now;
            double loss = DefaultModelRecipe.Build(r.GetValue(text)!.FullName, r.GetValue(output)!, options,
                new SyncProgress<TrainingProgress>(p =>
                {
                    if (p.Step % 25 == 0 || p.ValidationLoss is not null)
                        Console.WriteLine($"step {p.Step}/{p.TotalSteps}  loss {p.TrainLoss:F3}" +
                            (p.ValidationLoss is double v ? $"  held-out {v:F3} (perplexity {Math.Exp(v):F2})" : "") +
                            $"  lr {p.LearningRate:E1}  {(DateTime.Now - started).TotalSeconds:F0}s");
                }), Console.WriteLine);
            Console.WriteLine($"held-out loss {loss:F4} (perplexity {Math.Exp(loss):F2}); wrote {r.GetValue(output)}");
            return 0;
        }));
        return command;
    }
}
