"""report.json (``build_report``): what the map tasks counted, added up per source."""

from __future__ import annotations

from pathlib import Path

from cleanpipe.config import load_config
from cleanpipe.report import build_report
from cleanpipe.stages.base import StageStats
from tests.conftest import ENGLISH, write_config


def _task(docs_in: int, docs_out: int, chars_in: int, chars_out: int, drops: int) -> dict:
    """One map task's stats of a source with a single gopher_quality stage."""
    stats = StageStats(
        "gopher_quality",
        docs_in=docs_in,
        docs_out=docs_out,
        chars_in=chars_in,
        chars_out=chars_out,
        seconds=0.25,
        dropped={"gopher_quality:stop_words": drops},
        dropped_chars={"gopher_quality:stop_words": chars_in - chars_out},
    )
    return {
        "source": "web",
        "read": {"records": docs_in, "documents": docs_in},
        "stages": [stats.to_dict()],
        "kept": {"docs": docs_out, "tokens": 10 * docs_out, "chars": chars_out},
    }


def test_stage_totals_add_up_every_field_over_the_map_tasks(tmp_path: Path) -> None:
    data = tmp_path / "web.jsonl"
    data.write_text("".join(f'{{"text": "{t}"}}\n' for t in ENGLISH), encoding="utf-8")
    config = load_config(
        str(
            write_config(
                tmp_path,
                f"output: {{path: {tmp_path / 'out'}}}\n"
                f"sources:\n  web: {{paths: ['{data}'], weight: 1.0, stages: [gopher_quality]}}\n",
            )
        )
    )
    tasks = [_task(100, 90, 50_000, 44_000, 10), _task(40, 30, 20_000, 15_000, 10)]
    report = build_report(
        config,
        tasks,
        None,
        None,
        None,
        [],
        {"config_fingerprint": "f", "cleanpipe_version": "v"},
        lambda source: [],
        {},
        error="stopped after the map step",
    )
    (stage,) = report["sources"]["web"]["stages"]
    assert stage["in"] == 140 and stage["out"] == 120
    assert stage["chars_in"] == 70_000 and stage["chars_out"] == 59_000
    assert stage["dropped"] == {"gopher_quality:stop_words": 20}
    assert stage["dropped_chars"] == {"gopher_quality:stop_words": 11_000}
    assert stage["seconds"] == 0.5
    funnel = report["sources"]["web"]["funnel"]
    assert [(f["step"], f["docs"], f["chars"]) for f in funnel[:2]] == [
        ("read", 140, 70_000),
        ("gopher_quality", 120, 59_000),
    ]
