"""Token counting: real tokenizers, and the estimate mode with its measured error."""

from __future__ import annotations

import pytest

from cleanpipe.tokens import TokenCounter, TokenEstimator
from tests.conftest import ENGLISH


def test_cl100k_counts_real_tokens() -> None:
    counter = TokenCounter("cl100k")
    assert counter.count(["hello world", ""]) == [2, 0]
    assert counter.count([ENGLISH[0]])[0] == 33  # UDHR art. 1, first two sentences


def test_mistral_sentencepiece_counts() -> None:
    pytest.importorskip("mistral_common")
    counter = TokenCounter("mistral-v1")
    (n,) = counter.count([ENGLISH[0]])
    assert 30 < n < 50


def test_estimate_mode_is_close_and_measures_its_error() -> None:
    texts = [(ENGLISH[i % 3] + " ") * (1 + i % 7) for i in range(3000)]
    ids = [f"d{i}" for i in range(3000)]
    exact = TokenCounter("cl100k").count(texts)
    estimator = TokenEstimator("cl100k", "estimate", seed=1, sample_rate=0.05)
    estimated = []
    for i in range(0, 3000, 500):
        estimated += estimator.count(ids[i : i + 500], texts[i : i + 500])
    assert abs(sum(estimated) - sum(exact)) / sum(exact) < 0.02
    summary = estimator.stats.summary()
    assert summary["holdout_docs"] > 50 and abs(summary["total_error"]) < 0.02
    again = TokenEstimator("cl100k", "estimate", seed=1, sample_rate=0.05)
    assert sum(again.count(ids, texts)) == pytest.approx(sum(estimated), rel=0.01)
