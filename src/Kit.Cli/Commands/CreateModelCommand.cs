using System.CommandLine;
using Kit.Models;

namespace Kit.Cli.Commands;

/// <summary><c>kit create-model</c>: a model folder with random weights of a known shape or a given config.json.</summary>
internal static class CreateModelCommand
{
    public static Command Create()
    {
        var shape = new Option<string?>("--shape") { Description = $"A known shape: {string.Join(", ", ModelShapes.ByName.Keys)}" };
        var config = new Option<FileInfo?>("--config") { Description = "A Hugging Face config.json to take the architecture from" };
        var output = new Option<string>("--out") { Description = "Model folder to write", Required = true };
        var dtype = new Option<string>("--dtype") { Description = "float32, bfloat16 or float16", DefaultValueFactory = _ => "float32" };
        var seed = new Option<long>("--seed") { Description = "Seed of the random weights" };
        var command = new Command("create-model", "Write a model with random weights (for benchmarks; it generates nonsense)") { shape, config, output, dtype, seed };
        command.SetAction(r => CliSupport.Run(() =>
        {
            var fromShape = r.GetValue(shape);
            var fromConfig = r.GetValue(config);
            if ((fromShape is null) == (fromConfig is null)) throw new ArgumentException("give exactly one of --shape and --config");
            var architecture = fromShape is not null ? ModelShapes.Get(fromShape) : ModelConfig.Load(fromConfig!.FullName);
            var scalar = LanguageModel.ParseDType(r.GetValue(dtype)!, TorchSharp.torch.CPU);
            RandomModel.Write(architecture, r.GetValue(output)!, r.GetValue(seed), scalar);
            Console.WriteLine($"wrote {r.GetValue(output)}: {architecture.ParameterCount:N0} parameters ({architecture.ModelType}, {architecture.NumHiddenLayers} layers)");
            return 0;
        }));
        return command;
    }
}
