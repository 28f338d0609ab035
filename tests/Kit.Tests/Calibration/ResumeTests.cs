using System.Diagnostics;
using Kit.Tests.Cli;

namespace Kit.Tests.Calibration;

/// <summary>
/// A <c>kit quantize</c> killed with SIGKILL leaves no output folder, refuses to start over its staging folder
/// unasked, and with <c>--resume</c> continues from the last finished layer to the same bytes as a run never killed.
/// </summary>
[Trait("Category", "Slow")]
public sealed class ResumeTests
{
    static string[] Quantize(string output, params string[] extra) =>
        new[] { "quantize", "--model", TestPaths.Stories260K, "--method", "gptq", "--scheme", "W4A16", "--group-size", "32",
            "--format", "dense", "--calibration", TestPaths.TinyStoriesText, "--samples", "64", "--seq-len", "256", "--out", output }
        .Concat(extra).ToArray();

    [Theory]
    [InlineData("")]
    [InlineData("--rotate --awq --gptaq")] // rotations, smoothing reports and GPTAQ's second activations survive the kill too
    public void A_killed_run_leaves_no_output_and_resumes_to_the_bytes_of_an_uninterrupted_one(string transforms)
    {
        string cwd = TestPaths.NewTempDir();
        string straight = Path.Combine(cwd, "straight"), killed = Path.Combine(cwd, "killed");
        string[] Quantize(string output, params string[] extra) =>
            ResumeTests.Quantize(output, transforms.Split(' ', StringSplitOptions.RemoveEmptyEntries).Concat(extra).ToArray());
        Assert.Equal(0, KitProcess.Run(cwd, Quantize(straight)).ExitCode);

        int finished = KillAfterFirstLayer(cwd, Quantize(killed), Path.Combine(killed + ".partial", "kit_progress.json"));
        Assert.InRange(finished, 1, 4);
        Assert.False(Directory.Exists(killed), "a killed run must not leave an output folder");

        var again = KitProcess.Run(cwd, Quantize(killed));
        Assert.NotEqual(0, again.ExitCode);
        Assert.Contains($"({finished} of 5 layers finished): continue it with --resume", again.Stderr);
        var otherSeed = KitProcess.Run(cwd, Quantize(killed, "--seed", "7", "--resume"));
        Assert.NotEqual(0, otherSeed.ExitCode);
        Assert.Contains("was staged by a run with another model, recipe, calibration data or options", otherSeed.Stderr);

        var resumed = KitProcess.Run(cwd, Quantize(killed, "--resume"));
        Assert.True(resumed.ExitCode == 0, resumed.Stderr);
        Assert.False(Directory.Exists(killed + ".partial"));
        var expected = Directory.GetFiles(straight, "*.safetensors").Select(Path.GetFileName).Order().ToArray();
        Assert.Equal(expected, Directory.GetFiles(killed, "*.safetensors").Select(Path.GetFileName).Order().ToArray());
        foreach (var name in expected)
            Assert.True(File.ReadAllBytes(Path.Combine(straight, name!)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(killed, name!))), name);
        Assert.DoesNotContain(Directory.GetFiles(killed), f => f.EndsWith("kit_progress.json") || Path.GetFileName(f).StartsWith("activations-"));
    }

    // Starts kit, waits until the record of a finished layer appears, and kills the process with SIGKILL at once.
    static int KillAfterFirstLayer(string cwd, string[] args, string record)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = cwd };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Kit.Cli.dll"));
        foreach (var a in args) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        _ = process.StandardOutput.ReadToEndAsync();
        _ = process.StandardError.ReadToEndAsync();
        var clock = Stopwatch.StartNew();
        while (!File.Exists(record))
        {
            Assert.False(process.HasExited, "the run ended before a layer was recorded");
            Assert.True(clock.Elapsed < TimeSpan.FromMinutes(2), "no layer finished within two minutes");
            Thread.Sleep(2);
        }
        process.Kill(entireProcessTree: true);
        process.WaitForExit();
        string text = File.ReadAllText(record);
        int at = text.IndexOf("\"FinishedLayers\": ", StringComparison.Ordinal) + "\"FinishedLayers\": ".Length;
        return int.Parse(text[at..].Split(',')[0]);
    }
}
