using Kit.Tests.Cli;
using static Kit.Tests.Planning.PlanningFixtures;

namespace Kit.Tests.Planning;

public sealed class PlanCommandTests
{
    [Fact]
    public void Plan_json_reports_bytes_and_gpu_counts()
    {
        var r = KitProcess.Run(TestPaths.NewTempDir(), "plan", "--model", FixturePath(Scout), "--format", "int4", "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        long expected = ScoutQuantizable / 2 + ScoutQuantizable / 128 * 2 + (ScoutTotal - ScoutQuantizable) * 2;
        Assert.Equal(expected, r.Json["weight_bytes"]!.GetValue<long>());
        Assert.Equal(1, r.Json["gpus"]!.GetValue<int>());
        Assert.Equal(1, r.Json["minimum_gpus"]!.GetValue<int>());
        Assert.False(r.Json["multi_node"]!.GetValue<bool>());
        Assert.Equal(4, r.Json["fits"]!.AsArray().Count);
    }

    [Fact]
    public void Plan_with_params_and_a_layout_counts_the_kv_cache()
    {
        var r = KitProcess.Run(TestPaths.NewTempDir(), "plan", "--params", "8B", "--layers", "32", "--kv-heads", "8", "--head-dim", "128",
            "--context", "1000", "--kv-format", "fp8", "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal(2L * 32 * 8 * 128 * 1000, r.Json["kv_cache_bytes"]!.GetValue<long>());
        Assert.Equal(16_000_000_000, r.Json["weight_bytes"]!.GetValue<long>());
    }

    [Theory]
    [InlineData("plan --format int4", "give either --model or --params")]
    [InlineData("plan --params 7B --layers 3", "needs all of --layers, --kv-heads and --head-dim")]
    [InlineData("plan --params 7B --format int3", "unknown weight format 'int3'")]
    [InlineData("plan --params lots", "'lots' is not a parameter count")]
    [InlineData("plan --model ./no/such/config.json", "neither an existing folder, a config.json file nor a hub id")]
    public void Bad_plan_options_fail_with_a_clear_message(string command, string message)
    {
        var r = KitProcess.Run(TestPaths.NewTempDir(), command.Split(' '));
        Assert.Equal(1, r.ExitCode);
        Assert.Contains(message, r.Stderr);
        Assert.DoesNotContain("   at ", r.Stderr);
    }
}
