using System.Text.Json.Nodes;
using Kit.Formats.CompressedTensors;
using Kit.Models.Safetensors;
using Kit.Quantization;
using static TorchSharp.torch;

namespace Kit.Tests.Formats.CompressedTensors;

public sealed class BadInputTests
{
    const string Module = "model.layers.0.mlp.down_proj";
    static readonly QuantizationArgs Grid = QuantizationPresets.W4A16 with { GroupSize = 4 };
    static readonly CompressionRecipe W4 = new() { Method = CompressionMethod.Gptq, Weights = Grid };

    readonly string _dir = TestPaths.NewTempDir();

    string WriteGood(Func<IReadOnlyList<SafetensorsEntry>, IEnumerable<SafetensorsEntry>>? edit = null, Action<JsonObject>? editConfig = null)
    {
        var writer = new CompressedTensorsWriter(W4, ScalarType.BFloat16);
        var entries = writer.ModuleTensors(Module, CtTestData.Make(Grid, rows: 4, columns: 8, seed: 1));
        var config = writer.Config.ToJson();
        editConfig?.Invoke(config);
        return CtTestData.WriteModel(_dir, edit is null ? entries : edit(entries), config);
    }

    string ConfigPath => Path.Combine(_dir, "config.json");

    [Fact]
    public void Corrupt_config_json_names_the_file()
    {
        WriteGood();
        File.WriteAllText(ConfigPath, "{\"quantization_config\": {");
        var e = Assert.Throws<InvalidDataException>(() => CompressedTensorsReader.Open(_dir));
        Assert.Contains(ConfigPath, e.Message);
        Assert.Contains("not valid JSON", e.Message);
        Assert.Throws<InvalidDataException>(() => CompressedTensorsReader.IsCompressedTensors(_dir));
    }

    [Fact]
    public void A_malformed_field_is_named_with_its_path()
    {
        WriteGood(editConfig: c => c["config_groups"]!["group_0"]!["weights"]!["num_bits"] = "four");
        var e = Assert.Throws<InvalidDataException>(() => CompressedTensorsReader.Open(_dir));
        Assert.Contains(ConfigPath, e.Message);
        Assert.Contains("quantization_config.config_groups.group_0.weights.num_bits", e.Message);
    }

    [Fact]
    public void An_unknown_format_is_refused_at_open()
    {
        WriteGood(editConfig: c =>
        {
            c["format"] = "nvfp4-pack-quantized";
            c["config_groups"]!["group_0"]!["format"] = "nvfp4-pack-quantized";
        });
        var e = Assert.Throws<InvalidDataException>(() => CompressedTensorsReader.Open(_dir));
        Assert.Contains(ConfigPath, e.Message);
        Assert.Contains("'nvfp4-pack-quantized'", e.Message);
    }

    [Fact]
    public void Other_quant_methods_and_plain_models_are_not_compressed_tensors()
    {
        WriteGood(editConfig: c => c["quant_method"] = "gptq");
        Assert.False(CompressedTensorsReader.IsCompressedTensors(_dir));
        var e = Assert.Throws<InvalidDataException>(() => CompressedTensorsReader.Open(_dir));
        Assert.Contains("quantization_config.quant_method is 'gptq'", e.Message);

        File.WriteAllText(ConfigPath, CtTestData.PlainConfig);
        Assert.False(CompressedTensorsReader.IsCompressedTensors(_dir));
        Assert.Contains("quantization_config is missing", Assert.Throws<InvalidDataException>(() => CompressedTensorsReader.Open(_dir)).Message);
        Assert.False(CompressedTensorsReader.IsCompressedTensors(TestPaths.NewTempDir()));
    }

    [Fact]
    public void Uncompressed_status_is_refused()
    {
        WriteGood(editConfig: c => c["quantization_status"] = "frozen");
        var e = Assert.Throws<InvalidDataException>(() => CompressedTensorsReader.Open(_dir));
        Assert.Contains("quantization_status is 'frozen'", e.Message);
    }

    [Fact]
    public void A_missing_tensor_is_named()
    {
        WriteGood(entries => entries.Where(e => !e.Name.EndsWith(".weight_shape", StringComparison.Ordinal)));
        using var reader = CompressedTensorsReader.Open(_dir);
        var e = Assert.Throws<InvalidDataException>(() => reader.Read(Module));
        Assert.Contains(_dir, e.Message);
        Assert.Contains($"'{Module}.weight_shape' is missing", e.Message);
    }

    [Fact]
    public void A_packed_weight_of_the_wrong_shape_names_its_file_and_tensor()
    {
        using var wrong = zeros(4, 2, ScalarType.Int32);
        WriteGood(entries => entries.Select(e => e.Name.EndsWith(".weight_packed", StringComparison.Ordinal) ? e with { Tensor = wrong } : e));
        using var reader = CompressedTensorsReader.Open(_dir);
        var e = Assert.Throws<InvalidDataException>(() => reader.Read(Module));
        Assert.Contains(reader.Checkpoint.PathOf(Module + ".weight_packed"), e.Message);
        Assert.Contains($"'{Module}.weight_packed' is I32 [4, 2], expected I32 [4, 1]", e.Message);
    }

    [Fact]
    public void A_scale_of_the_wrong_shape_names_its_file_and_tensor()
    {
        using var wrong = ones(4, 3).to_type(ScalarType.BFloat16);
        WriteGood(entries => entries.Select(e => e.Name.EndsWith(".weight_scale", StringComparison.Ordinal) ? e with { Tensor = wrong } : e));
        using var reader = CompressedTensorsReader.Open(_dir);
        var e = Assert.Throws<InvalidDataException>(() => reader.Read(Module));
        Assert.Contains(reader.Checkpoint.PathOf(Module + ".weight_scale"), e.Message);
        Assert.Contains("expected a float tensor [4, 2]", e.Message);
    }

    [Fact]
    public void A_quantized_module_no_group_targets_is_refused()
    {
        WriteGood(editConfig: c => c["ignore"] = new JsonArray("lm_head", "re:.*down_proj"));
        var e = Assert.Throws<InvalidDataException>(() => CompressedTensorsReader.Open(_dir));
        Assert.Contains($"'{Module}.weight_scale'", e.Message);
        Assert.Contains("ignored or targeted by no config group", e.Message);
    }

    [Fact]
    public void Groups_that_do_not_divide_in_features_name_the_module()
    {
        var writer = new CompressedTensorsWriter(W4, ScalarType.BFloat16);
        var ragged = Rtn.Quantize(randn(3, 10), Grid);
        var e = Assert.Throws<ArgumentException>(() => writer.ModuleTensors(Module, ragged));
        Assert.Contains(Module, e.Message);
        Assert.Contains("in_features 10 is not a multiple of group size 4", e.Message);
    }

    [Fact]
    public void Writer_refuses_weights_that_do_not_fit_the_recipe()
    {
        var writer = new CompressedTensorsWriter(W4, ScalarType.BFloat16);
        var eightBit = CtTestData.Make(Grid with { NumBits = 8 }, 2, 8, seed: 1);
        Assert.Contains("the recipe's scheme is Int 4-bit symmetric Group 4", Assert.Throws<ArgumentException>(() => writer.ModuleTensors(Module, eightBit)).Message);

        var good = CtTestData.Make(Grid, 2, 8, seed: 2);
        var outOfGrid = good with { Codes = good.Codes.clone().fill_(9) };
        Assert.Contains("codes span [9, 9], outside the 4-bit grid [-8, 7]", Assert.Throws<ArgumentException>(() => writer.ModuleTensors(Module, outOfGrid)).Message);

        var regrouped = CtTestData.Make(Grid, 2, 8, seed: 3, regroup: true);
        Assert.Contains("act-order 'group'", Assert.Throws<ArgumentException>(() => writer.ModuleTensors(Module, regrouped)).Message);

        var fp16Overflow = good with { Scale = good.Scale.clone().fill_(1e6f) };
        var fp16 = new CompressedTensorsWriter(W4, ScalarType.Float16);
        Assert.Contains("not a positive finite Float16", Assert.Throws<ArgumentException>(() => fp16.ModuleTensors(Module, fp16Overflow)).Message);

        Assert.Throws<ArgumentException>(() => new CompressedTensorsWriter(W4, ScalarType.Int8));
        var pruneOnly = new CompressionRecipe { Method = CompressionMethod.Magnitude, Sparsity = SparsityPattern.NOfM(2, 4) };
        Assert.Contains("saved dense", Assert.Throws<ArgumentException>(() => new CompressedTensorsWriter(pruneOnly, ScalarType.BFloat16)).Message);
    }

    [Fact]
    public void A_layer_with_q_but_not_k_and_v_quantized_is_refused()
    {
        var writer = new CompressedTensorsWriter(W4, ScalarType.BFloat16);
        var modules = new Dictionary<string, QuantizedWeight>
        {
            ["model.layers.1.self_attn.q_proj"] = CtTestData.Make(Grid, 2, 8, seed: 1),
            ["model.layers.1.mlp.down_proj"] = CtTestData.Make(Grid, 2, 8, seed: 2),
        };
        var e = Assert.Throws<ArgumentException>(() => writer.LayerTensors(modules));
        Assert.Contains("model.layers.1.self_attn.k_proj and model.layers.1.self_attn.v_proj are not", e.Message);
    }
}
