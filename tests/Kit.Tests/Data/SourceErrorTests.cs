using Kit.Data;
using Kit.Models.Tokenizers;
using ParquetSharp;
using static Kit.Tests.Data.DataFixtures;

namespace Kit.Tests.Data;

public sealed class SourceErrorTests
{
    static InvalidDataException ReadFails(string path, SourceOptions? options = null) =>
        Assert.Throws<InvalidDataException>(() => CalibrationSource.Open(path, options).ReadDocuments().ToList());

    [Fact]
    public void Unknown_extension_names_the_file_and_the_known_types()
    {
        string path = WriteFile("data.csv", "text\nhello\n");
        var e = Assert.Throws<ArgumentException>(() => CalibrationSource.Open(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("'.csv'", e.Message);
        Assert.Contains(".parquet", e.Message);
    }

    [Fact]
    public void Spec_that_is_neither_path_nor_hub_id_says_so()
    {
        var e = Assert.Throws<FileNotFoundException>(() => CalibrationSource.Open("./no/such/folder"));
        Assert.Contains("./no/such/folder", e.Message);
        Assert.Contains("org/name", e.Message);
    }

    [Fact]
    public void Missing_relative_data_file_is_not_taken_for_a_hub_id()
    {
        var e = Assert.Throws<FileNotFoundException>(() => CalibrationSource.Open("data/train.jsonl"));
        Assert.Equal("calibration file not found: data/train.jsonl", e.Message);
    }

    [Fact]
    public void Folder_without_data_files_says_so()
    {
        string dir = TestPaths.NewTempDir();
        File.WriteAllText(Path.Combine(dir, "README.md"), "hi");
        var e = Assert.Throws<ArgumentException>(() => CalibrationSource.Open(dir));
        Assert.Contains(dir, e.Message);
    }

    [Theory]
    [InlineData("empty.txt", "")]
    [InlineData("blank.txt", " \n\n\t\n")]
    [InlineData("empty.jsonl", "")]
    [InlineData("blank.jsonl", "\n  \n")]
    public void Empty_file_is_reported_as_empty(string name, string content)
    {
        string path = WriteFile(name, content);
        var e = ReadFails(path);
        Assert.Contains(path, e.Message);
        Assert.Contains("is empty", e.Message);
    }

    [Fact]
    public void Empty_parquet_file_is_reported_as_empty()
    {
        string path = Path.Combine(TestPaths.NewTempDir(), "empty.parquet");
        WriteStrings(path, ["text"], []);
        var e = ReadFails(path);
        Assert.Contains("is empty: it has no rows", e.Message);
    }

    [Fact]
    public void Malformed_jsonl_line_names_its_line_number()
    {
        string path = WriteFile("d.jsonl", "{\"text\":\"a\"}\n\n{\"text\": \"b\",}\n");
        var e = ReadFails(path);
        Assert.Contains($"{path} line 3: not valid JSON", e.Message);
    }

    [Fact]
    public void Jsonl_record_that_is_not_an_object_names_its_line()
    {
        var e = ReadFails(WriteFile("d.jsonl", "{\"text\":\"a\"}\n[1,2]\n"));
        Assert.Contains("line 2: expected a JSON object, found a list", e.Message);
    }

    [Fact]
    public void Jsonl_record_without_the_field_lists_the_fields_it_has()
    {
        var e = ReadFails(WriteFile("d.jsonl", "{\"text\":\"a\"}\n{\"body\":\"b\",\"id\":2}\n"));
        Assert.Contains("line 2 has no 'text' field", e.Message);
        Assert.Contains("only 'body', 'id'", e.Message);
    }

    [Fact]
    public void Jsonl_text_of_the_wrong_type_names_line_and_field()
    {
        var e = ReadFails(WriteFile("d.jsonl", "{\"text\":17}\n"));
        Assert.Contains("line 1: field 'text' is a number, not a string", e.Message);
    }

    [Fact]
    public void Chat_message_without_content_names_line_and_index()
    {
        var e = ReadFails(WriteFile("c.jsonl", "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"},{\"role\":\"assistant\"}]}\n"));
        Assert.Contains("line 1, messages[1]: no 'content'", e.Message);
    }

    [Fact]
    public void Parquet_without_the_column_lists_the_columns_present()
    {
        string path = Path.Combine(TestPaths.NewTempDir(), "d.parquet");
        WriteStrings(path, ["id", "body"], [["1", "x"]]);
        var e = ReadFails(path);
        Assert.Contains(path, e.Message);
        Assert.Contains("no 'text' field", e.Message);
        Assert.Contains("only 'id', 'body'", e.Message);
    }

    [Fact]
    public void Parquet_text_column_that_is_not_strings_says_its_type()
    {
        string path = Path.Combine(TestPaths.NewTempDir(), "d.parquet");
        using (var writer = new ParquetFileWriter(path, [new Column<long>("text")]))
        {
            using var group = writer.AppendRowGroup();
            using var column = group.NextColumn().LogicalWriter<long>();
            column.WriteBatch([1L, 2L]);
            writer.Close();
        }
        var e = ReadFails(path);
        Assert.Contains("column 'text' is not a plain string column", e.Message);
        Assert.Contains("Int64", e.Message);
    }

    [Fact]
    public void File_that_is_not_parquet_says_so()
    {
        var e = ReadFails(WriteFile("d.parquet", "this is not parquet at all"));
        Assert.Contains("is not a readable Parquet file", e.Message);
    }

    [Fact]
    public void Chats_without_a_chat_template_ask_for_one()
    {
        string path = WriteFile("c.jsonl", "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}\n");
        var e = Assert.Throws<InvalidOperationException>(() =>
            TokenizedCorpus.Build(CalibrationSource.Open(path), Tokenizer));
        Assert.Contains(path, e.Message);
        Assert.Contains("ChatTemplate", e.Message);
    }

    [Fact]
    public void Source_of_only_empty_documents_holds_no_document()
    {
        string path = WriteFile("d.jsonl", "{\"text\":\"\"}\n{\"text\":\"  \"}\n");
        var e = Assert.Throws<InvalidDataException>(() => TokenizedCorpus.Build(CalibrationSource.Open(path), Tokenizer));
        Assert.Contains($"{path} holds no non-empty document", e.Message);
    }

    [Fact]
    public void Too_few_tokens_for_n_windows_says_how_many_there_are()
    {
        const string text = "Once upon a time there was a little dog.";
        string path = WriteFile("short.txt", text);
        int tokens = Tokenizer.Encode(text).Count + 1; // BOS ... EOS
        var options = new CalibrationOptions { NumSamples = 4, SequenceLength = tokens / 2 };
        var e = Assert.Throws<InvalidOperationException>(() => CalibrationSampler.Sample(CalibrationSource.Open(path), Tokenizer, options));
        Assert.Contains($"{path} holds {tokens} tokens", e.Message);
        Assert.Contains($"4 × {tokens / 2} = {4 * (tokens / 2)}", e.Message);
    }

    [Fact]
    public void Too_few_long_documents_says_how_many_are_long_enough()
    {
        string path = WriteFile("d.jsonl", "{\"text\":\"One day a cat sat on the mat and looked at the big red sun.\"}\n{\"text\":\"Hi.\"}\n");
        var options = new CalibrationOptions { NumSamples = 2, SequenceLength = 8, Packing = CalibrationPacking.Documents };
        var e = Assert.Throws<InvalidOperationException>(() => CalibrationSampler.Sample(CalibrationSource.Open(path), Tokenizer, options));
        Assert.Contains($"only 1 of the 2 documents of {path} have at least 8 tokens", e.Message);
    }

    [Fact]
    public void Chat_template_family_can_be_given_for_a_tokenizer_without_one()
    {
        string path = WriteFile("c.jsonl", "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}\n");
        var corpus = TokenizedCorpus.Build(CalibrationSource.Open(path), Tokenizer, chatTemplate: ChatTemplateFamily.Llama2);
        var expected = Tokenizer.Encode("<s>[INST] hi [/INST]", addSpecialTokens: false).Append(2).ToArray();
        Assert.Equal(expected, corpus.Tokens.ToArray());
    }
}
