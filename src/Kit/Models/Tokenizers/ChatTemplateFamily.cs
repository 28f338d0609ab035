namespace Kit.Models.Tokenizers;

/// <summary>The chat formats Kit renders, each equal to its Hugging Face Jinja template's output.</summary>
public enum ChatTemplateFamily
{
    /// <summary>Llama 3: <c>&lt;|start_header_id|&gt;role&lt;|end_header_id|&gt;\n\ncontent&lt;|eot_id|&gt;</c>.</summary>
    Llama3,

    /// <summary>Llama 2 chat: <c>&lt;s&gt;[INST] &lt;&lt;SYS&gt;&gt;...&lt;&lt;/SYS&gt;&gt; user [/INST] answer &lt;/s&gt;</c>.</summary>
    Llama2,

    /// <summary>Mistral Instruct v0.1: <c>&lt;s&gt;[INST] user [/INST]answer&lt;/s&gt;</c>, no system role.</summary>
    Mistral,

    /// <summary>ChatML (Qwen2/2.5/3, SmolLM): <c>&lt;|im_start|&gt;role\ncontent&lt;|im_end|&gt;\n</c>.</summary>
    ChatML,

    /// <summary>Zephyr and TinyLlama chat: <c>&lt;|role|&gt;\ncontent&lt;/s&gt;\n</c>.</summary>
    Zephyr,
}
