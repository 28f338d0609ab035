using Kit.Data;
using Kit.Models.Hub;
using Kit.Tests.Models.Hub;
using static Kit.Tests.Data.DataFixtures;

namespace Kit.Tests.Data;

public sealed class HubDatasetTests
{
    static byte[] Parquet(params string[] texts)
    {
        string path = Path.Combine(TestPaths.NewTempDir(), "t.parquet");
        WriteStrings(path, ["text"], texts.Select(t => new string?[] { t }).ToArray());
        return File.ReadAllBytes(path);
    }

    /// <summary>A dataset repo laid out as <c>push_to_hub</c> writes one: default config in data/, another in cfg/.</summary>
    static HubTestBed Bed()
    {
        var bed = new HubTestBed();
        bed.Server.AddRepo("org/calib", RepoType.Dataset)
            .File("README.md", "# card\n")
            .Lfs("data/train-00000-of-00002.parquet", Parquet("a", "b"))
            .Lfs("data/train-00001-of-00002.parquet", Parquet("c"))
            .Lfs("data/test-00000-of-00001.parquet", Parquet("t"))
            .Lfs("data/train_sft-00000-of-00001.parquet", Parquet("sft"))
            .Lfs("cfg/train-00000-of-00001.parquet", Parquet("cfg"));
        return bed;
    }

    static SourceOptions Options(HubTestBed bed) => new() { Hub = new HubOptions { Endpoint = bed.Server.Endpoint, CacheDir = bed.Cache } };

    [Fact]
    public void Hub_dataset_reads_the_train_split_and_downloads_nothing_else()
    {
        using var bed = Bed();
        var source = CalibrationSource.Open("org/calib", Options(bed));

        Assert.Equal(["text:a", "text:b", "text:c"], Describe(source.ReadDocuments()));
        Assert.Equal("org/calib@main::train", source.Description);
        var fetched = bed.Server.FileRequests.Where(r => !r.ToCdn).Select(r => r.Path).Distinct().ToList();
        Assert.All(fetched, p => Assert.Contains("/data/train-0000", p));
        Assert.Equal(2, fetched.Count);
        Assert.True(Directory.Exists(Path.Combine(bed.Cache, "datasets--org--calib", "snapshots")));
    }

    [Fact]
    public void Hub_dataset_second_open_comes_from_the_cache()
    {
        using var bed = Bed();
        CalibrationSource.Open("org/calib", Options(bed)).ReadDocuments().ToList();
        bed.Server.Requests.Clear();

        var again = CalibrationSource.Open("org/calib", Options(bed));

        Assert.Equal(["text:a", "text:b", "text:c"], Describe(again.ReadDocuments()));
        Assert.Empty(bed.Server.FileRequests);
    }

    [Theory]
    [InlineData("org/calib:cfg:train", "text:cfg")]
    [InlineData("org/calib:cfg", "text:cfg")]
    [InlineData("org/calib::test", "text:t")]
    [InlineData("org/calib::train_sft", "text:sft")]
    public void Hub_config_and_split_pick_their_files(string spec, string expected)
    {
        using var bed = Bed();
        Assert.Equal([expected], Describe(CalibrationSource.Open(spec, Options(bed)).ReadDocuments()));
    }

    [Fact]
    public void Hub_split_without_files_names_the_patterns_it_tried()
    {
        using var bed = Bed();
        var e = Assert.Throws<HubException>(() => CalibrationSource.Open("org/calib::validation", Options(bed)));
        Assert.Contains("org/calib", e.Message);
        Assert.Contains("data/validation-*.parquet", e.Message);
    }

    [Fact]
    public void Missing_hub_dataset_is_a_hub_error()
    {
        using var bed = Bed();
        Assert.Throws<HubException>(() => CalibrationSource.Open("org/nothing", Options(bed)));
    }

    [Theory]
    [InlineData("Salesforce/wikitext:wikitext-2-raw-v1:train", "Salesforce/wikitext", "main", "wikitext-2-raw-v1", "train")]
    [InlineData("HuggingFaceH4/ultrachat_200k::train_sft", "HuggingFaceH4/ultrachat_200k", "main", null, "train_sft")]
    [InlineData("allenai/c4@refs/convert/parquet:en:validation", "allenai/c4", "refs/convert/parquet", "en", "validation")]
    [InlineData("garage-bAInd/Open-Platypus", "garage-bAInd/Open-Platypus", "main", null, "train")]
    public void Hub_spec_parses_repo_revision_config_and_split(string spec, string repo, string revision, string? config, string split) =>
        Assert.Equal(new HubDatasetSpec(repo, revision, config, split), HubDatasetSpec.TryParse(spec));

    [Theory]
    [InlineData("./data.txt")]
    [InlineData("/abs/path")]
    [InlineData("a/b/c")]
    [InlineData("org/name:a:b:c")]
    [InlineData("org/name@")]
    public void Non_hub_specs_do_not_parse(string spec) => Assert.Null(HubDatasetSpec.TryParse(spec));

    [Fact]
    public void Hub_patterns_follow_the_hub_layout()
    {
        Assert.Equal(["wikitext-2-raw-v1/train-*.parquet", "wikitext-2-raw-v1/train/*.parquet"],
            HubDatasetSpec.TryParse("Salesforce/wikitext:wikitext-2-raw-v1")!.AllowPatterns);
        Assert.Equal(["data/train_sft-*.parquet", "default/train_sft/*.parquet"],
            HubDatasetSpec.TryParse("HuggingFaceH4/ultrachat_200k::train_sft")!.AllowPatterns);
    }
}
