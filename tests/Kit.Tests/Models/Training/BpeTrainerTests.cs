using System.Text.Json;
using Kit.Models.Tokenizers;
using Kit.Models.Training;

namespace Kit.Tests.Models.Training;

public sealed class BpeTrainerTests
{
    [Fact]
    public void Merges_follow_pair_frequencies_worked_by_hand()
    {
        // Pieces "ab", " ab", " ab": (a,b) occurs 3 times, (Ġ,a) twice → merge a+b first; then (Ġ,ab) twice.
        var (vocab, merges) = BpeTrainer.Train("ab ab ab", 3 + 256 + 2);
        Assert.Equal(new[] { ("a", "b"), ("Ġ", "ab") }, merges);
        Assert.Equal(new[] { "ab", "Ġab" }, vocab.Skip(259));
        Assert.Equal("Ġ", vocab[3 + ' ']);
    }

    [Fact]
    public void Written_tokenizer_json_loads_and_round_trips_any_text()
    {
        var (vocabList, merges) = BpeTrainer.Train("the cat sat on the mat. the dog sat on the log.", 300);
        var vocab = vocabList.ToList();
        var dir = TestPaths.NewTempDir();
        File.WriteAllText(Path.Combine(dir, "tokenizer.json"), BpeTrainer.ToTokenizerJson(vocab, merges).ToJsonString());
        File.WriteAllText(Path.Combine(dir, "tokenizer_config.json"),
            JsonSerializer.Serialize(new { add_bos_token = true, bos_token = "<|bos|>", eos_token = "<|eos|>", pad_token = "<|pad|>" }));
        var tokenizer = TokenizerLoader.FromFolder(dir);

        var ids = tokenizer.Encode("the cat");
        Assert.Equal(1, ids[0]);
        Assert.Equal(new[] { vocab.IndexOf("the"), vocab.IndexOf("Ġcat") }, ids.Skip(1));
        Assert.Equal((1, 2, 0), (tokenizer.BosId, tokenizer.EosIds.Single(), tokenizer.PadId));
        foreach (var text in new[] { "Ünïcödé and 日本語 🙂", "  spaces\n\nand lines ", "the dog's log" })
            Assert.Equal(text, tokenizer.Decode(tokenizer.Encode(text)));
    }

    [Fact]
    public void Too_small_vocabulary_is_rejected() =>
        Assert.Contains("at least 259", Assert.Throws<ArgumentException>(() => BpeTrainer.Train("x", 100)).Message);
}
