using System.Text;
using System.Text.RegularExpressions;

namespace Kit.Models.Tokenizers;

/// <summary>
/// Renders chats in one of the common formats, reproducing what the model's Hugging Face Jinja
/// template produces for system, user and assistant messages. The family is recognised from markers
/// in the template text; Jinja itself is not interpreted.
/// </summary>
public sealed partial class ChatTemplate
{
    readonly bool _alwaysAddsGenerationPrompt;
    readonly bool _separatesReasoning;

    ChatTemplate(ChatTemplateFamily family, string bosToken, string eosToken, string? defaultSystemPrompt,
        bool alwaysAddsGenerationPrompt, bool separatesReasoning)
    {
        Family = family;
        BosToken = bosToken;
        EosToken = eosToken;
        DefaultSystemPrompt = defaultSystemPrompt;
        _alwaysAddsGenerationPrompt = alwaysAddsGenerationPrompt;
        _separatesReasoning = separatesReasoning;
    }

    /// <summary>The chat format.</summary>
    public ChatTemplateFamily Family { get; }

    /// <summary>The BOS text the template inserts (Llama 2, Llama 3, Mistral).</summary>
    public string BosToken { get; }

    /// <summary>The EOS text the template inserts after answers (Llama 2, Mistral, Zephyr).</summary>
    public string EosToken { get; }

    /// <summary>The system prompt a ChatML template adds when the chat has none (Qwen2's "You are a helpful assistant."), or null.</summary>
    public string? DefaultSystemPrompt { get; }

    /// <summary>The plain format of <paramref name="family"/>, with no template-specific extras.</summary>
    public static ChatTemplate For(ChatTemplateFamily family, string bosToken = "", string eosToken = "") =>
        new(family, bosToken, eosToken, null, alwaysAddsGenerationPrompt: false, separatesReasoning: false);

    /// <summary>Recognises the family of a Hugging Face Jinja chat template by its markers.</summary>
    /// <exception cref="NotSupportedException">The template is missing or of a kind Kit cannot reproduce.</exception>
    public static ChatTemplate Detect(string? template, string bosToken = "", string eosToken = "")
    {
        if (string.IsNullOrEmpty(template))
            throw new NotSupportedException(
                "the model folder has no chat_template (tokenizer_config.json or chat_template.jinja); pass a ChatTemplateFamily explicitly");
        if (template.Contains("<|start_header_id|>"))
        {
            if (template.Contains("Cutting Knowledge Date"))
                throw new NotSupportedException(
                    "this is a Llama 3.1+ chat template, which injects a dated system prompt Kit does not reproduce; pass ChatTemplateFamily.Llama3 to use the Llama 3.0 format");
            // Early Llama 3 templates append the assistant header unconditionally.
            return new(ChatTemplateFamily.Llama3, bosToken, eosToken, null,
                alwaysAddsGenerationPrompt: !template.Contains("add_generation_prompt"), separatesReasoning: false);
        }
        if (template.Contains("<|im_start|>"))
            return new(ChatTemplateFamily.ChatML, bosToken, eosToken, FindDefaultSystemPrompt(template),
                alwaysAddsGenerationPrompt: false, separatesReasoning: template.Contains("</think>"));
        if (template.Contains("[INST]"))
        {
            if (template.Contains("<<SYS>>")) return For(ChatTemplateFamily.Llama2, bosToken, eosToken);
            if (template.Contains("system_message") || template.Contains("[SYSTEM_PROMPT]") || template.Contains("[AVAILABLE_TOOLS]"))
                throw new NotSupportedException(
                    "this [INST] chat template is a later Mistral variant (system prompt or tools) Kit does not reproduce; pass a ChatTemplateFamily explicitly");
            return For(ChatTemplateFamily.Mistral, bosToken, eosToken);
        }
        if (template.Contains("<|user|>") && template.Contains("<|assistant|>"))
            return For(ChatTemplateFamily.Zephyr, bosToken, eosToken);
        throw new NotSupportedException(
            $"chat template not recognised (Kit knows Llama 3, Llama 2, Mistral, ChatML and Zephyr markers): \"{Shorten(template)}\"; pass a ChatTemplateFamily explicitly");
    }

    /// <summary>Renders the chat; <paramref name="addGenerationPrompt"/> opens an assistant turn for the model to complete.</summary>
    /// <exception cref="ArgumentException">A role is not system/user/assistant, or the roles break the family's rules.</exception>
    public string Render(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt = true)
    {
        ArgumentNullException.ThrowIfNull(messages);
        foreach (var m in messages)
            if (m.Role is not ("system" or "user" or "assistant"))
                throw new ArgumentException($"chat role '{m.Role}' is not supported; use system, user or assistant", nameof(messages));
        return Family switch
        {
            ChatTemplateFamily.Llama3 => RenderLlama3(messages, addGenerationPrompt || _alwaysAddsGenerationPrompt),
            ChatTemplateFamily.Llama2 => RenderLlama2(messages),
            ChatTemplateFamily.Mistral => RenderMistral(messages),
            ChatTemplateFamily.ChatML => RenderChatML(messages, addGenerationPrompt),
            ChatTemplateFamily.Zephyr => RenderZephyr(messages, addGenerationPrompt),
            _ => throw new InvalidOperationException($"unknown chat family {Family}"),
        };
    }

    string RenderLlama3(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt)
    {
        var sb = new StringBuilder();
        for (int i = 0; i < messages.Count; i++)
        {
            if (i == 0) sb.Append(BosToken);
            // Jinja's `message['content'] | trim` binds before `+`: only the content is trimmed.
            sb.Append("<|start_header_id|>").Append(messages[i].Role).Append("<|end_header_id|>\n\n")
              .Append(messages[i].Content.Trim()).Append("<|eot_id|>");
        }
        if (addGenerationPrompt) sb.Append("<|start_header_id|>assistant<|end_header_id|>\n\n");
        return sb.ToString();
    }

    /// <summary>Llama 2's template has no generation prompt: the text already ends with "[/INST]".</summary>
    string RenderLlama2(IReadOnlyList<ChatMessage> messages)
    {
        string? system = messages.Count > 0 && messages[0].Role == "system" ? messages[0].Content : null;
        var turns = system is null ? messages : messages.Skip(1).ToList();
        CheckAlternation(turns, "Llama 2");
        var sb = new StringBuilder();
        for (int i = 0; i < turns.Count; i++)
        {
            var content = i == 0 && system is not null
                ? "<<SYS>>\n" + system + "\n<</SYS>>\n\n" + turns[i].Content
                : turns[i].Content;
            if (turns[i].Role == "user") sb.Append(BosToken).Append("[INST] ").Append(content.Trim()).Append(" [/INST]");
            else sb.Append(' ').Append(content.Trim()).Append(' ').Append(EosToken);
        }
        return sb.ToString();
    }

    string RenderMistral(IReadOnlyList<ChatMessage> messages)
    {
        if (messages.Any(m => m.Role == "system"))
            throw new ArgumentException("the Mistral v0.1 chat template supports only user and assistant roles", nameof(messages));
        CheckAlternation(messages, "Mistral");
        var sb = new StringBuilder(BosToken);
        foreach (var m in messages)
        {
            if (m.Role == "user") sb.Append("[INST] ").Append(m.Content).Append(" [/INST]");
            else sb.Append(m.Content).Append(EosToken);
        }
        return sb.ToString();
    }

    string RenderChatML(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt)
    {
        var sb = new StringBuilder();
        if (DefaultSystemPrompt is not null && (messages.Count == 0 || messages[0].Role != "system"))
            sb.Append("<|im_start|>system\n").Append(DefaultSystemPrompt).Append("<|im_end|>\n");
        int lastQuery = LastUserQuery(messages);
        for (int i = 0; i < messages.Count; i++)
        {
            var m = messages[i];
            if (m.Role == "assistant" && _separatesReasoning)
                sb.Append(ReasoningAssistantTurn(m.Content, i > lastQuery, i == messages.Count - 1));
            else
                sb.Append("<|im_start|>").Append(m.Role).Append('\n').Append(m.Content);
            sb.Append("<|im_end|>\n");
        }
        if (addGenerationPrompt) sb.Append("<|im_start|>assistant\n");
        return sb.ToString();
    }

    /// <summary>
    /// Qwen3's template moves "&lt;think&gt;...&lt;/think&gt;" reasoning out of past answers and writes an
    /// explicit (possibly empty) think block for answers after the last user question.
    /// </summary>
    static string ReasoningAssistantTurn(string content, bool afterLastQuery, bool isLast)
    {
        string reasoning = "";
        int close = content.IndexOf("</think>", StringComparison.Ordinal);
        if (close >= 0)
        {
            var before = content[..close].TrimEnd('\n');
            int open = before.LastIndexOf("<think>", StringComparison.Ordinal);
            reasoning = (open >= 0 ? before[(open + "<think>".Length)..] : before).TrimStart('\n');
            content = content[(content.LastIndexOf("</think>", StringComparison.Ordinal) + "</think>".Length)..].TrimStart('\n');
        }
        return afterLastQuery && (isLast || reasoning.Length > 0)
            ? "<|im_start|>assistant\n<think>\n" + reasoning.Trim('\n') + "\n</think>\n\n" + content.TrimStart('\n')
            : "<|im_start|>assistant\n" + content;
    }

    static int LastUserQuery(IReadOnlyList<ChatMessage> messages)
    {
        for (int i = messages.Count - 1; i >= 0; i--)
            if (messages[i].Role == "user"
                && !(messages[i].Content.StartsWith("<tool_response>", StringComparison.Ordinal)
                     && messages[i].Content.EndsWith("</tool_response>", StringComparison.Ordinal)))
                return i;
        return messages.Count - 1;
    }

    string RenderZephyr(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt)
    {
        var sb = new StringBuilder();
        foreach (var m in messages) sb.Append("<|").Append(m.Role).Append("|>\n").Append(m.Content).Append(EosToken).Append('\n');
        // The template writes the prompt inside its message loop, so an empty chat gets none.
        if (addGenerationPrompt && messages.Count > 0) sb.Append("<|assistant|>\n");
        return sb.ToString();
    }

    static void CheckAlternation(IReadOnlyList<ChatMessage> turns, string family)
    {
        for (int i = 0; i < turns.Count; i++)
            if ((turns[i].Role == "user") != (i % 2 == 0))
                throw new ArgumentException(
                    $"{family} chat roles must alternate user/assistant/user/... after an optional system message; message {i} is '{turns[i].Role}'");
    }

    /// <summary>A default system prompt written as a literal in the template (Qwen2, Qwen2.5, SmolLM2).</summary>
    static string? FindDefaultSystemPrompt(string template)
    {
        var m = DefaultSystemRegex().Match(template);
        if (!m.Success) return null;
        return Regex.Replace(m.Groups[1].Value, @"\\(.)", e => e.Groups[1].Value switch { "n" => "\n", "t" => "\t", var c => c });
    }

    [GeneratedRegex(@"<\|im_start\|>system(?:\\n|\n)([^'""{}+]+?)<\|im_end\|>")]
    private static partial Regex DefaultSystemRegex();

    static string Shorten(string text) => text.Length <= 80 ? text : text[..80] + "...";
}
