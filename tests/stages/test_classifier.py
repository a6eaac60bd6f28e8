"""QualityClassifier with real fastText models: the sample's quality model (trained by
scripts/train_sample_classifier.py on the sample's books, news and papers vs its web pages)
and lid.176 as a many-label model. Texts are the sample's own documents."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from cleanpipe import Document
from cleanpipe.config import ConfigError, parse_config
from cleanpipe.stages import QualityClassifier
from cleanpipe.stages.classifier import SCORE_KEY, THRESHOLDS, pareto_keeps
from cleanpipe.stages.langid import bundled_model_path

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "sample_data" / "models" / "sample_quality.ftz"


def _jsonl(path: Path) -> list[dict]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.startswith('{"')]


@pytest.fixture(scope="module")
def books() -> list[Document]:
    rows = _jsonl(ROOT / "sample_data" / "books" / "austen.jsonl")
    return [Document(id=r["id"], text=r["text"], source="books") for r in rows[:20]]


@pytest.fixture(scope="module")
def web() -> list[Document]:
    rows = _jsonl(ROOT / "sample_data" / "web" / "crawl-000.jsonl.gz")
    return [Document(id=r["id"], text=r["text"], source="web") for r in rows if "text" in r]


def fresh(docs: list[Document]) -> list[Document]:
    return [Document(id=d.id, text=d.text, source=d.source) for d in docs]


def test_scores_books_above_documentation_pages(books, web) -> None:
    stage = QualityClassifier(model_path=str(MODEL), annotate_only=True)
    book_scores = stage.scores([d.text for d in books])
    web_scores = stage.scores([d.text for d in web[:200]])
    assert all(0.0 <= s <= 1.0 for s in book_scores + web_scores)
    assert sorted(book_scores)[len(book_scores) // 2] > 0.8  # measured 0.898
    assert sorted(web_scores)[len(web_scores) // 2] < 0.1


def test_min_score_drops_below_and_records_the_score(books, web) -> None:
    stage = QualityClassifier(model_path=str(MODEL), min_score=0.5)
    docs = fresh(books[:5]) + fresh(web[:50])
    dropped: list[tuple[str, str]] = []
    stage.on_drop = lambda doc, reason, detail="": dropped.append((reason, detail))
    kept = list(stage(docs))
    assert all(d.meta[SCORE_KEY] >= 0.5 for d in kept)
    assert all(d.meta[SCORE_KEY] < 0.5 for d in docs if d not in kept)
    assert {d.source for d in kept} >= {"books"} and len(kept) < len(docs)
    assert {r for r, _ in dropped} == {"classifier:low_score"}
    assert dropped[0][1].startswith(f"{SCORE_KEY} ") and "< 0.5" in dropped[0][1]
    assert stage.stats.dropped["classifier:low_score"] == len(docs) - len(kept)


def test_annotate_only_keeps_everything_and_counts_would_drop(web) -> None:
    stage = QualityClassifier(model_path=str(MODEL), min_score=0.5, annotate_only=True)
    docs = fresh(web[:50])
    kept = list(stage(docs))
    assert len(kept) == 50 and all(SCORE_KEY in d.meta for d in kept)
    low = sum(d.meta[SCORE_KEY] < 0.5 for d in kept)
    assert low > 0 and stage.stats.would_drop["classifier:low_score"] == low


def test_pareto_is_deterministic_and_keeps_some_low_score_pages(web) -> None:
    def kept_ids(seed: int) -> list[str]:
        stage = QualityClassifier(model_path=str(MODEL), sampling="pareto", seed=seed)
        return [d.id for d in stage(fresh(web))]

    first = kept_ids(42)
    assert first == kept_ids(42)
    assert first != kept_ids(7)
    scored = QualityClassifier(model_path=str(MODEL), annotate_only=True)
    scores = dict(zip([d.id for d in web], scored.scores([d.text for d in web]), strict=True))
    low_kept = [i for i in first if scores[i] < 0.5]
    assert low_kept, "Pareto sampling lets some low-score pages through"
    assert len(first) < len(web) / 2


def test_pareto_keeps_at_gpt3s_rate() -> None:
    # P(Pareto(9) draw > 1 - score) = (2 - score) ** -9: 2.6% at 0.5, 42.4% at 0.9
    lines = [
        line
        for r in _jsonl(ROOT / "sample_data" / "books" / "austen.jsonl")
        for line in r["text"].splitlines()
        if len(line) > 40
    ][:6000]
    for score, expected in ((0.5, 1.5**-9), (0.9, 1.1**-9)):
        rate = sum(pareto_keeps(42, line, score) for line in lines) / len(lines)
        assert abs(rate - expected) < 4 * (expected * (1 - expected) / len(lines)) ** 0.5 + 0.002
    assert all(pareto_keeps(42, line, 1.0) for line in lines[:100])


def test_label_with_or_without_prefix_and_a_missing_one() -> None:
    bare = QualityClassifier(model_path=str(MODEL), label="hq")
    full = QualityClassifier(model_path=str(MODEL), label="__label__hq")
    text = "It is a truth universally acknowledged, that a single man must be in want of a wife."
    assert bare.scores([text]) == full.scores([text])
    with pytest.raises(ValueError, match=r"has no label __label__cc; its labels: __label__"):
        QualityClassifier(model_path=str(MODEL), label="cc")


def test_the_positive_labels_score_not_the_most_probable_one() -> None:
    # lid.176 as a 176-label model: the score of "en" on French text is small, though the
    # model's top label (fr) is confident
    stage = QualityClassifier(model_path=str(bundled_model_path()), label="en")
    french, english = stage.scores(
        [
            "Tous les êtres humains naissent libres et égaux en dignité et en droits.",
            "All human beings are born free and equal in dignity and rights.",
        ]
    )
    assert french < 0.05 and english > 0.9


def test_a_text_without_words_scores_zero() -> None:
    assert QualityClassifier(model_path=str(MODEL)).scores(["", "   \n\t"]) == [0.0, 0.0]


def test_missing_or_foreign_model_files_are_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="classifier model not found: .*nope.ftz"):
        QualityClassifier(model_path=str(tmp_path / "nope.ftz"))
    not_a_model = ROOT / "sample_data" / "README.md"
    with pytest.raises(ValueError, match="is not a fastText model"):
        QualityClassifier(model_path=str(not_a_model))


def test_threshold_tally_counts_each_threshold(books, web) -> None:
    stage = QualityClassifier(model_path=str(MODEL), annotate_only=True)
    docs = fresh(books[:5]) + fresh(web[:40])
    list(stage(docs))
    extra = stage.report_extra()
    assert extra["scored"] == 45
    counts = [extra.get(f"score>={t:g}:docs", 0) for t in THRESHOLDS]
    assert counts == sorted(counts, reverse=True)
    assert counts == [sum(d.meta[SCORE_KEY] >= t for d in docs) for t in THRESHOLDS]
    assert extra["score>=0.5:chars"] == sum(len(d.text) for d in docs if d.meta[SCORE_KEY] >= 0.5)


def _config(stage: dict, seed: int = 7) -> dict:
    return {
        "seed": seed,
        "output": {"path": "/tmp/unused"},
        "sources": {
            "web": {
                "paths": [str(ROOT / "sample_data/web/*.jsonl.gz")],
                "weight": 1,
                "stages": [stage],
            }
        },
        "mixture": {"total_tokens": 1000},
    }


def test_a_config_passes_the_run_seed_unless_the_stage_sets_one() -> None:
    spec = parse_config(_config({"classifier": {"model_path": str(MODEL)}})).sources["web"]
    assert spec.stages[0].params["seed"] == 7
    own = {"classifier": {"model_path": str(MODEL), "seed": 3}}
    assert parse_config(_config(own)).sources["web"].stages[0].params["seed"] == 3


def test_a_config_with_a_wrong_label_is_one_line_with_its_key_path() -> None:
    with pytest.raises(ConfigError) as err:
        parse_config(_config({"classifier": {"model_path": str(MODEL), "label": "cc"}}))
    (problem,) = err.value.problems
    assert problem.startswith("sources.web.stages[0].classifier")
    assert "no label __label__cc; its labels: __label__hq, __label__other" in problem
