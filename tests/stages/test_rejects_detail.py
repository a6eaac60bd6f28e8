"""A dropped document's ``detail``: what was measured against which threshold.

A filter's ``check`` returns ``None``, a rule name, or a :class:`Drop` carrying the detail;
the base class counts by rule either way and hands the detail to the rejects sink.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from cleanpipe.config import load_config
from cleanpipe.document import Document
from cleanpipe.runner import run
from cleanpipe.stages.base import Drop, Filter, Transform
from cleanpipe.stages.rules import ABOVE, BELOW, describe_failure, format_against
from tests.conftest import ENGLISH, write_config

GERMAN = (
    "Alle Menschen sind frei und gleich an Würde und Rechten geboren. Sie sind mit Vernunft "
    "und Gewissen begabt und sollen einander im Geist der Brüderlichkeit begegnen."
)


class MinChars(Filter):
    """A custom filter as the README writes one: a plain rule name, no detail."""

    name = "min_chars"

    def check(self, doc: Document) -> str | None:
        return "too_short" if len(doc.text) < 100 else None


class MinCharsWithDetail(MinChars):
    def check(self, doc: Document) -> Drop | None:
        doc.meta["chars"] = chars = len(doc.text)
        return Drop("too_short", f"chars {chars} < 100") if chars < 100 else None


class Blank(Transform):
    name = "blank"

    def transform(self, doc: Document) -> str:
        return "   "


def run_collecting(stage, texts: list[str]) -> list[tuple[str, str]]:
    seen: list[tuple[str, str]] = []
    stage.on_drop = lambda doc, reason, detail="": seen.append((reason, detail))
    list(stage(Document(id=str(i), text=t) for i, t in enumerate(texts)))
    return seen


def test_a_rule_name_drops_with_an_empty_detail():
    stage = MinChars()
    assert run_collecting(stage, ["Everyone has the right to life."]) == [
        ("min_chars:too_short", "")
    ]
    assert stage.stats.dropped == {"min_chars:too_short": 1}


def test_a_drop_is_counted_by_its_rule_and_hands_on_its_detail():
    stage = MinCharsWithDetail()
    seen = run_collecting(stage, ["Everyone has the right to life.", ENGLISH[0]])
    assert seen == [("min_chars:too_short", "chars 31 < 100")]
    assert stage.stats.dropped == {"min_chars:too_short": 1}
    assert stage.stats.docs_out == 1


def test_annotate_only_counts_a_drop_by_its_rule_and_calls_no_sink():
    stage = MinCharsWithDetail(annotate_only=True)
    assert run_collecting(stage, ["Everyone has the right to life."]) == []
    assert stage.stats.would_drop == {"min_chars:too_short": 1}


def test_text_emptied_by_a_transform_says_how_long_it_was():
    text = "No one shall be held in slavery or servitude."
    assert run_collecting(Blank(), [text]) == [
        ("blank:empty", f"no text left of {len(text)} chars")
    ]


def test_a_drop_is_frozen():
    drop = Drop("too_short", "chars 31 < 100")
    with pytest.raises(AttributeError):
        drop.detail = "changed"  # type: ignore[misc]


@pytest.mark.parametrize(
    "value, limit, shown",
    [
        (12, 50, ("12", "50")),  # counts as integers
        (2.1234, 3, ("2.1", "3.0")),  # ratios to two significant digits, limit alike
        (0.4213, 0.3, ("0.42", "0.30")),
        (0.3012, 0.3, ("0.301", "0.300")),  # never "0.30 > 0.30"
        (0.1234, 0.125, ("0.123", "0.125")),  # the limit shown exactly
        (1520.0, 1000, ("1520", "1000")),
        (0.0, 0.25, ("0.00", "0.25")),
    ],
)
def test_numbers_are_formatted_for_comparison(value, limit, shown):
    assert format_against(value, limit) == shown


def test_a_failed_comparison_reads_as_value_operator_limit():
    assert describe_failure("max_line_length", 1520, ABOVE, 1000) == "max_line_length 1520 > 1000"
    assert describe_failure("alnum_fraction", 0.1834, BELOW, 0.25) == "alnum_fraction 0.18 < 0.25"


def test_rejects_written_by_a_run_hold_the_detail_of_every_stage_drop(tmp_path: Path) -> None:
    data = tmp_path / "in" / "web.jsonl"
    data.parent.mkdir()
    records = [
        {"id": "kept", "text": "\n\n".join(ENGLISH)},
        {"id": "short", "text": ENGLISH[0]},
        {"id": "german", "text": GERMAN},
    ]
    data.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    out = tmp_path / "out"
    config = write_config(
        tmp_path,
        f"""
seed: 1
output: {{path: {out}}}
sources:
  web:
    paths: ["{data}"]
    weight: 1
    stages: [normalize, {{langid: {{languages: [en]}}}}, gopher_quality]
dedup: false
mixture: {{total_tokens: max, max_epochs: 1}}
""",
    )
    run(load_config(str(config)), workers=1, progress=False)
    rejects = {r["id"]: r for r in pq.read_table(out / "rejects").to_pylist()}
    assert set(rejects) == {"short", "german"}
    assert rejects["short"]["reason"] == "gopher_quality:word_count"
    assert rejects["short"]["detail"] == "word_count 30 < 50"
    assert rejects["german"]["reason"] == "langid:language"
    assert rejects["german"]["detail"].startswith("lang de (")
    assert rejects["german"]["detail"].endswith(") not in [en]")
