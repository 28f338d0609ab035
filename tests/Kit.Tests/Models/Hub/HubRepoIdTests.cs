using Kit.Models.Hub;

namespace Kit.Tests.Models.Hub;

public sealed class HubRepoIdTests
{
    [Theory]
    [InlineData("gpt2")]
    [InlineData("meta-llama/Llama-3.2-1B")]
    [InlineData("karpathy/tinyllamas")]
    [InlineData("Org_1/model.v2_final")]
    public void Hub_style_ids_are_valid(string repoId) => Assert.True(HubRepoId.IsValid(repoId));

    [Theory]
    [InlineData("org/name/extra")]
    [InlineData("org//name")]
    [InlineData("org/.name")]
    [InlineData("org/name-")]
    [InlineData("org/a..b")]
    [InlineData("org/a--b")]
    [InlineData("org/model.git")]
    [InlineData("org/näme")]
    [InlineData("./models/x")]
    public void Paths_and_malformed_ids_are_invalid(string repoId) => Assert.False(HubRepoId.IsValid(repoId));

    [Fact]
    public void Id_longer_than_96_characters_is_invalid()
    {
        Assert.True(HubRepoId.IsValid("o/" + new string('a', 94)));
        Assert.False(HubRepoId.IsValid("o/" + new string('a', 95)));
    }

    [Fact]
    public void Cache_folder_name_joins_type_and_parts_with_double_dash()
    {
        Assert.Equal("models--meta-llama--Llama-3.2-1B", HubRepoId.FolderName("meta-llama/Llama-3.2-1B", RepoType.Model));
        Assert.Equal("datasets--wikitext", HubRepoId.FolderName("wikitext", RepoType.Dataset));
    }
}
