using Kit.Models.Hub;

namespace Kit.Tests.Models.Hub;

public sealed class HubOptionsTests
{
    static HubOptions From(Dictionary<string, string> env, string home = "/home/u") =>
        HubOptions.FromEnvironment(name => env.GetValueOrDefault(name), home);

    [Fact]
    public void Empty_environment_gives_huggingface_hub_defaults()
    {
        var options = From([]);
        Assert.Equal("https://huggingface.co", options.Endpoint);
        Assert.Equal("/home/u/.cache/huggingface/hub", options.CacheDir);
        Assert.Null(options.Token);
        Assert.False(options.Offline);
    }

    [Fact]
    public void Hub_cache_beats_hf_home_which_beats_xdg_cache()
    {
        Assert.Equal("/x/huggingface/hub", From(new() { ["XDG_CACHE_HOME"] = "/x" }).CacheDir);
        Assert.Equal("/h/hub", From(new() { ["XDG_CACHE_HOME"] = "/x", ["HF_HOME"] = "/h" }).CacheDir);
        Assert.Equal("/c", From(new() { ["HF_HOME"] = "/h", ["HF_HUB_CACHE"] = "/c" }).CacheDir);
        Assert.Equal("/home/u/hf/hub", From(new() { ["HF_HOME"] = "~/hf" }).CacheDir);
    }

    [Fact]
    public void Endpoint_offline_and_token_come_from_their_variables()
    {
        var options = From(new() { ["HF_ENDPOINT"] = "http://mirror:8080/", ["HF_HUB_OFFLINE"] = "yes", ["HF_TOKEN"] = "hf_a" });
        Assert.Equal("http://mirror:8080", options.Endpoint);
        Assert.True(options.Offline);
        Assert.Equal("hf_a", options.Token);
        Assert.False(From(new() { ["HF_HUB_OFFLINE"] = "0" }).Offline);
    }

    [Fact]
    public void Token_file_under_hf_home_is_used_when_hf_token_is_unset()
    {
        string home = TestPaths.NewTempDir();
        File.WriteAllText(Path.Combine(home, "token"), "hf_from_file\n");

        Assert.Equal("hf_from_file", From(new() { ["HF_HOME"] = home }).Token);
        Assert.Equal("hf_env", From(new() { ["HF_HOME"] = home, ["HF_TOKEN"] = "hf_env" }).Token);
    }
}
