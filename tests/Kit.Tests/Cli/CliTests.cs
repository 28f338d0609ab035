namespace Kit.Tests.Cli;

public sealed class CliTests
{
    static string Cwd => TestPaths.NewTempDir();

    [Fact]
    public void Generate_json_has_text_ids_and_timings()
    {
        var r = KitProcess.Run(Cwd, "generate", "--model", TestPaths.Stories260K, "--prompt", "Once upon a time",
            "--max-new-tokens", "20", "--temperature", "0", "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        var json = r.Json;
        Assert.StartsWith(", there was a little girl named Lily", json["text"]!.GetValue<string>());
        Assert.Equal(20, json["token_ids"]!.AsArray().Count);
        Assert.True(json["ttft_ms"]!.GetValue<double>() > 0);
        Assert.True(json["tokens_per_second"]!.GetValue<double>() > 0);
    }

    [Fact]
    public void Generate_streams_plain_text_without_json()
    {
        var r = KitProcess.Run(Cwd, "generate", "-m", TestPaths.Stories260K, "-p", "Once upon a time", "--max-new-tokens", "8");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.StartsWith("Once upon a time, there was", r.Stdout);
        Assert.Contains("tokens/s", r.Stderr);
    }

    [Fact]
    public void Perplexity_json_reports_value_and_tokens()
    {
        var text = Path.Combine(TestPaths.NewTempDir(), "t.txt");
        File.WriteAllText(text, File.ReadAllText(Path.Combine(TestPaths.Shared, "data", "tinystories", "tinystories_validation_head.txt"))[..6000]);
        var r = KitProcess.Run(Cwd, "perplexity", "--model", TestPaths.Stories260K, "--text", text, "--seq-len", "128", "--max-windows", "3", "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.InRange(r.Json["perplexity"]!.GetValue<double>(), 2, 8);
        Assert.Equal(3 * 127, r.Json["predicted_tokens"]!.GetValue<long>());
        Assert.True(r.Json["tokens"]!.GetValue<long>() > 1000);
    }

    [Theory]
    [InlineData("generate --model {m} --prompt x --temperature -1", "temperature must be ≥ 0")]
    [InlineData("generate --model {m} --prompt x --top-p 2", "top-p must be in (0, 1]")]
    [InlineData("generate --model /no/such/dir --prompt x", "neither an existing folder nor a hub id")]
    [InlineData("perplexity --model {m} --text /no/such/file.txt", "text file not found")]
    [InlineData("perplexity --model {m} --text {t} --seq-len 100000", "exceeds the model's context")]
    [InlineData("generate --model {m} --prompt x --dtype int3", "unknown dtype 'int3'")]
    public void Bad_options_fail_with_a_clear_message(string command, string message)
    {
        var text = Path.Combine(TestPaths.NewTempDir(), "t.txt");
        File.WriteAllText(text, "Once upon a time there was a cat.");
        var args = command.Replace("{m}", TestPaths.Stories260K).Replace("{t}", text).Split(' ');
        var r = KitProcess.Run(Cwd, args);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains(message, r.Stderr);
        Assert.DoesNotContain("   at ", r.Stderr);
    }

    [Fact]
    public void Tour_runs_on_the_default_model_and_writes_a_report()
    {
        var cwd = Cwd;
        var r = KitProcess.Run(cwd, "tour", "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        var folder = r.Json["report_folder"]!.GetValue<string>();
        Assert.True(File.Exists(Path.Combine(folder, "report.md")));
        Assert.StartsWith(cwd, folder);
        Assert.InRange(r.Json["perplexity"]!["value"]!.GetValue<double>(), 1, 100);
    }
}
