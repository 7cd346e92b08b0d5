#!/usr/bin/env python3
"""Sanity checks for the planted_fresh5 blind evaluation set (adapted from planted_fresh4).

Run from anywhere:  python3 check.py
Exit status 0 when every check passes, 1 otherwise.
"""
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
EXPECTED = ["r%02d.txt" % i for i in range(1, 21)]
ALLOWED_URL_HOSTS = ("example.com", "example.org", "example.net")
# Ofcom drama ranges used in this set (digits only, as prefix + 3 free digits).
DRAMA_PREFIXES = (
    "0113496", "0114496", "0115496", "0116496", "0117496", "0118496",
    "0121496", "0131496", "0141496", "0151496", "0161496", "0191498",
    "02079460", "02920180", "02890180", "01632960", "07700900",
    "08081570", "03069990", "09098790",
)

# Style names used by the earlier blind sets; this set must not repeat them.
EARLIER_SETS = ("planted_fresh", "planted_fresh2", "planted_fresh3", "planted_fresh4")
# This set needs at least this many non-English plants, each in a language no earlier set used.
MIN_NEW_LANGUAGE_PLANTS = 7
BARE_DOMAIN = re.compile(r"\b(?:www\.)?([a-z0-9-]+\.(?:com|org|net|io|co\.uk|org\.uk))\b", re.I)

failures = []
SUMMARY = {}


def fail(msg):
    failures.append(msg)


def body_paragraphs(text):
    lines = text.split("\n")
    body = "\n".join(lines[2:])
    return [p for p in re.split(r"\n\s*\n", body) if p.strip()]


def main():
    texts = {}
    for name in EXPECTED:
        path = os.path.join(HERE, name)
        if not os.path.isfile(path):
            fail("%s: missing" % name)
            continue
        raw = open(path, "rb").read()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            fail("%s: not valid UTF-8 (%s)" % (name, e))
            continue
        if text.startswith("\ufeff"):
            fail("%s: starts with a BOM" % name)
        lines = text.split("\n")
        if len(lines) < 3 or not lines[0].strip():
            fail("%s: first line (headline) is empty" % name)
        elif lines[1].strip() != "":
            fail("%s: second line is not blank" % name)
        paras = body_paragraphs(text)
        if not 4 <= len(paras) <= 9:
            fail("%s: %d body paragraphs (want 4-9)" % (name, len(paras)))
        words = len("\n".join(lines[2:]).split())
        if not 150 <= words <= 350:
            fail("%s: %d body words (want 150-350)" % (name, words))
        for url in re.findall(r"https?://([^/\s]+)", text):
            host = url.lower()
            if not any(host == h or host.endswith("." + h) for h in ALLOWED_URL_HOSTS):
                fail("%s: URL host %s is not example.com/.org/.net" % (name, host))
        for m in BARE_DOMAIN.finditer(text):
            host = m.group(1).lower()
            if host not in ALLOWED_URL_HOSTS:
                fail("%s: domain %s is not example.com/.org/.net" % (name, host))
        for m in re.finditer(r"\b0\d[\d ]{8,12}\d\b", text):
            digits = m.group(0).replace(" ", "")
            if not any(digits.startswith(p) for p in DRAMA_PREFIXES):
                fail("%s: phone number %r is not in a known drama range" % (name, m.group(0)))
        texts[name] = text

    jpath = os.path.join(HERE, "planted.jsonl")
    if not os.path.isfile(jpath):
        fail("planted.jsonl: missing")
        return
    records = []
    with open(jpath, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError as e:
                fail("planted.jsonl line %d: bad JSON (%s)" % (n, e))

    if len(records) != 20:
        fail("planted.jsonl: %d records (want 20)" % len(records))
    sources = [r.get("source") for r in records]
    if sorted(sources) != EXPECTED:
        fail("planted.jsonl: sources are %r, want exactly r01.txt..r20.txt once each" % sorted(sources))
    styles = [r.get("style") for r in records]
    dup = sorted({s for s in styles if styles.count(s) > 1})
    if dup:
        fail("planted.jsonl: duplicate styles %r" % dup)
    norm = lambda s: re.sub(r"[^a-z0-9]+", " ", str(s).lower()).strip()
    old_languages = set()
    for other in EARLIER_SETS:
        opath = os.path.join(HERE, "..", other, "planted.jsonl")
        if not os.path.isfile(opath):
            fail("%s/planted.jsonl: missing, cannot compare styles and languages" % other)
            continue
        with open(opath, encoding="utf-8") as f:
            old_records = [json.loads(l) for l in f if l.strip()]
        old = {norm(r.get("style", "")) for r in old_records}
        old_languages |= {r.get("language") for r in old_records}
        for s in styles:
            if norm(s) in old:
                fail("planted.jsonl: style %r was already used in %s" % (s, other))
    foreign = [r for r in records if r.get("language") != "en"]
    new_foreign_plants = [r for r in foreign if r.get("language") not in old_languages]
    new_foreign = {r.get("language") for r in new_foreign_plants}
    if len(new_foreign_plants) < MIN_NEW_LANGUAGE_PLANTS or len(new_foreign) < MIN_NEW_LANGUAGE_PLANTS:
        fail("planted.jsonl: only %d non-English plants in %d new languages %r (want >= %d)"
             % (len(new_foreign_plants), len(new_foreign), sorted(new_foreign), MIN_NEW_LANGUAGE_PLANTS))
    SUMMARY["new_languages"] = sorted(new_foreign)
    for r in foreign:
        if r.get("language") in old_languages:
            fail("%s: language %r was already used by an earlier set" % (r.get("source"), r.get("language")))
    langs = [r.get("language") for r in foreign]
    dupl = sorted({l for l in langs if langs.count(l) > 1})
    if dupl:
        fail("planted.jsonl: non-English language used by more than one plant: %r" % dupl)

    for r in records:
        src = r.get("source")
        for key in ("source", "style", "planted", "language", "decoys"):
            if key not in r:
                fail("%s: record lacks %r" % (src, key))
        if not isinstance(r.get("style"), str) or not r.get("style"):
            fail("%s: empty style" % src)
        lang = r.get("language", "")
        if not (isinstance(lang, str) and re.fullmatch(r"[a-z]{2,3}", lang)):
            fail("%s: language %r is not an ISO 639 code" % (src, lang))
        text = texts.get(src)
        if text is None:
            continue
        planted = r.get("planted", "")
        if not planted:
            fail("%s: empty planted text" % src)
        else:
            c = text.count(planted)
            if c != 1:
                fail("%s: planted text occurs %d times (want 1)" % (src, c))
        decoys = r.get("decoys", [])
        if not isinstance(decoys, list) or len(decoys) != 2:
            fail("%s: want exactly 2 decoys" % src)
            decoys = decoys if isinstance(decoys, list) else []
        for d in decoys:
            if isinstance(decoys, list) and decoys.count(d) > 1:
                fail("%s: duplicate decoy %r" % (src, d[:80]))
            if not d or d not in text:
                fail("%s: decoy not found: %r" % (src, d[:80] if d else d))
            elif planted and (d in planted or planted in d):
                fail("%s: decoy overlaps planted text: %r" % (src, d[:80]))
            elif planted and text.count(planted) == 1:
                ps = text.index(planted)
                pe = ps + len(planted)
                start = 0
                while True:
                    ds = text.find(d, start)
                    if ds < 0:
                        break
                    if ds < pe and ps < ds + len(d):
                        fail("%s: decoy overlaps planted span: %r" % (src, d[:80]))
                        break
                    start = ds + 1


if __name__ == "__main__":
    main()
    if failures:
        for m in failures:
            print("FAIL", m)
        print("%d failure(s)" % len(failures))
        sys.exit(1)
    print("OK: 20 articles, 20 distinct new styles, all planted texts found exactly once, 40 decoys found, "
          "%d non-English plants in new languages %s" % (len(SUMMARY["new_languages"]), ", ".join(SUMMARY["new_languages"])))
