"""Normalize throughput (MB/s) against running ftfy on every document, in the same run.

    python benchmarks/bench_normalize.py [--repeat 3]

Texts: every JSONL record of sample_data (web pages in eight languages, books, news), some
with real mojibake. The baseline is the same Normalize with its ftfy gate turned off, i.e.
``ftfy.fix_text`` on every document, as most pipelines run it; both give identical output.
"""

from __future__ import annotations

import argparse

from _common import best_of, sample_texts

from cleanpipe.stages import Normalize


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
