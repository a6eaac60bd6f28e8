"""report.md, rendered from a real run of the llama config (tests/report/conftest.py)."""

from __future__ import annotations

import copy

from cleanpipe.report.markdown import render_markdown


def test_markdown_funnel_tables_match_report_json(report: dict) -> None:
    md = render_markdown(report)
    web = report["sources"]["web"]
    table = md.split("### web\n", 1)[1].strip().split("\n\n")[0]
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in table.splitlines()[2:]]
    assert [(r[0], int(r[1].replace(",", ""))) for r in rows] == [("input", web["input_docs"])] + [
        (f["step"], f["docs"]) for f in web["funnel"]
    ]


def test_accounting_shows_the_counts_the_run_recorded(report: dict) -> None:
    detailed = copy.deepcopy(report)
    acc = detailed["sources"]["web"]["accounting"]
    acc.update(rejected=acc.get("rejected", acc.get("dropped")), staged=862, sampled=808)
    acc.update(not_sampled=0, output_rows=2258)
    md = render_markdown(detailed)
    head = md.split("## Accounting", 1)[1].split("\n| ", 1)[1].split("\n", 1)[0]
    assert head.startswith("source | input | dropped | staged | duplicates | kept | sampled")
    assert "not sampled | output rows" in head
    assert "| 862 |" in md.split("## Accounting", 1)[1] and "| 2,258 |" in md
