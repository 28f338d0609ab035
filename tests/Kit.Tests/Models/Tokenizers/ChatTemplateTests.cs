using Kit.Models.Tokenizers;

namespace Kit.Tests.Models.Tokenizers;

/// <summary>
/// Chat rendering against the Hugging Face templates' own output, produced with the Jinja engine of
/// @lenml/tokenizers (reference-chat.mjs beside this file); Qwen3's, which that engine cannot parse,
/// worked out by hand from its template.
/// </summary>
public sealed class ChatTemplateTests
{
    static readonly ChatMessage[] Chat =
    [
        new("system", "You are terse."),
        new("user", " Hi there! "),
        new("assistant", "Hello."),
        new("user", "Count to 3\nplease."),
    ];

    static readonly ChatMessage[] NoSystem = Chat[1..];

    const string Qwen2Template =
        "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

    const string Llama2Template =
        "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}{% set system_message = messages[0]['content'] %}{% else %}{% set loop_messages = messages %}{% set system_message = false %}{% endif %}{% for message in loop_messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if loop.index0 == 0 and system_message != false %}{% set content = '<<SYS>>\\n' + system_message + '\\n<</SYS>>\\n\\n' + message['content'] %}{% else %}{% set content = message['content'] %}{% endif %}{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ ' '  + content.strip() + ' ' + eos_token }}{% endif %}{% endfor %}";

    const string MistralTemplate =
        "{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token}}{% else %}{{ raise_exception('Only user and assistant roles are supported!') }}{% endif %}{% endfor %}";

    const string ZephyrTemplate =
        "{% for message in messages %}\n{% if message['role'] == 'user' %}\n{{ '<|user|>\n' + message['content'] + eos_token }}\n{% elif message['role'] == 'system' %}\n{{ '<|system|>\n' + message['content'] + eos_token }}\n{% elif message['role'] == 'assistant' %}\n{{ '<|assistant|>\n'  + message['content'] + eos_token }}\n{% endif %}\n{% if loop.last and add_generation_prompt %}\n{{ '<|assistant|>' }}\n{% endif %}\n{% endfor %}";

    [Fact]
    public void Llama3_fixture_template_renders_like_hugging_face()
    {
        var expected = "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou are terse.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHi there!<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nHello.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nCount to 3\nplease.<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n";
        var tokenizer = TokenizerFixtures.Llama3;
        Assert.Equal(ChatTemplateFamily.Llama3, tokenizer.GetChatTemplate().Family);
        Assert.Equal(expected, tokenizer.ApplyChatTemplate(Chat, addGenerationPrompt: true));
        // This early Llama 3 template has no add_generation_prompt switch: the header is always appended.
        Assert.Equal(expected, tokenizer.ApplyChatTemplate(Chat, addGenerationPrompt: false));
    }

    [Fact]
    public void Llama3_format_omits_the_prompt_when_asked_if_the_template_has_the_switch()
    {
        var template = ChatTemplate.For(ChatTemplateFamily.Llama3, "<|begin_of_text|>");
        Assert.Equal("<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi there!<|eot_id|>",
            template.Render([new("user", " Hi there! ")], addGenerationPrompt: false));
    }

    [Fact]
    public void Qwen3_fixture_template_renders_chatml()
    {
        var tokenizer = TokenizerFixtures.Qwen3;
        Assert.Equal(ChatTemplateFamily.ChatML, tokenizer.GetChatTemplate().Family);
        Assert.Null(tokenizer.GetChatTemplate().DefaultSystemPrompt);
        Assert.Equal(
            "<|im_start|>system\nYou are terse.<|im_end|>\n<|im_start|>user\n Hi there! <|im_end|>\n<|im_start|>assistant\nHello.<|im_end|>\n<|im_start|>user\nCount to 3\nplease.<|im_end|>\n<|im_start|>assistant\n",
            tokenizer.ApplyChatTemplate(Chat));
    }

    [Fact]
    public void Qwen3_template_moves_reasoning_out_of_answers_as_its_template_does()
    {
        ChatMessage[] chat =
        [
            new("user", "Q1"),
            new("assistant", "<think>\nold thoughts\n</think>\n\nA1"),
            new("user", "Q2"),
            new("assistant", "<think>\ncounting\n</think>\n\n1 2 3"),
        ];
        // Past answers lose their reasoning; the answer after the last question keeps it in a think block.
        Assert.Equal(
            "<|im_start|>user\nQ1<|im_end|>\n<|im_start|>assistant\nA1<|im_end|>\n<|im_start|>user\nQ2<|im_end|>\n<|im_start|>assistant\n<think>\ncounting\n</think>\n\n1 2 3<|im_end|>\n",
            TokenizerFixtures.Qwen3.ApplyChatTemplate(chat, addGenerationPrompt: false));
        // A final plain answer gets an empty think block.
        Assert.Equal(
            "<|im_start|>user\nQ1<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\nA1<|im_end|>\n",
            TokenizerFixtures.Qwen3.ApplyChatTemplate([new("user", "Q1"), new("assistant", "A1")], addGenerationPrompt: false));
    }

    [Fact]
    public void Qwen2_template_adds_its_default_system_prompt()
    {
        var template = ChatTemplate.Detect(Qwen2Template);
        Assert.Equal("You are a helpful assistant.", template.DefaultSystemPrompt);
        Assert.Equal(
            "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n Hi there! <|im_end|>\n<|im_start|>assistant\nHello.<|im_end|>\n<|im_start|>user\nCount to 3\nplease.<|im_end|>\n<|im_start|>assistant\n",
            template.Render(NoSystem));
        Assert.Equal(
            "<|im_start|>system\nYou are terse.<|im_end|>\n<|im_start|>user\n Hi there! <|im_end|>\n<|im_start|>assistant\nHello.<|im_end|>\n<|im_start|>user\nCount to 3\nplease.<|im_end|>\n<|im_start|>assistant\n",
            template.Render(Chat));
    }

    [Fact]
    public void Llama2_template_renders_like_hugging_face()
    {
        var template = ChatTemplate.Detect(Llama2Template, "<s>", "</s>");
        Assert.Equal(ChatTemplateFamily.Llama2, template.Family);
        Assert.Equal("<s>[INST] <<SYS>>\nYou are terse.\n<</SYS>>\n\n Hi there! [/INST] Hello. </s><s>[INST] Count to 3\nplease. [/INST]",
            template.Render(Chat));
        Assert.Equal("<s>[INST] Hi there! [/INST] Hello. </s><s>[INST] Count to 3\nplease. [/INST]", template.Render(NoSystem));
    }

    [Fact]
    public void Mistral_template_renders_like_hugging_face()
    {
        var template = ChatTemplate.Detect(MistralTemplate, "<s>", "</s>");
        Assert.Equal(ChatTemplateFamily.Mistral, template.Family);
        Assert.Equal("<s>[INST]  Hi there!  [/INST]Hello.</s>[INST] Count to 3\nplease. [/INST]", template.Render(NoSystem));
        Assert.Throws<ArgumentException>(() => template.Render(Chat));
    }

    [Fact]
    public void Zephyr_template_renders_like_hugging_face()
    {
        var template = ChatTemplate.Detect(ZephyrTemplate, "<s>", "</s>");
        Assert.Equal(ChatTemplateFamily.Zephyr, template.Family);
        Assert.Equal("<|system|>\nYou are terse.</s>\n<|user|>\n Hi there! </s>\n<|assistant|>\nHello.</s>\n<|user|>\nCount to 3\nplease.</s>\n<|assistant|>\n",
            template.Render(Chat, addGenerationPrompt: true));
        Assert.Equal("<|system|>\nYou are terse.</s>\n<|user|>\n Hi there! </s>\n<|assistant|>\nHello.</s>\n<|user|>\nCount to 3\nplease.</s>\n",
            template.Render(Chat, addGenerationPrompt: false));
    }

    [Fact]
    public void Roles_that_do_not_alternate_are_rejected()
    {
        var template = ChatTemplate.For(ChatTemplateFamily.Llama2, "<s>", "</s>");
        var e = Assert.Throws<ArgumentException>(() => template.Render([new("user", "a"), new("user", "b")]));
        Assert.Contains("alternate", e.Message);
        Assert.Throws<ArgumentException>(() => template.Render([new("tool", "x")]));
    }

    [Fact]
    public void Unknown_or_missing_templates_fail_clearly_and_an_explicit_family_overrides()
    {
        var unknown = Assert.Throws<NotSupportedException>(() => ChatTemplate.Detect("{{ messages[0]['content'] }}"));
        Assert.Contains("not recognised", unknown.Message);
        var missing = Assert.Throws<NotSupportedException>(() => TokenizerFixtures.Mistral.GetChatTemplate());
        Assert.Contains("no chat_template", missing.Message);
        var llama31 = Assert.Throws<NotSupportedException>(() =>
            ChatTemplate.Detect("{{- \"Cutting Knowledge Date: December 2023\\n\" }}<|start_header_id|>"));
        Assert.Contains("Llama 3.1", llama31.Message);

        // The Mistral fixture has no template; naming the family uses its own BOS/EOS text.
        Assert.Equal("<s>[INST] Hi [/INST]",
            TokenizerFixtures.Mistral.ApplyChatTemplate([new("user", "Hi")], family: ChatTemplateFamily.Mistral));
    }
}
