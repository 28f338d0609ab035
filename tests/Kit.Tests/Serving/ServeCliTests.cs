using Kit.Tests.Cli;

namespace Kit.Tests.Serving;

/// <summary><c>kit serve</c> checks its options before it loads a model or binds a port.</summary>
public sealed class ServeCliTests
{
    [Theory]
    [InlineData("serve --model default --max-batch 0", "max-batch must be at least 1, got 0")]
    [InlineData("serve --model default --port 70000", "port must be in 0..65535, got 70000")]
    [InlineData("serve --model default --host example.org --port 0", "host must be an IP address or localhost, got 'example.org'")]
    [InlineData("serve --model default --chat-template jinja", "--chat-template must be one of Llama3, Llama2, Mistral, ChatML, Zephyr, got 'jinja'")]
    [InlineData("serve --model default --api-key  --port 0", "api-key")]
    [InlineData("serve --model default --prefill fast --port 0", "--prefill must be auto, int8 or bfloat16, got 'fast'")]
    public void Bad_options_are_errors_that_name_them(string command, string message)
    {
        var r = KitProcess.Run(TestPaths.NewTempDir(), command.Split(' '));
        Assert.Equal(1, r.ExitCode);
        Assert.Contains(message, r.Stderr);
        Assert.DoesNotContain("   at ", r.Stderr);
    }

    [Fact]
    public void Serve_needs_a_model()
    {
        var r = KitProcess.Run(TestPaths.NewTempDir(), "serve", "--port", "0");
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("--model", r.Stderr);
    }
}
