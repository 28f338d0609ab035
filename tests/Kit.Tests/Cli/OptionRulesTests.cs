namespace Kit.Tests.Cli;

/// <summary>Options that a combination would not use are errors, verbs that write or measure need --model, and --verbose shows the trace.</summary>
public sealed class OptionRulesTests
{
    static KitProcess.Result Kit(string command) => Kit(command, TestPaths.NewTempDir());

    static KitProcess.Result Kit(string command, string cwd)
    {
        var args = command.Replace("{m}", TestPaths.Stories260K).Replace("{o}", Path.Combine(cwd, "out"))
            .Replace("{t}", TestPaths.TinyStoriesText).Split(' ');
        return KitProcess.Run(cwd, args);
    }

    [Theory]
    [InlineData("quantize --model {m} --method sparsegpt --sparsity 0.5 --bits 4 --out {o}", "--bits 4 needs a quantization scheme (--scheme, e.g. W4A16) to change; without one, sparsegpt prunes only")]
    [InlineData("quantize --model {m} --method gptq --group-size 32 --out {o}", "--group-size 32 needs a quantization scheme")]
    [InlineData("quantize --model {m} --method magnitude --sparsity 0.5 --observer mse --out {o}", "--observer mse needs a quantization scheme (--scheme, e.g. W4A16) to change; magnitude prunes only")]
    [InlineData("quantize --model {m} --method rtn --scheme W4A16 --damping 0.1 --out {o}", "--damping 0.1 applies to gptq and sparsegpt (their Hessian solve), not rtn")]
    [InlineData("quantize --model {m} --method wanda --sparsity 0.5 --block-size 64 --out {o}", "--block-size 64 applies to gptq and sparsegpt")]
    [InlineData("quantize --model {m} --method rtn --scheme W4A16 --samples 8 --out {o}", "--samples 8 shapes calibration data; give --calibration too")]
    [InlineData("quantize --model {m} --recipe {t} --scheme W8A8 --out {o}", "--scheme W8A8 does not combine with --recipe")]
    [InlineData("quantize --model {m} --recipe {t} --lm-head --out {o}", "--lm-head does not combine with --recipe")]
    [InlineData("quantize --model {m} --method rtn --scheme W4A16 --lm-head --out {o}", "the recipe compresses lm_head, but this model ties it to the embeddings (tie_word_embeddings)")]
    [InlineData("eval --model {m} --tasks hellaswag --seq-len 128", "--seq-len 128 applies to perplexity and agreement, and the run has neither")]
    [InlineData("eval --model {m} --tasks hellaswag --text {t}", "--text")]
    [InlineData("eval --model {m} --tasks perplexity --limit 5", "--limit 5 applies to zero-shot tasks, and --tasks names none")]
    [InlineData("eval --model {m} --tasks perplexity --add-bos-token true", "--add-bos-token true applies to zero-shot tasks, and --tasks names none")]
    [InlineData("eval --model {m} --tasks kit_stories --add-bos-token yes", "--add-bos-token must be auto, true or false, got 'yes'")]
    [InlineData("generate --model {m} --prompt x --top-k 3", "--top-k 3 applies to sampling; greedy decoding (--temperature 0) ignores it")]
    [InlineData("generate --model {m} --prompt x --seed 7", "--seed 7 applies to sampling")]
    [InlineData("bench --model {m} --llama-threads 4", "--llama-threads 4 sets llama.cpp's threads; give --llama-cpp too")]
    [InlineData("bench llama-cpp --gguf {t} --batch 4", "--batch 4 does not apply to llama.cpp alone")]
    [InlineData("plan --params 8B --format bf16 --group-size 64", "--group-size 64 applies to quantized formats (int4, int8, fp8), not bf16")]
    [InlineData("plan --params 8B --format fp16 --asymmetric", "--asymmetric applies to quantized formats")]
    [InlineData("quantize --model {m} --method rtn --scheme W4A16 --activations swap --out {o}", "--activations must be auto, device, cpu or disk, got 'swap'")]
    [InlineData("generate --model {m} --prompt x --prefill fp16", "--prefill must be auto, int8 or bfloat16, got 'fp16'")]
    [InlineData("quantize --model {m} --method rtn --scheme W4A16 --rotate spin --out {o}", "unknown rotation 'spin' (use hadamard, random-hadamard or random-matrix)")]
    [InlineData("quantize --model {m} --method rtn --scheme W4A16 --awq --smoothquant 0.5 --out {o}", "give either --awq or --smoothquant, not both")]
    [InlineData("quantize --model {m} --method sparsegpt --sparsity 0.5 --awq --out {o}", "AWQ scales weights for a quantization grid: it runs before rtn or gptq with a scheme")]
    [InlineData("quantize --model {m} --method rtn --scheme W8A8 --smoothquant 1.5 --out {o}", "SmoothQuant's smoothing strength must lie in [0, 1], got 1.5")]
    [InlineData("quantize --model {m} --recipe {t} --awq --out {o}", "--awq does not combine with --recipe")]
    [InlineData("quantize --model {m} --method rtn --scheme W4A16 --gptaq --out {o}", "GPTAQ's asymmetric calibration is a form of GPTQ: it needs --method gptq with a scheme, not Rtn")]
    [InlineData("quantize --model {m} --method gptq --scheme W4A16 --gptaq 3 --out {o}", "GPTAQ's strength α must lie in [0, 1], got 3")]
    [InlineData("quantize --model {m} --method rtn --scheme W4A16 --awq --out {o}", "AWQ needs calibration data (--calibration FILE or DATASET)")]
    public void Options_the_combination_would_ignore_are_errors_that_name_them(string command, string message)
    {
        var r = Kit(command);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("kit: error: " + message, r.Stderr);
        Assert.DoesNotContain("   at ", r.Stderr);
    }

    [Theory]
    [InlineData("quantize --method rtn --scheme W4A16 --out {o}")]
    [InlineData("eval --tasks perplexity --max-windows 1")]
    [InlineData("perplexity --text {t}")]
    [InlineData("bench")]
    public void Verbs_that_write_or_measure_refuse_to_run_without_a_model(string command)
    {
        string cwd = TestPaths.NewTempDir();
        var r = Kit(command, cwd);
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("--model", r.Stderr);
        Assert.Contains("required", r.Stderr);
        Assert.Empty(Directory.EnumerateFileSystemEntries(cwd));     // no runs/ table, no out/ model
    }

    [Fact]
    public void Verbose_prints_the_stack_trace_the_one_line_error_hides()
    {
        var plain = Kit("generate --model /no/such/dir --prompt x");
        var verbose = Kit("generate --model /no/such/dir --prompt x --verbose");

        Assert.Equal(1, plain.ExitCode);
        Assert.Equal(1, verbose.ExitCode);
        Assert.DoesNotContain("   at ", plain.Stderr);
        Assert.StartsWith(plain.Stderr.TrimEnd(), verbose.Stderr);
        Assert.Contains("System.IO.DirectoryNotFoundException", verbose.Stderr);
        Assert.Contains("   at Kit.Models.LanguageModel.Load", verbose.Stderr);
    }

    [Fact]
    public void Verbose_also_works_before_the_verb()
    {
        var r = Kit("--verbose plan --params 7B --format int3");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("kit: error: unknown weight format 'int3'", r.Stderr);
        Assert.Contains("   at Kit.Planning.WeightFormat.Parse", r.Stderr);
    }

    [Fact]
    public void Plan_of_a_bare_parameter_count_names_the_count()
    {
        var r = Kit("plan --params 8B --json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal("8,000,000,000 parameters", r.Json["model"]!.GetValue<string>());
        Assert.Contains("8,000,000,000 parameters", Kit("plan --params 8B").Stdout);
    }
}
