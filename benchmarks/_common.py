"""Shared by the benchmark scripts: real texts from sample_data, and best-of-N timing."""

from __future__ import annotations

import gzip
import json
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def sample_texts(pattern: str = "*/*.jsonl*") -> list[str]:
    """The ``text`` of every readable JSONL record of sample_data matching ``pattern``
    (plain or .gz; .zst files are skipped to keep this dependency-free)."""
    texts = []
    for path in sorted((REPO / "sample_data").glob(pattern)):
        if path.suffix == ".zst":
            continue
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="utf-8") as fh:
            for line in fh:
                try:
                    texts.append(json.loads(line)["text"])
                except (ValueError, KeyError):
                    continue
    return texts


def best_of(repeat: int, fn: Callable[[], object]) -> float:
    """The fastest of ``repeat`` runs, in seconds (the least disturbed by other load)."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)
