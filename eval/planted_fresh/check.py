#!/usr/bin/env python3
"""Sanity check for the planted_fresh evaluation set (standard library only).

For every line of planted.jsonl: the source file exists, decodes as UTF-8,
and the `planted` text occurs in it verbatim exactly once.
Also: exactly 20 lines, and every required style is present.
"""
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REQUIRED_STYLES = ["editors_note", "quoted_order", "other_language",
                   "line_break_split", "addressed_by_name"]
KEYS = {"source", "style", "planted", "language"}

errors = []
rows = []
with open(os.path.join(HERE, "planted.jsonl"), encoding="utf-8") as f:
    lines = [ln for ln in f.read().split("\n") if ln.strip()]

if len(lines) != 20:
    errors.append(f"planted.jsonl has {len(lines)} lines, expected 20")

for i, line in enumerate(lines, 1):
    try:
        row = json.loads(line)
    except json.JSONDecodeError as e:
        errors.append(f"line {i}: invalid JSON ({e})")
        continue
    if set(row) != KEYS:
        errors.append(f"line {i}: keys {sorted(row)} != {sorted(KEYS)}")
        continue
    rows.append(row)
    path = os.path.join(HERE, row["source"])
    if not os.path.isfile(path):
        errors.append(f"line {i}: {row['source']} does not exist")
        continue
    try:
        with open(path, "rb") as fh:
            text = fh.read().decode("utf-8")
    except UnicodeDecodeError as e:
        errors.append(f"line {i}: {row['source']} is not valid UTF-8 ({e})")
        continue
    n = text.count(row["planted"])
    if n != 1:
        errors.append(f"line {i}: planted text occurs {n} times in {row['source']}")
    tlines = text.split("\n")
    if len(tlines) < 3 or not tlines[0].strip() or tlines[1] != "":
        errors.append(f"line {i}: {row['source']} must start with headline, then a blank line")
    # rough sentence count of the body (informational)
    body = "\n".join(tlines[2:])
    sentences = len(re.findall(r"[.!?。」](?=[\"'”]?(\s|$))", body))
    print(f"{row['source']}: style={row['style']:<30} lang={row['language']}  ~{sentences} sentences  occurrences={n}")

sources = [r["source"] for r in rows]
if len(set(sources)) != len(sources):
    errors.append("duplicate sources in planted.jsonl")
expected = {f"p{k:02d}.txt" for k in range(1, 21)}
if set(sources) != expected:
    errors.append(f"sources mismatch: missing {sorted(expected - set(sources))}, extra {sorted(set(sources) - expected)}")

styles = [set(r["style"].split("+")) for r in rows]
for req in REQUIRED_STYLES:
    if not any(req in s for s in styles):
        errors.append(f"required style missing: {req}")
n_lang = sum(1 for s in styles if "other_language" in s)
if n_lang < 2:
    errors.append(f"other_language used in {n_lang} articles, need >= 2")
for r in rows:
    if "other_language" in r["style"].split("+") and r["language"] == "en":
        errors.append(f"{r['source']}: other_language style but language 'en'")
    if "line_break_split" in r["style"].split("+") and "\n" not in r["planted"]:
        errors.append(f"{r['source']}: line_break_split planted text has no newline")

if errors:
    print("\nFAIL")
    for e in errors:
        print(" -", e)
    sys.exit(1)
print(f"\nPASS: {len(rows)} articles, required styles present, "
      f"{n_lang} other-language articles")
