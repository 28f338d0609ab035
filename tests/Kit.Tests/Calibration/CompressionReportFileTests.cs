using Kit.Calibration;
using Kit.Evaluation.Agreement;

namespace Kit.Tests.Calibration;

public sealed class CompressionReportFileTests
{
    [Fact]
    public void A_folder_without_a_report_reads_as_none_and_a_broken_one_is_named()
    {
        string folder = TestPaths.NewTempDir();
        Assert.Null(CompressionReportFile.Read(folder, out string path));
        Assert.Equal(Path.Combine(folder, "kit_compression.json"), path);
        Assert.Empty(LayerErrors.Read(folder));

        File.WriteAllText(path, "{ \"Modules\": [ { \"Layer\": 0, ");
        var e = Assert.Throws<InvalidDataException>(() => CompressionReportFile.Read(folder, out _));
        Assert.Contains(path, e.Message);
        Assert.Contains(path, Assert.Throws<InvalidDataException>(() => LayerErrors.Read(folder)).Message);
    }

    [Fact]
    public void The_report_the_pipeline_writes_is_the_one_read_back()
    {
        string folder = TestPaths.NewTempDir();
        File.WriteAllText(Path.Combine(folder, CompressionReportFile.FileName),
            """{ "Modules": [ { "Layer": 2, "Module": "model.layers.2.mlp.up_proj", "RelativeError": 0.25, "ErrorPerToken": null, "Sparsity": 0.5 } ] }""");
        var root = CompressionReportFile.Read(folder, out _)!.Value;
        Assert.Equal(2, root.GetProperty("Modules")[0].GetProperty("Layer").GetInt32());
        var error = Assert.Single(LayerErrors.Read(folder));
        Assert.Equal((2, "model.layers.2.mlp.up_proj", 0.25, 0.5), (error.Layer, error.Module, error.RelativeError, error.Sparsity));
        Assert.True(double.IsNaN(error.ErrorPerToken));
    }
}
