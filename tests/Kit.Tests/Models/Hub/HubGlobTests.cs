using Kit.Models.Hub;

namespace Kit.Tests.Models.Hub;

public sealed class HubGlobTests
{
    // Expected values are what Python's fnmatch.fnmatch(path, pattern) answers.
    [Theory]
    [InlineData("model.safetensors", "*.safetensors", true)]
    [InlineData("sub/model.safetensors", "*.safetensors", true)]
    [InlineData("model.safetensors.index.json", "*.safetensors", false)]
    [InlineData("model-00001-of-00002.safetensors", "model-?????-of-?????.safetensors", true)]
    [InlineData("config.json", "[cd]onfig.json", true)]
    [InlineData("config.json", "[!c]onfig.json", false)]
    [InlineData("Config.json", "config.json", false)]
    [InlineData("onnx/model.onnx", "onnx/", true)]
    [InlineData("a+b.txt", "a+b.txt", true)]
    [InlineData("x[", "x[", true)]
    public void Matches_like_python_fnmatch(string path, string pattern, bool expected) =>
        Assert.Equal(expected, HubGlob.MatchesAny(path, [pattern]));
}
