using System.IO.Compression;
using System.Text;
using Kit.Data;
using Kit.Models.Tokenizers;
using static Kit.Tests.Data.DataFixtures;

namespace Kit.Tests.Data;

public sealed class TextSourceTests
{
    const string ThreeParagraphs = "First line\nstill first\n\n \n\nSecond\n\t\nThird line\n";

    [Fact]
    public void Text_file_whole_is_one_document_with_the_exact_text()
    {
        string path = WriteFile("a.txt", ThreeParagraphs);
        Assert.Equal(["text:" + ThreeParagraphs], Describe(CalibrationSource.Open(path).ReadDocuments()));
    }

    [Fact]
    public void Text_file_paragraphs_split_on_whitespace_only_lines()
    {
        string path = WriteFile("a.txt", ThreeParagraphs);
        var source = CalibrationSource.Open(path, new SourceOptions { TextMode = TextFileMode.Paragraphs });
        Assert.Equal(["text:First line\nstill first", "text:Second", "text:Third line"], Describe(source.ReadDocuments()));
    }

    [Fact]
    public void Jsonl_reads_text_field_skips_blank_lines_and_empty_texts()
    {
        string path = WriteFile("d.jsonl", "{\"text\":\"alpha\",\"id\":1}\n\n{\"text\":\"\"}\n{\"text\":null}\n{\"id\":3,\"text\":\"beta \\u00e9\"}\n");
        Assert.Equal(["text:alpha", "text:beta é"], Describe(CalibrationSource.Open(path).ReadDocuments()));
    }

    [Fact]
    public void Jsonl_reads_a_configured_field_name()
    {
        string path = WriteFile("d.jsonl", "{\"story\":\"one\",\"text\":\"not this\"}\n{\"story\":\"two\"}\n");
        var options = new SourceOptions { Fields = new DocumentFields { Text = "story" } };
        Assert.Equal(["text:one", "text:two"], Describe(CalibrationSource.Open(path, options).ReadDocuments()));
    }

    [Fact]
    public void Chat_jsonl_reads_messages_in_order()
    {
        string path = WriteFile("chat.jsonl",
            "{\"prompt\":\"p\",\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"},{\"role\":\"assistant\",\"content\":\"Hello!\"}]}\n"
            + "{\"messages\":[{\"content\":\"Be brief.\",\"role\":\"system\"},{\"role\":\"user\",\"content\":\"2+2?\"}]}\n");
        Assert.Equal(["chat:user=Hi|assistant=Hello!", "chat:system=Be brief.|user=2+2?"],
            Describe(CalibrationSource.Open(path).ReadDocuments()));
    }

    [Fact]
    public void Json_array_and_gzipped_jsonl_read_like_jsonl()
    {
        string array = WriteFile("d.json", "  [ {\"text\":\"a\"}, {\"text\":\"b\"} ]");
        string gz = Path.Combine(TestPaths.NewTempDir(), "d.jsonl.gz");
        using (var file = File.Create(gz))
        using (var zip = new GZipStream(file, CompressionLevel.Fastest))
            zip.Write(Encoding.UTF8.GetBytes("{\"text\":\"a\"}\n{\"text\":\"b\"}\n"));
        Assert.Equal(["text:a", "text:b"], Describe(CalibrationSource.Open(array).ReadDocuments()));
        Assert.Equal(["text:a", "text:b"], Describe(CalibrationSource.Open(gz).ReadDocuments()));
    }

    [Fact]
    public void Instruction_records_use_the_alpaca_prompt_of_llm_compressor()
    {
        string path = WriteFile("p.jsonl",
            "{\"instruction\":\"Add 2 and 3.\",\"input\":\"\",\"output\":\"5\"}\n{\"instruction\":\"Translate.\",\"input\":\"chat\",\"output\":\"cat\"}\n");
        // OpenPlatypusDataset.ALPACA_TEMPLATE, written out by hand.
        string first = "Below is an instruction that describes a task. Write a response that appropriately completes the request.\n\n"
            + "### Instruction:\nAdd 2 and 3.\n\n### Response:\n5";
        string second = "Below is an instruction that describes a task, paired with an input that provides further context. "
            + "Write a response that appropriately completes the request.\n\n### Instruction:\nTranslate.\n\n### Input:\nchat\n\n### Response:\ncat";
        Assert.Equal(["text:" + first, "text:" + second], Describe(CalibrationSource.Open(path).ReadDocuments()));
    }

    [Fact]
    public void Parquet_text_column_reads_all_row_groups_in_order()
    {
        string path = Path.Combine(TestPaths.NewTempDir(), "train-00000-of-00001.parquet");
        WriteStrings(path, ["id", "text"],
            [["0", " = Title = \n"], ["1", ""], ["2", " Body one .\n"]],
            [["3", null], ["4", " Body two .\n"]]);
        Assert.Equal(["text: = Title = \n", "text: Body one .\n", "text: Body two .\n"],
            Describe(CalibrationSource.Open(path).ReadDocuments()));
    }

    [Fact]
    public void Parquet_messages_list_of_struct_reads_back_each_chat()
    {
        string path = Path.Combine(TestPaths.NewTempDir(), "train_sft-00000-of-00001.parquet");
        WriteChats(path, ["p1", "p2", "p3", "p4"],
        [
            [new("user", "Hi"), new("assistant", "Hello!")],
            null,
            [],
            [new("system", "Be brief."), new("user", "2+2?"), new("assistant", "4")],
        ]);
        Assert.Equal(["chat:user=Hi|assistant=Hello!", "chat:system=Be brief.|user=2+2?|assistant=4"],
            Describe(CalibrationSource.Open(path).ReadDocuments()));
    }

    [Fact]
    public void Parquet_instruction_columns_use_the_alpaca_prompt()
    {
        string path = Path.Combine(TestPaths.NewTempDir(), "open_platypus.parquet");
        WriteStrings(path, ["input", "output", "instruction", "data_source"], [["", "5", "Add 2 and 3.", "x"]]);
        string expected = "Below is an instruction that describes a task. Write a response that appropriately completes the request.\n\n"
            + "### Instruction:\nAdd 2 and 3.\n\n### Response:\n5";
        Assert.Equal(["text:" + expected], Describe(CalibrationSource.Open(path).ReadDocuments()));
    }

    [Fact]
    public void Folder_reads_its_parquet_and_jsonl_files_in_path_order()
    {
        string dir = TestPaths.NewTempDir();
        Directory.CreateDirectory(Path.Combine(dir, "data"));
        WriteStrings(Path.Combine(dir, "data", "train-00001-of-00002.parquet"), ["text"], [["third"]]);
        WriteStrings(Path.Combine(dir, "data", "train-00000-of-00002.parquet"), ["text"], [["second"]]);
        File.WriteAllText(Path.Combine(dir, "a.jsonl"), "{\"text\":\"first\"}\n");
        File.WriteAllText(Path.Combine(dir, "README.md"), "# not data\n");
        Assert.Equal(["text:first", "text:second", "text:third"], Describe(CalibrationSource.Open(dir).ReadDocuments()));
    }

    [Fact]
    public void Chat_documents_tokenize_through_the_chat_template_without_added_specials()
    {
        var tokenizer = Tokenizer;
        ChatMessage[] chat = [new("user", "Hi"), new("assistant", "Hello!")];
        // Llama 2's format, from its Hugging Face template (bos + "[INST] " + user + " [/INST]" + " " + answer + " " + eos).
        string rendered = "<s>[INST] Hi [/INST] Hello! </s>";
        Assert.Equal(rendered, tokenizer.ApplyChatTemplate(chat, addGenerationPrompt: false, ChatTemplateFamily.Llama2));
        Assert.Equal(tokenizer.Encode(rendered, addSpecialTokens: false),
            new ChatDocument(chat).Tokenize(tokenizer, ChatTemplateFamily.Llama2));
    }
}
