"""Cleaning and metadata extraction on the real seed articles."""

from pathlib import Path

import pytest

from index.document import build_document
from index.load import read_file
from index.mapped import normalize_text

from conftest import SEEDS


def doc(name: str):
    return build_document(read_file(SEEDS / name, SEEDS, 10**7))


ALL = sorted(p.name for p in SEEDS.glob("*.txt"))


@pytest.mark.parametrize("name", ALL)
def test_scraper_leftovers_are_removed(name):
    text = doc(name).clean_text
    for junk in ("Breadcrumb", "menu-control", "Advertisement", "Subscribe to The Jerusalem Post Newsletter",
                 "Stay updated with the latest news", "Email:", "×", "\u00a0", "\u2019", "\u201c"):
        assert junk not in text, junk


def test_repeated_caption_and_paragraph_kept_once():
    text = doc("004_09a8b4aac64adffa.txt").clean_text
    assert text.count("Protesters and militia fighters throw back a tear gas canister") == 1
    assert text.count("Members of an Iraqi Shi'ite armed group sit in a vehicle") == 1
    assert text.count("Last Monday, Israeli Foreign Minister Gideon Sa'ar sent a letter") == 1
    assert text.count("Iraqi Government Implements Enhanced Security") == 0  # other article
    assert doc("002_59b7a95f42f1832c.txt").clean_text.count("Iraqi Government Implements Enhanced Security") == 1


def test_content_is_kept():
    text = doc("000_f35eba9dbd4b2cc1.txt").clean_text
    assert "Kata'ib Sayyid al-Shuhada, Abu Alaa al-Walaei, vowed to \"set the Middle East on fire\"" in text
    assert "Armed groups vow response" in text


@pytest.mark.parametrize("name", ALL)
def test_blocks_map_back_to_the_original(name):
    d = doc(name)
    for block in d.blocks:
        start, end = block.span(0, len(block))
        assert normalize_text(d.original[start:end]) == normalize_text(block.text)


def test_metadata_stated_in_the_text():
    m = {name: doc(name).meta for name in ALL}
    assert m["000_f35eba9dbd4b2cc1.txt"].title == "Iraq implements security precautions, review following Israeli strikes on Iran"
    assert m["000_f35eba9dbd4b2cc1.txt"].publisher == "The New Arab"
    assert m["001_6a6cacd864d4e7cd.txt"].dateline == "ERBIL, Kurdistan Region"
    assert m["002_59b7a95f42f1832c.txt"].publisher == "Gulan Media"
    assert m["002_59b7a95f42f1832c.txt"].date == "2023-12-17"  # the byline, not the site's "today" banner
    assert m["003_6832a546bc2cb8c9.txt"].title.startswith("Will Iraqi militias join")
    assert m["004_09a8b4aac64adffa.txt"].publisher == "The Jerusalem Post"
    assert m["004_09a8b4aac64adffa.txt"].date is None  # only a photo caption has a date
    assert m["004_09a8b4aac64adffa.txt"].title.startswith("Iraq is taking diplomatic actions")


def test_front_matter_keeps_quotes_inside_a_title(tmp_path: Path):
    (tmp_path / "a.md").write_text("---\ntitle: \"Call centre users 'lose patience'\"\npublisher: 'BBC News'\n---\n\nBody.\n")
    (tmp_path / "b.md").write_text("---\ntitle: 'Blue' is the colour\n---\n\nBody.\n")
    meta = {name: build_document(read_file(tmp_path / name, tmp_path, 10**6)).meta for name in ("a.md", "b.md")}
    assert (meta["a.md"].title, meta["a.md"].publisher) == ("Call centre users 'lose patience'", "BBC News")
    assert meta["b.md"].title == "'Blue' is the colour"


def test_markdown_front_matter_and_html(tmp_path: Path):
    (tmp_path / "a.md").write_text("---\ntitle: Front Title\npublisher: Wire\ndate: 2024-03-05\n---\n# Heading here now\n\nBody text.\n")
    (tmp_path / "b.html").write_text(
        "<html><head><title>Page T</title><meta property='og:site_name' content='Site'>"
        "<script>var x = 'hidden';</script></head><body><nav>Menu Home</nav>"
        "<p>Al &amp; Co said &ldquo;yes&rdquo; today.</p><p>Second para.</p></body></html>")
    md = build_document(read_file(tmp_path / "a.md", tmp_path, 10**6))
    assert (md.meta.title, md.meta.publisher, md.meta.date) == ("Front Title", "Wire", "2024-03-05")
    assert md.clean_text.startswith("Heading here now")
    html = build_document(read_file(tmp_path / "b.html", tmp_path, 10**6))
    assert html.meta.title == "Page T" and html.meta.publisher == "Site"
    assert 'Al & Co said "yes" today.' in html.clean_text
    assert "hidden" not in html.clean_text and "Menu" not in html.clean_text
    block = html.blocks[0]
    start, end = block.span(0, len(block))
    assert html.original[start:end].startswith("Al &amp; Co said")
