"""The Decontamination section of a real run's report: configs/mixtures/llama.yaml runs the
decontaminate stage on web, c4, books and news against sample_data/evals/sample_qa.jsonl, whose
items were taken from those sources (sample_data/README.md says where from)."""

from __future__ import annotations

from typing import Any

from cleanpipe.report.html import render_html
from cleanpipe.report.markdown import render_markdown

# items whose text the stages reach in the sample (their source documents pass the filters)
CAUGHT = {
    "books": [f"austen-0{i}" for i in range(1, 7)],
    "news": ["reuters-01", "reuters-02"],
    "c4": ["pydocs-01", "pydocs-02", "pydocs-03"],  # the JSONL pages the items quote
}
CONTROL = ["control-01", "control-02", "control-03"]  # written for the file: in no document


def _items(report: dict[str, Any], source: str) -> set[str]:
    counts = report["sources"][source]["stage_extra"].get("decontaminate", {})
    return {k.split(":", 2)[2] for k in counts if k.startswith("item:")}


def test_the_items_taken_from_the_sample_are_caught_and_the_written_ones_not(
    report: dict[str, Any],
) -> None:
    for source, items in CAUGHT.items():
        assert set(items) <= _items(report, source), source
    for source in report["sources"]:
        assert not _items(report, source) & set(CONTROL), source
    books = report["sources"]["books"]["stage_extra"]["decontaminate"]
    assert books["dropped:sample_qa"] == 6 and books["chars:sample_qa"] > 6 * 5000


def test_the_markdown_and_html_reports_have_a_table_per_eval_set(report: dict) -> None:
    md = render_markdown(report)
    section = md[md.index("## Decontamination") :].split("\n## ", 1)[0]
    assert "### sample_qa" in section
    rows = {line.split(" | ")[0].strip("| "): line for line in section.splitlines() if "|" in line}
    assert set(CAUGHT) | {"all sources"} <= set(rows)
    # items matched; documents removed: the sum over sources
    removed = sum(
        s["stage_extra"].get("decontaminate", {}).get("dropped:sample_qa", 0)
        for s in report["sources"].values()
    )
    assert removed >= 10
    assert rows["all sources"].split(" | ")[1:3] == ["11", str(removed)]
    html = render_html(report)
    assert '<section id="decontamination">' in html and "<h3>sample_qa</h3>" in html
