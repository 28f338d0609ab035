using Kit.Data;
using Kit.Evaluation.Tasks;

namespace Kit.Tests.Evaluation.Tasks;

public sealed class TaskDocumentTests
{
    static List<TaskDocument> Documents(string task, string path, int? limit = null) =>
        TaskRegistry.Load(task, path).ReadDocuments(limit).ToList();

    static void AssertRequests(TaskDocument document, params (string Context, string Continuation)[] expected) =>
        Assert.Equal(expected.Select(e => new LoglikelihoodRequest(e.Context, e.Continuation)), document.Requests);

    [Theory]
    // HellaSwag validation, WikiHow: " [title]" becomes ". ", other brackets go, then double spaces become single.
    [InlineData("[header] How to make a tie dye shirt [title] Fold the shirt. [step] Lay it flat. ",
        " How to make a tie dye shirt. Fold the shirt. Lay it flat.")]
    // Python's str.replace is one left-to-right pass: three spaces become two.
    [InlineData("a   b", "a  b")]
    // The shortest bracketed run is removed, not everything between the first "[" and the last "]".
    [InlineData("keep [x] this [y] too", "keep this too")]
    [InlineData("  Then the man rides the bike.  ", "Then the man rides the bike.")]
    public void HellaSwag_preprocess_follows_lm_eval_utils(string raw, string expected) =>
        Assert.Equal(expected, HellaSwag.Preprocess(raw));

    [Theory]
    [InlineData("he", "He")]
    [InlineData("then the MAN", "Then the man")]
    [InlineData("", "")]
    public void HellaSwag_capitalize_lowers_the_rest_like_python(string raw, string expected) =>
        Assert.Equal(expected, HellaSwag.Capitalize(raw));

    // The first validation document of Rowan/hellaswag (ind 24, ActivityNet).
    const string RoofJson = """{"ind": 24, "activity_label": "Roof shingle removal", "ctx_a": "A man is sitting on a roof.", "ctx_b": "he", "ctx": "A man is sitting on a roof. he", "endings": ["is using wrap to wrap a pair of skis.", "is ripping level tiles off.", "is holding a rubik's cube.", "starts pulling up roofing on a roof."], "source_id": "activitynet~v_-JhWjGDPHMY", "split": "val", "split_type": "indomain", "label": "3"}""";

    static readonly string[] RoofEndings = ["is using wrap to wrap a pair of skis.", "is ripping level tiles off.", "is holding a rubik's cube.", "starts pulling up roofing on a roof."];

    static void AssertRoof(TaskDocument roof)
    {
        Assert.Equal(3, roof.Gold);
        Assert.Equal(RoofEndings, roof.Choices);
        AssertRequests(roof, RoofEndings.Select(e => ("Roof shingle removal: A man is sitting on a roof. He", " " + e)).ToArray());
    }

    [Fact]
    public void HellaSwag_jsonl_document_has_query_endings_and_string_label()
    {
        var docs = Documents("hellaswag", TaskFiles.Jsonl("hellaswag_val.jsonl", RoofJson));
        AssertRoof(Assert.Single(docs));
    }

    [Fact]
    public void HellaSwag_parquet_reads_the_endings_list_column()
    {
        string path = TaskFiles.HellaSwagParquet(
            ("Roof shingle removal", "A man is sitting on a roof.", "he", RoofEndings, "3"),
            ("Making a sandwich", "[header] How to make a sandwich [title] Get bread.", "", ["[step] Toast it.", "Eat  it."], "0"));
        var docs = Documents("hellaswag", path);

        Assert.Equal(2, docs.Count);
        AssertRoof(docs[0]);
        // utils.preprocess strips before it drops brackets, so "[step] Toast it." keeps a leading space.
        Assert.Equal([" Toast it.", "Eat it."], docs[1].Choices);
        Assert.Equal("Making a sandwich: How to make a sandwich. Get bread.", docs[1].Requests[0].Context);
    }

    [Fact]
    public void Arc_numeric_labels_map_the_answer_key_to_its_index()
    {
        string path = TaskFiles.ArcParquet(
            ("Which is a liquid?", ["rock", "water", "wood", "iron"], ["1", "2", "3", "4"], "2"),
            ("Which gas do plants take in?", ["oxygen", "carbon dioxide", "helium"], ["A", "B", "C"], "B"),
            ("Pick the last.", ["one", "two", "three", "four", "five"], ["A", "B", "C", "D", "E"], "E"));
        var docs = Documents("arc_easy", path);

        Assert.Equal([1, 1, 4], docs.Select(d => d.Gold));
        AssertRequests(docs[0], ("Question: Which is a liquid?\nAnswer:", " rock"), ("Question: Which is a liquid?\nAnswer:", " water"),
            ("Question: Which is a liquid?\nAnswer:", " wood"), ("Question: Which is a liquid?\nAnswer:", " iron"));
        Assert.Equal(["oxygen", "carbon dioxide", "helium"], docs[1].Choices);
    }

    [Fact]
    public void Arc_answer_key_outside_the_labels_names_the_row_and_field()
    {
        string path = TaskFiles.ArcParquet(("Q?", ["a", "b"], ["A", "B"], "C"));
        var e = Assert.Throws<InvalidDataException>(() => Documents("arc_challenge", path));
        Assert.Contains("row 0", e.Message);
        Assert.Contains("'answerKey'", e.Message);
    }

    [Fact]
    public void Piqa_question_answer_prompt_with_integer_label()
    {
        string path = TaskFiles.PiqaParquet(("How do I dry a cup?", "Use a towel.", "Use a fork.", 0), ("Open a jar", "Twist the lid.", "Hit it.", 1));
        var docs = Documents("piqa", path);

        Assert.Equal([0, 1], docs.Select(d => d.Gold));
        AssertRequests(docs[0], ("Question: How do I dry a cup?\nAnswer:", " Use a towel."), ("Question: How do I dry a cup?\nAnswer:", " Use a fork."));
    }

    [Fact]
    public void WinoGrande_substitutes_each_option_and_scores_the_shared_rest()
    {
        string path = TaskFiles.Jsonl("dev.jsonl",
            """{"sentence": "The trophy doesn't fit into the brown suitcase because the _ is too large.", "option1": "trophy", "option2": "suitcase", "answer": "1"}""",
            """{"sentence": "Sarah was a much better surgeon than Maria so _ always got the harder cases.", "option1": "Sarah", "option2": "Maria", "answer": "2"}""");
        var docs = Documents("winogrande", path);

        Assert.Equal([0, 1], docs.Select(d => d.Gold));
        AssertRequests(docs[0],
            ("The trophy doesn't fit into the brown suitcase because the trophy", " is too large."),
            ("The trophy doesn't fit into the brown suitcase because the suitcase", " is too large."));
        AssertRequests(docs[1],
            ("Sarah was a much better surgeon than Maria so Sarah", " always got the harder cases."),
            ("Sarah was a much better surgeon than Maria so Maria", " always got the harder cases."));
    }

    [Fact]
    public void Lambada_target_is_the_last_word_with_its_leading_space()
    {
        string path = TaskFiles.Jsonl("lambada_test.jsonl",
            """{"text": "she looked at the  old map and then folded the map"}""");
        var doc = Assert.Single(Documents("lambada_openai", path));

        // Split on single spaces: the double space survives inside the context.
        AssertRequests(doc, ("she looked at the  old map and then folded the", " map"));
        Assert.Equal(0, doc.Gold);
    }

    [Fact]
    public void Limit_keeps_the_first_documents_of_a_folder_in_path_order()
    {
        string dir = TestPaths.NewTempDir();
        File.WriteAllLines(Path.Combine(dir, "a.jsonl"), ["""{"text": "one two"}""", """{"text": "three four"}"""]);
        File.WriteAllLines(Path.Combine(dir, "b.jsonl"), ["""{"text": "five six"}"""]);

        var docs = Documents("lambada_openai", dir, limit: 3);
        Assert.Equal([" two", " four", " six"], docs.Select(d => d.Requests[0].Continuation));
        Assert.Equal(2, TaskRegistry.Load("lambada_openai", dir).ReadDocuments(2).Count());
    }

    [Fact]
    public void Missing_field_names_the_line_and_the_fields_present()
    {
        string path = TaskFiles.Jsonl("piqa.jsonl", """{"goal": "g", "sol1": "a", "sol2": "b"}""");
        var e = Assert.Throws<InvalidDataException>(() => Documents("piqa", path));
        Assert.Contains("line 1", e.Message);
        Assert.Contains("'label'", e.Message);
        Assert.Contains("'goal'", e.Message);
    }

    [Fact]
    public void Registry_knows_the_six_tasks_and_their_lm_eval_splits()
    {
        Assert.Equal(["hellaswag", "arc_easy", "arc_challenge", "piqa", "winogrande", "lambada_openai", TaskRegistry.KitStories], TaskRegistry.Names);
        Assert.EndsWith(":validation", TaskRegistry.Get("hellaswag").Dataset);
        Assert.EndsWith(":ARC-Challenge:test", TaskRegistry.Get("arc_challenge").Dataset);
        Assert.EndsWith(":winogrande_xl:validation", TaskRegistry.Get("winogrande").Dataset);
        Assert.Equal([TaskMetrics.Acc], TaskRegistry.Get("winogrande").Metrics);
        Assert.Equal(TaskOutput.Loglikelihood, TaskRegistry.Get("lambada_openai").Output);
        Assert.Contains("hellaswag", Assert.Throws<ArgumentException>(() => TaskRegistry.Get("mmlu")).Message);
    }

    [Fact]
    public void Data_record_reads_numbers_and_digit_strings_as_integers()
    {
        var record = RecordFiles.Read(TaskFiles.Jsonl("r.jsonl", """{"a": 3, "b": "2", "c": "x", "d": 1.5}""")).Single();
        Assert.Equal(3, record.Integer("a"));
        Assert.Equal(2, record.Integer("b"));
        Assert.Throws<InvalidDataException>(() => record.Integer("c"));
        Assert.Throws<InvalidDataException>(() => record.Integer("d"));
    }
}
