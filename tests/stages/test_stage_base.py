"""The stage base does the bookkeeping once: counts, characters, drops by reason, annotate_only,
and stats of several workers that add up."""

from __future__ import annotations

from collections import Counter

import pytest

from cleanpipe.document import Document
from cleanpipe.stages.base import Drop, Filter, StageStats, Transform

SENTENCES = [
    "All human beings are born free and equal in dignity and rights.",
    "They are endowed with reason and conscience.",
    "short",
]


class _MinWords(Filter):
    name = "min_words"

    def check(self, doc: Document) -> Drop | None:
        words = len(doc.text.split())
        return Drop("too_short", f"words {words} < 3") if words < 3 else None


class _Upper(Transform):
    name = "upper"

    def transform(self, doc: Document) -> str:
        return doc.text.upper() if doc.id != "blank" else "   "


def _docs() -> list[Document]:
    return [Document(id=f"d{i}", text=t) for i, t in enumerate(SENTENCES)]


def test_filter_counts_docs_chars_and_drops_by_reason():
    stage = _MinWords()
    seen = []
    stage.on_drop = lambda doc, reason, detail="": seen.append((doc.id, reason, detail))
    kept = list(stage(_docs()))
    assert [d.id for d in kept] == ["d0", "d1"]
    assert seen == [("d2", "min_words:too_short", "words 1 < 3")]
    stats = stage.stats
    assert (stats.docs_in, stats.docs_out) == (3, 2)
    assert stats.chars_in == sum(map(len, SENTENCES))
    assert stats.chars_out == len(SENTENCES[0]) + len(SENTENCES[1])
    assert stats.dropped_chars == Counter({"min_words:too_short": len("short")})


def test_annotate_only_counts_what_would_be_dropped_and_keeps_everything():
    stage = _MinWords(annotate_only=True)
    assert len(list(stage(_docs()))) == 3
    assert stage.stats.would_drop == Counter({"min_words:too_short": 1})
    assert not stage.stats.dropped


def test_transform_counts_modified_and_drops_what_becomes_blank():
    docs = [*_docs(), Document(id="blank", text="will be emptied")]
    stage = _Upper()
    kept = list(stage(docs))
    assert [d.text for d in kept] == [t.upper() for t in SENTENCES]
    assert stage.stats.modified == 4
    assert stage.stats.dropped == Counter({"upper:empty": 1})


def test_apply_verdicts_is_the_same_bookkeeping_for_decisions_made_elsewhere():
    stage = _MinWords()
    docs = _docs()
    kept = stage.apply_verdicts(docs, [None, "other_rule", Drop("too_short", "1 word")])
    assert [d.id for d in kept] == ["d0"]
    assert stage.stats.dropped == Counter({"min_words:other_rule": 1, "min_words:too_short": 1})


def _stats(docs_in: int, dropped: int, seconds: float) -> StageStats:
    return StageStats(
        "gopher_quality",
        docs_in=docs_in,
        docs_out=docs_in - dropped,
        chars_in=100 * docs_in,
        chars_out=100 * (docs_in - dropped),
        modified=1,
        seconds=seconds,
        dropped=Counter({"gopher_quality:word_count": dropped}),
        dropped_chars=Counter({"gopher_quality:word_count": 100 * dropped}),
        would_drop=Counter({"gopher_quality:stop_words": 2}),
    )


def test_stats_of_workers_add_up_in_every_field():
    a, b = _stats(10, 3, 0.5), _stats(4, 1, 0.25)
    total = a + b
    assert total.to_dict() == {
        "stage": "gopher_quality",
        "in": 14,
        "out": 10,
        "chars_in": 1400,
        "chars_out": 1000,
        "modified": 2,
        "seconds": 0.75,
        "dropped": {"gopher_quality:word_count": 4},
        "dropped_chars": {"gopher_quality:word_count": 400},
        "would_drop": {"gopher_quality:stop_words": 4},
    }
    assert a.docs_in == 10 and a.dropped["gopher_quality:word_count"] == 3  # operands unchanged
    assert sum([a, b]).to_dict() == total.to_dict()
    a.merge(b)
    assert a.to_dict() == total.to_dict()


def test_stats_round_trip_through_the_report_dict_and_refuse_another_stage():
    stats = _stats(10, 3, 0.5)
    assert StageStats.from_dict(stats.to_dict()) == stats
    with pytest.raises(ValueError, match="cannot merge"):
        stats + StageStats("c4_quality")
