"""``cleanpipe report OUT`` and ``cleanpipe plan`` in a terminal (``print_report``,
``print_plan``), on the report of a real run of the llama config (tests/report/conftest.py)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from rich.console import Console

from cleanpipe import mixture
from cleanpipe.config import load_config
from cleanpipe.report import print_plan, print_report
from cleanpipe.runner import run
from tests.conftest import write_config


def terminal(report: dict, width: int = 100) -> str:
    """What ``cleanpipe report`` prints for ``report``, as plain text."""
    console = Console(record=True, width=width)
    print_report(report, console)
    return console.export_text()


def test_the_funnel_shows_chars_and_tokens_or_dashes(
    sized_report: dict, unsized_report: dict
) -> None:
    sized = sized_report
    # the first c4_quality row is the c4 source's (sources in name order)
    c4 = next(s for s in sized["sources"]["c4"]["funnel"] if s["step"] == "c4_quality")
    text = terminal(sized, width=140)
    line = next(line for line in text.splitlines() if "c4_quality" in line)
    assert f"{c4['chars']:,}" in line and f"{c4['tokens']:,}" in line
    assert "tokens (est.)" in text
    older = unsized_report
    line = next(line for line in terminal(older).splitlines() if "langid" in line)
    assert line.count("–") == 2


def test_a_failed_run_prints_the_error_first_then_what_is_there(failed_report: dict) -> None:
    failed = failed_report
    text = terminal(failed, width=200)
    assert text.startswith(f"run failed: {failed['error']}")
    assert "Funnel:" in text and "did not get as far as planning it" in text
    bare = {"status": "failed", "error": "config: no sources", "run": {}, "sources": None}
    assert terminal(bare).startswith("run failed: config: no sources")


def test_accounting_problems_and_repeated_ids_are_printed(report: dict) -> None:
    noted = copy.deepcopy(report)
    problem = "route: 3 staged rows of web/part-0 were neither kept nor removed"
    noted["sources"]["web"]["accounting"].update(balanced=False, problems=[problem])
    noted["sources"]["news"]["repeated_ids"] = {"ids": 2, "rows": 5, "examples": ["0", "n-7"]}
    text = terminal(noted, width=200)
    assert f"accounting: web: {problem}" in text
    assert "note: news: 2 ids occur on more than one input record (5 records)" in text
    fine = copy.deepcopy(report)
    fine["sources"]["web"]["accounting"].update(balanced=True, problems=["stale"])
    assert "stale" not in terminal(fine)


def test_terminal_prints_warnings_after_the_tables(report: dict) -> None:
    warned = copy.deepcopy(report)
    warned["run"]["warnings"] = ["source 'news' is repeated 10.20 times; beyond ~4 epochs ..."]
    text = terminal(warned, width=200)
    assert "warning: source 'news' is repeated 10.20 times" in text
    assert text.index("warning:") > text.index("Mixture: target vs achieved")


def test_terminal_dedup_summary_is_a_table_not_json(report: dict) -> None:
    text = terminal(report, width=120)
    assert '{"enabled"' not in text and "dedup: {" not in text
    dedup = report["dedup"]
    rows = {}
    for line in text.split("Dedup", 1)[1].splitlines():
        cells = [c.strip() for c in line.strip("│┃ ").split("│")]
        if len(cells) == 2 and cells[0]:
            rows[cells[0]] = cells[1]
    assert rows["documents"] == f"{dedup['docs']:,}"
    assert rows["exact duplicates"] == f"{dedup['exact_duplicates']:,}"
    assert rows["near duplicates"] == f"{sum(dedup['removed_near_per_source'].values()):,}"
    assert rows["candidate pairs"] == f"{dedup['candidate_pairs']:,}"
    assert rows["url duplicates"] == f"{dedup['url_duplicates']:,}"
    assert list(rows)[:5] == [
        "documents",
        "url groups",
        "url duplicates",
        "exact groups",
        "exact duplicates",
    ]


def test_terminal_epoch_colouring_follows_the_mixture_constant(
    report: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    repeated = copy.deepcopy(report)
    repeated["sources"]["news"]["epochs"] = 4.6
    assert "4.60 (>4)" in terminal(repeated)
    monkeypatch.setattr(mixture, "EPOCH_WARNING", 5.0)
    assert "4.60 (>" not in terminal(repeated)


def test_print_plan_flags_epochs_above_the_mixture_constant(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    plan = mixture.MixturePlan(
        1000.0,
        "total_tokens",
        {
            "news": mixture.SourcePlan("news", 100, 3, 1.0, 460.0, 4.6, 8.0, 4, -1, 60, 460),
        },
    )
    console = Console(record=True, width=100)
    print_plan(plan, "staged data", console)
    assert "4.60 (>4)" in console.export_text()
    monkeypatch.setattr(mixture, "EPOCH_WARNING", 5.0)
    console = Console(record=True, width=100)
    print_plan(plan, "staged data", console)
    assert "(>" not in console.export_text()


def test_a_real_failed_run_renders_everywhere(tmp_path: Path) -> None:
    # every record lacks the text field: the run fails after the map step and writes its
    # report anyway (issue 19: "write report.json (and the HTML) for a failed run too")
    data = tmp_path / "stdlib" / "part-0.jsonl"
    data.parent.mkdir()
    line = "All human beings are born free and equal in dignity and rights. " * 4
    data.write_text(
        "".join(json.dumps({"id": i % 3, "content": line, "url": "u"}) + "\n" for i in range(12))
    )
    config = write_config(
        tmp_path,
        f"""
seed: 1
output: {{path: {tmp_path / "out"}}}
sources:
  stdlib: {{paths: ["{data}"], weight: 1.0, stages: [normalize]}}
mixture: {{total_tokens: 10000, tokenizer: cl100k}}
""",
    )
    with pytest.raises(Exception, match="all 12 records rejected"):
        run(load_config(str(config)), workers=1, progress=False)
    report = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    assert report["status"] == "failed"
    text = terminal(report, width=200)
    assert text.startswith("run failed: ") and "all 12 records rejected" in text
    assert "missing_text 12" in text and "Dedup" not in text  # no empty dedup table
    page = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    md = (tmp_path / "out" / "report.md").read_text(encoding="utf-8")
    for out in (page, md):
        assert "all 12 records rejected" in out
        assert "the run failed before dedup finished" in out
        assert "did not get as far as planning the mixture" in out
    assert "MISMATCH" not in page and "INCOMPLETE" in page
