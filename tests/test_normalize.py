"""Normalize repairs damage and leaves clean text alone."""

from __future__ import annotations

from cleanpipe import Document
from cleanpipe.stages import Normalize


def test_repairs_utf8_read_as_cp1252() -> None:
    broken = "The cafÃ© doesnâ€™t open until 9 â€” see the â€œmenuâ€\x9d."
    assert Normalize().normalize_text(broken) == "The café doesn’t open until 9 — see the “menu”."


def test_keeps_curly_quotes_and_cjk_punctuation() -> None:
    clean = "“Quoted” text, ‘single’ too. 人人生而自由，在尊严和权利上一律平等。「日本語」（全角）"
    assert Normalize().normalize_text(clean) == clean


def test_nfc_composes_combining_accents() -> None:
    decomposed = "Cafe\u0301 and re\u0301sume\u0301"
    assert Normalize().normalize_text(decomposed) == "Café and résumé"


def test_whitespace_tidy_keeps_indentation() -> None:
    code = "def f():  \r\n    return 1\t\n\n\n\n\nprint(f())\n"
    assert Normalize().normalize_text(code) == "def f():\n    return 1\n\nprint(f())"


def test_html_entities_kept_unless_asked() -> None:
    text = 'html = "&lt;b&gt;" + name'
    assert Normalize().normalize_text(text) == text
    assert Normalize(unescape_html=True).normalize_text("Fish &amp; chips") == "Fish & chips"


def test_stage_counts_modified_and_drops_text_that_becomes_empty() -> None:
    stage = Normalize()
    docs = [Document("a", "fine text"), Document("b", "donâ€™t"), Document("c", " \n\t ")]
    kept = list(stage(docs))
    assert [d.text for d in kept] == ["fine text", "don’t"]
    assert stage.stats.modified == 2  # b repaired, c emptied
    assert stage.stats.dropped == {"normalize:empty": 1}
