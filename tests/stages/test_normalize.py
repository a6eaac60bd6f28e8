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


def _sample_texts() -> list[str]:
    import gzip
    import json
    from pathlib import Path

    texts = []
    for path in sorted((Path(__file__).resolve().parents[2] / "sample_data").glob("*/*.jsonl*")):
        if path.suffix == ".zst":
            continue
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="utf-8") as fh:
            for line in fh:
                try:
                    texts.append(json.loads(line)["text"])
                except (ValueError, KeyError):
                    continue
    return texts[::4]


def test_mojibake_gate_agrees_with_ftfy_is_bad_on_real_and_damaged_text() -> None:
    from ftfy.badness import is_bad

    from cleanpipe.stages.normalize import looks_like_mojibake

    texts = _sample_texts()
    damaged = [
        t.encode("utf-8").decode(enc, errors="replace")
        for t in texts[:150]
        for enc in ("cp1252", "latin-1", "cp1251", "mac_roman")
    ]
    for text in texts + damaged:
        assert looks_like_mojibake(text) == is_bad(text)
    assert sum(map(is_bad, damaged)) > 300


def test_skipping_ftfy_never_changes_the_result() -> None:
    import ftfy

    stage = Normalize()
    for text in _sample_texts()[:200]:
        tidy = Normalize(tidy_whitespace=False)
        assert tidy.normalize_text(text) == ftfy.fix_text(text, tidy._ftfy_config)
    assert stage.normalize_text("caf\u00c3\u00a9") == "café"


def test_a_drop_for_blank_text_says_so() -> None:
    stage = Normalize()
    seen: list[tuple[str, str]] = []
    stage.on_drop = lambda doc, reason, detail="": seen.append((reason, detail))
    list(stage([Document("c", " \n\t ")]))
    assert seen == [("normalize:empty", "blank text")]
