using Kit.Evaluation.Tasks;
using Kit.Models.Hub;
using Kit.Tests.Models.Hub;

namespace Kit.Tests.Evaluation.Tasks;

public sealed class TaskHubTests
{
    [Fact]
    public void A_task_downloads_only_its_split_into_the_hub_cache_and_then_works_offline()
    {
        using var bed = new HubTestBed();
        byte[] validation = File.ReadAllBytes(TaskFiles.HellaSwagParquet(
            ("Roof shingle removal", "A man is sitting on a roof.", "he", ["is using wrap.", "starts pulling up roofing."], "1")));
        byte[] train = File.ReadAllBytes(TaskFiles.HellaSwagParquet(("Other", "x.", "y", ["a", "b"], "0")));
        bed.Server.AddRepo("Rowan/hellaswag", RepoType.Dataset)
            .File("data/validation-00000-of-00001.parquet", validation)
            .File("data/train-00000-of-00001.parquet", train);

        var online = TaskRegistry.Load("hellaswag", options: new TaskDataOptions { Hub = new HubOptions { Endpoint = bed.Server.Endpoint, CacheDir = bed.Cache } });
        var document = Assert.Single(online.ReadDocuments());
        Assert.Equal("Roof shingle removal: A man is sitting on a roof. He", document.Requests[0].Context);
        Assert.Equal(1, document.Gold);
        // The split lm-evaluation-harness scores, in huggingface_hub's cache layout; the train split is never fetched.
        Assert.True(Directory.Exists(Path.Combine(bed.Cache, "datasets--Rowan--hellaswag", "snapshots")));
        Assert.DoesNotContain(bed.Server.Requests, r => r.Path.Contains("train-", StringComparison.Ordinal));

        bed.Server.Dispose();
        var offline = TaskRegistry.Load("hellaswag", options: new TaskDataOptions { Hub = new HubOptions { Endpoint = bed.Server.Endpoint, CacheDir = bed.Cache, Offline = true } });
        Assert.Equal(document.Requests, Assert.Single(offline.ReadDocuments()).Requests);
    }
}
