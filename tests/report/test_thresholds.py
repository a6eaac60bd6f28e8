"""The classifier's threshold table, from a real run of configs/mixtures/llama.yaml (its web
source scores pages with the sample model at the min_score the config sets)."""

from __future__ import annotations

from typing import Any

from cleanpipe.config import load_config
from cleanpipe.report.html import render_html
from cleanpipe.report.markdown import render_markdown
from cleanpipe.stages.classifier import THRESHOLDS


def _min_score() -> float:
    stages = load_config("configs/mixtures/llama.yaml").sources["web"].stages
    return next(s.params["min_score"] for s in stages if s.name == "classifier")


MIN_SCORE = _min_score()


def test_report_json_has_a_row_per_threshold_with_the_one_in_use(report: dict[str, Any]) -> None:
    table = report["sources"]["web"]["classifier_thresholds"]
    assert table["min_score"] == MIN_SCORE and table["sampling"] == "threshold"
    rows = table["rows"]
    assert [r["min_score"] for r in rows] == sorted({*THRESHOLDS, MIN_SCORE})
    docs = [r["docs"] for r in rows]
    assert docs == sorted(docs, reverse=True) and docs[-1] < docs[0]
    stage = next(s for s in report["sources"]["web"]["stages"] if s["stage"] == "classifier")
    in_use = next(r for r in rows if r["min_score"] == MIN_SCORE)
    assert in_use["docs"] == stage["out"]
    # the estimate of the epochs at the threshold in use is the plan's own
    assert abs(in_use["epochs"] - report["sources"]["web"]["epochs"]) < 0.05
    assert in_use["fits"] and not next(r for r in rows if r["min_score"] == 0.1)["fits"]


def test_only_sources_with_a_classifier_have_a_table(report: dict[str, Any]) -> None:
    assert [n for n, s in report["sources"].items() if "classifier_thresholds" in s] == ["web"]


def test_markdown_and_html_show_the_table(report: dict[str, Any]) -> None:
    md = render_markdown(report)
    assert "## Classifier thresholds" in md and f"web: min_score {MIN_SCORE}; max_epochs 4" in md
    assert f"| {MIN_SCORE} (in use) |" in md and "(over max)" in md
    html = render_html(report)
    assert '<section id="thresholds">' in html and f"{MIN_SCORE} (in use)" in html


def test_the_score_distribution_is_drawn_with_the_other_signals(report: dict[str, Any]) -> None:
    scores = report["sources"]["web"]["signals"]["quality_score"]
    stage = next(s for s in report["sources"]["web"]["stages"] if s["stage"] == "classifier")
    assert len(scores) == stage["in"] > 100 and min(scores) >= 0.0 and max(scores) <= 1.0
    assert "<code>quality_score</code>" in render_html(report)
