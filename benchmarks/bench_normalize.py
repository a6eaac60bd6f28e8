"""Normalize throughput (MB/s) against running ftfy on every document, in the same run.

    python benchmarks/bench_normalize.py [--repeat 3]

Texts: every JSONL record of sample_data (web pages in eight languages, books, news), some
with real mojibake. The baseline is the same Normalize with its ftfy gate turned off, i.e.
``ftfy.fix_text`` on every document, as most pipelines run it; both give identical output.
"""

from __future__ import annotations

import argparse
import gzip
import json
import time
from pathlib import Path

from cleanpipe.stages import Normalize

REPO = Path(__file__).resolve().parent.parent


def sample_texts() -> list[str]:
    texts = []
    for path in sorted((REPO / "sample_data").glob("*/*.jsonl*")):
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


def best_of(repeat: int, fn) -> float:  # noqa: ANN001
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    texts = sample_texts()
    mb = sum(len(t.encode()) for t in texts) / 1e6
    gated = Normalize()
    always = Normalize()
    always._needs_ftfy = lambda text: True  # type: ignore[method-assign]
    assert [gated.normalize_text(t) for t in texts] == [always.normalize_text(t) for t in texts]
    t_always = best_of(args.repeat, lambda: [always.normalize_text(t) for t in texts])
    t_gated = best_of(args.repeat, lambda: [gated.normalize_text(t) for t in texts])
    print(f"{len(texts)} texts, {mb:.1f} MB (identical output)")
    print(f"ftfy on every document {mb / t_always:6.1f} MB/s")
    print(f"Normalize (gated)      {mb / t_gated:6.1f} MB/s  ratio {t_always / t_gated:.1f}x")


if __name__ == "__main__":
    main()
