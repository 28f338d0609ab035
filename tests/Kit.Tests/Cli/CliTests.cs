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
        File.WriteAllText(text, File.ReadAllText(TestPaths.TinyStoriesText)[..6000]);
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
        // 4-bit GPTQ per channel keeps most next-token choices of the default model, but not all of them.
        var agreement = r.Json["compressed"]!["agreement"]!;
        Assert.InRange(agreement["mean_kl"]!.GetValue<double>(), 1e-4, 0.5);
        Assert.InRange(agreement["top1_agreement"]!.GetValue<double>(), 0.7, 0.999);
        Assert.Equal(24, r.Json["compressed"]!["dense_stories"]!["count"]!.GetValue<int>());
        Assert.Contains("kit_stories acc_norm", File.ReadAllText(Path.Combine(folder, "report.md")));
        // The HTML report: task scores, perplexity, memory and per-Linear errors as charts, plotly.js inlined.
        string html = File.ReadAllText(Path.Combine(folder, "report.html"));
        Assert.Equal(4, System.Text.RegularExpressions.Regex.Count(html, "class=\"kit-chart\""));
        Assert.Contains("plotly.js v", html);
    }
}

public sealed class QuantizeCliTests
{
    [Fact]
    public void Quantize_writes_a_model_that_generate_and_perplexity_accept()
    {
        var cwd = TestPaths.NewTempDir();
        var output = Path.Combine(cwd, "gptq");
        var tinyStories = TestPaths.TinyStoriesText;
        var q = KitProcess.Run(cwd, "quantize", "--model", TestPaths.Stories260K, "--method", "gptq", "--scheme", "W4A16", "--group-size", "32",
            "--calibration", tinyStories, "--samples", "16", "--seq-len", "128", "--out", output, "--format", "dense", "--json");
        Assert.True(q.ExitCode == 0, q.Stderr);
        var modules = q.Json["modules"]!.AsArray();
        Assert.Equal(35, modules.Count);
        // Enums by name, as in kit_compression.json.
        Assert.Equal("Gptq", q.Json["recipe"]!["method"]!.GetValue<string>());
        Assert.All(modules, m => Assert.InRange(m!["relative_error"]!.GetValue<double>(), 1e-6, 0.1));

        var g = KitProcess.Run(cwd, "generate", "--model", output, "--prompt", "Once upon a time", "--max-new-tokens", "12", "--json");
        Assert.True(g.ExitCode == 0, g.Stderr);
        Assert.Equal(12, g.Json["token_ids"]!.AsArray().Count);
    }

    [Fact]
    public void Awq_says_what_it_scaled_and_the_json_report_keeps_each_mapping()
    {
        var cwd = TestPaths.NewTempDir();
        string[] Quantize(string output, params string[] extra) => new[] { "quantize", "--model", TestPaths.Stories260K, "--method", "gptq",
            "--scheme", "W4A16", "--group-size", "channel", "--awq", "--calibration", TestPaths.TinyStoriesText, "--samples", "8", "--seq-len", "64",
            "--format", "dense", "--out", Path.Combine(cwd, output) }.Concat(extra).ToArray();
        var text = KitProcess.Run(cwd, Quantize("text"));
        Assert.True(text.ExitCode == 0, text.Stderr);
        // stories260K: two norm mappings and up → down in each of 5 layers; v → o is skipped under grouped-query attention.
        Assert.Matches(@"AWQ: scaled \d+ of 15 mappings.*below rounding without scales", text.Stdout);

        var json = KitProcess.Run(cwd, Quantize("json", "--json"));
        Assert.True(json.ExitCode == 0, json.Stderr);
        var mappings = json.Json["smoothing"]!.AsArray();
        Assert.Equal(15, mappings.Count);
        Assert.All(mappings, m => Assert.True(m!["error"]!.GetValue<double>() <= m["unscaled_error"]!.GetValue<double>()));
        Assert.Equal("model.layers.0.input_layernorm", mappings[0]!["smooth"]!.GetValue<string>());
    }

    [Fact]
    public void Rtn_without_calibration_says_its_errors_were_not_measured()
    {
        var cwd = TestPaths.NewTempDir();
        var text = KitProcess.Run(cwd, "quantize", "--model", TestPaths.Stories260K, "--method", "rtn", "--scheme", "W4A16", "--group-size", "32",
            "--format", "dense", "--out", Path.Combine(cwd, "text"));
        Assert.True(text.ExitCode == 0, text.Stderr);
        Assert.Contains("model.layers.0.self_attn.q_proj", text.Stderr);
        Assert.Contains("no calibration data: error not measured", text.Stderr);
        Assert.Contains("no calibration data: error not measured", text.Stdout);
        Assert.DoesNotContain("NaN", text.Stdout + text.Stderr);

        var json = KitProcess.Run(cwd, "quantize", "--model", TestPaths.Stories260K, "--method", "rtn", "--scheme", "W4A16", "--group-size", "32",
            "--format", "dense", "--out", Path.Combine(cwd, "json"), "--json");
        Assert.True(json.ExitCode == 0, json.Stderr);
        Assert.All(json.Json["modules"]!.AsArray(), m => Assert.Null(m!["relative_error"]));
    }

    [Theory]
    [InlineData("--method gptq --scheme W4A16 --out {o}", "needs calibration data")]
    [InlineData("--method gptq --out {o}", "needs a quantization scheme")]
    [InlineData("--method rtn --scheme W9A16 --out {o}", "unknown quantization scheme 'W9A16'")]
    [InlineData("--method magnitude --out {o}", "needs --sparsity or --pattern")]
    [InlineData("--method magnitude --pattern 4:2 --out {o}", "4:2")]
    [InlineData("--method rtn --scheme W4A16 --bits 9 --out {o}", "NumBits")]
    [InlineData("--method rtn --scheme W4A16 --group-size zero --out {o}", "--group-size must be")]
    [InlineData("--method gptq --scheme W4A16 --calibration /no/such.txt --out {o}", "/no/such.txt")]
    [InlineData("--method sparsegpt --sparsity 0.5 --pattern 2:4 --out {o}", "either --sparsity or --pattern")]
    [InlineData("--method rtn --scheme W4A16 --group-size 32 --format gguf --resume --out {o}", "a GGUF export cannot resume")]
    public void Bad_quantize_options_fail_clearly_and_write_nothing(string options, string message)
    {
        var cwd = TestPaths.NewTempDir();
        var output = Path.Combine(cwd, "out");
        var args = new[] { "quantize", "--model", TestPaths.Stories260K }.Concat(options.Replace("{o}", output).Split(' ')).ToArray();
        var r = KitProcess.Run(cwd, args);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains(message, r.Stderr);
        Assert.False(Directory.Exists(output));
    }
}
