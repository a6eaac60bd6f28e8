"""``cleanpipe report OUT --compare OTHER``: the compared numbers (cleanpipe.report.compare)
and their table in a terminal, on a real run of the llama config."""

from __future__ import annotations

import copy
import re

from rich.console import Console

from cleanpipe.report import print_comparison
from cleanpipe.report.compare import compare_reports, format_delta


def test_compare_shows_signed_differences(report: dict) -> None:
    assert not [c for c in compare_reports(report, report) if c.changed]
    new = copy.deepcopy(report)
    web = new["sources"]["web"]
    web["kept_docs"] = 1000
    web["dropped"]["langid:low_score"] = 100
    web["epochs"] = 4.6
    new["sources"]["books"]["achieved_share"] = 0.05
    old = copy.deepcopy(report)
    old_web = old["sources"]["web"]
    old_web.update(kept_docs=1012, epochs=2.1)
    old_web["dropped"]["langid:low_score"] = 88
    old["sources"]["books"]["achieved_share"] = 0.045
    changes = {(c.source, c.metric): c for c in compare_reports(old, new)}
    assert changes["web", "kept docs"].delta == -12
    assert changes["web", "dropped langid:low_score"].delta == 12
    console = Console(record=True, width=120)
    print_comparison(old, new, console, old_label="before", new_label="after")
    text = console.export_text()
    rows = {tuple(re.split(r"\s{2,}", line.strip())) for line in text.splitlines()}
    assert ("kept docs", "1,012", "1,000", "-12 (-1.2%)") in rows
    assert ("dropped langid:low_score", "88", "100", "+12 (+13.6%)") in rows
    assert ("epochs", "2.10", "4.60 (>4)", "+2.50") in rows
    assert ("achieved share", "4.50%", "5.00%", "+0.50 pp") in rows
    assert "input docs" not in text  # unchanged numbers are left out


def test_compare_stays_readable_at_80_columns(report: dict) -> None:
    old, new = copy.deepcopy(report), copy.deepcopy(report)
    c4 = new["sources"]["c4"]  # the pre-extracted web text
    c4["kept_docs"] = 1000
    c4["dropped"]["gopher_repetition:dup_line_chars"] = 1_234_567
    c4["output_tokens"] = 12_345_678
    c4["epochs"] = 4.6
    new["run"]["config_fingerprint"] = "f" * 64
    console = Console(record=True, width=80)
    labels = {"old_label": "out/llama-before-the-tokenizer-change", "new_label": "out/llama"}
    print_comparison(old, new, console, **labels)
    text = console.export_text()
    assert max(len(line) for line in text.splitlines()) <= 80
    words = set(text.split())
    # numbers, reasons and run labels whole, never cut or folded
    before = report["sources"]["c4"]["dropped"].get("gopher_repetition:dup_line_chars", 0)
    grown = f"+{1_234_567 - before:,}"  # from the sample run's own count
    for whole in ("1,234,567", grown, "12,345,678", "gopher_repetition:dup_line_chars"):
        assert whole in words, whole
    assert f"{report['sources']['c4']['output_tokens']:,}" in words
    assert "…" not in text
    assert "out/llama-before-the-tokenizer-change" in " ".join(text.split())
    lines = text.splitlines()
    at = next(i for i, line in enumerate(lines) if "kept docs" in line)
    old_kept = f"{report['sources']['c4']['kept_docs']:,}"
    change = "+192" if old_kept == "808" else None
    cells = re.split(r"\s{2,}", lines[at].strip())
    assert cells[:3] == ["kept docs", old_kept, "1,000"]
    delta = format_delta(
        next(c for c in compare_reports(old, new) if c.source == "c4" and c.metric == "kept docs")
    )
    # the relative change goes on the next line when the row does not fit
    assert " ".join([cells[3], lines[at + 1].strip()]) == delta or cells[3] == delta
    assert change is None or delta.startswith(change)
