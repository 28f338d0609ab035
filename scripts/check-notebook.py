#!/usr/bin/env python3
"""Checks an executed notebook: no error output, nothing on stderr, and every cell expectation met.

A code cell states what its output must contain with tags in its metadata:
  expect-output:MIME   some output of the cell carries that MIME type (e.g. text/html for a chart)
  expect-text:WORD     WORD appears in some output of the cell (e.g. Plotly.newPlot)

Usage: check-notebook.py EXECUTED.ipynb    (exit status 1 and one line per problem when it fails)
Only the standard library, so any python3 runs it.
"""
import json
import sys


def text_of(output):
    """All text an output carries: stream text, or every MIME representation, joined."""
    if output.get("output_type") == "stream":
        parts = [output.get("text", "")]
    else:
        parts = list(output.get("data", {}).values())
        parts += [output.get("ename", ""), output.get("evalue", "")]
    return "".join("".join(p) if isinstance(p, list) else str(p) for p in parts)


def describe(number, cell):
    """'cell N (first line of its source)', to find the cell in the notebook."""
    lines = [line.strip() for line in "".join(cell.get("source", "")).splitlines() if line.strip()]
    return "cell %d (%s)" % (number, lines[0][:60] if lines else "empty")


def problems(notebook):
    for number, cell in enumerate(notebook.get("cells", []), start=1):
        if cell.get("cell_type") != "code":
            continue
        where = describe(number, cell)
        outputs = cell.get("outputs", [])
        for output in outputs:
            kind = output.get("output_type")
            if kind == "error":
                yield "%s: %s: %s" % (where, output.get("ename", "error"), output.get("evalue", "")[:500])
            elif kind == "stream" and output.get("name") == "stderr":
                yield "%s wrote to stderr: %s" % (where, text_of(output).strip()[:500])
        for tag in cell.get("metadata", {}).get("tags", []):
            key, _, value = tag.partition(":")
            if key == "expect-output" and not any(value in o.get("data", {}) for o in outputs):
                yield "%s: no %s output" % (where, value)
            elif key == "expect-text" and not any(value in text_of(o) for o in outputs):
                yield "%s: output does not contain '%s'" % (where, value)


def main(argv):
    if len(argv) != 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    with open(argv[1], encoding="utf-8") as f:
        found = list(problems(json.load(f)))
    for problem in found:
        print("%s: %s" % (argv[1], problem), file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
