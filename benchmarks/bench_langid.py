"""LanguageID: throughput and accuracy of its readings of a text, in one run.

    python benchmarks/bench_langid.py [--repeat 3] [--no-accuracy]

Throughput (texts per CPU-second of this process: steadier than wall time on a shared
machine) is measured on the web sample (real pages, ~3 KB each), best of ``--repeat`` runs,
round-robin, for each reading of a text:

- ``first 20,000``: the first 20,000 characters (the reading before windows);
- ``first 1,200``: the first 1,200 characters, as many as the default windows read;
- ``windows K x N``: K windows of N characters evenly spaced from the beginning to the end
  (beginning, middle and end for K = 3), the default being 10 x 120
  (``cleanpipe.stages.langid.WINDOWS``, ``WINDOW_CHARS``);

and for a bare fastText loop (``model.predict(text.replace("\\n", " "))`` per text, with the
same model) as the baseline of the stage's own cost. Accuracy is the share of documents
whose predicted language is the one they are written in, on the two sets of
``langid_texts.py`` (built on first use): real text in 18 languages from Debian packages, and
the same kind of text under ~1 KB of real English navigation (where the head is English);
and how many keep/drop decisions of the llama config's ``langid`` change on the web sample.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

from _common import sample_texts
from langid_texts import build, load

from cleanpipe import Document
from cleanpipe.stages import LanguageID
from cleanpipe.stages.langid import WINDOW_CHARS, WINDOWS, load_model

READINGS: dict[str, dict[str, int | None]] = {
    "first 20,000": {"window_chars": None, "max_chars": 20_000},
    "first 1,200": {"window_chars": None, "max_chars": 1_200},
    "windows 3 x 400": {"windows": 3, "window_chars": 400},
    "windows 5 x 240": {"windows": 5, "window_chars": 240},
    f"windows {WINDOWS} x {WINDOW_CHARS} (default)": {},
}


def accuracy(stage: LanguageID, records: list[dict[str, str]]) -> tuple[float, list[str]]:
    """Share of correct predictions, and the predicted languages (for agreement)."""
    predicted = [lang for lang, _ in stage.predict([r["text"] for r in records])]
    right = sum(p == r["lang"] for p, r in zip(predicted, records, strict=True))
    return right / len(records), predicted


def cpu_seconds(fn: Callable[[], object]) -> float:
    """CPU seconds of one call (this process only): steadier than the wall clock on a shared
    machine, and the same thing for a single-threaded loop."""
    started = time.process_time()
    fn()
    return time.process_time() - started


def speed(texts: list[str], repeat: int) -> dict[str, float]:
    """CPU seconds for all ``texts``, best of ``repeat``: each reading's ``predict`` and the
    bare loop, round-robin so that load on the shared machine falls on all of them alike."""
    stages = {name: LanguageID(**kw) for name, kw in READINGS.items()}
    model = load_model(next(iter(stages.values())).model_path)

    def bare() -> None:
        for text in texts:
            model.predict(text.replace("\n", " "))

    runs: dict[str, Callable[[], object]] = {"bare fastText, whole text": bare}
    runs.update({name: (lambda s=s: s.predict(texts)) for name, s in stages.items()})
    best = {name: float("inf") for name in runs}
    for _ in range(repeat):
        for name, fn in runs.items():
            best[name] = min(best[name], cpu_seconds(fn))
    return best


def decisions(texts: list[str]) -> None:
    """How many of the web sample's keep/drop decisions of ``langid: {languages: [en],
    min_score: 0.65}`` (the llama config's) change with each reading."""
    before = _kept(LanguageID(languages=["en"], **READINGS["first 20,000"]), texts)
    for name, kw in READINGS.items():
        kept = _kept(LanguageID(languages=["en"], **kw), texts)
        changed = sum(a != b for a, b in zip(kept, before, strict=True))
        print(f"  {name:<28} keeps {sum(kept)}/{len(texts)}, {changed} decisions changed")


def _kept(stage: LanguageID, texts: list[str]) -> list[bool]:
    return [lang == "en" and score >= stage.min_score for lang, score in stage.predict(texts)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-accuracy", action="store_true")
    args = parser.parse_args()
    texts = sample_texts("web/*.jsonl.gz")
    mb = sum(len(t.encode()) for t in texts) / 1e6
    print(f"speed: {len(texts)} web sample pages, {mb:.1f} MB, mean {mb * 1e6 / len(texts):.0f} B")
    seconds = speed(texts, args.repeat)
    base = seconds["first 20,000"]
    for name, t in seconds.items():
        print(
            f"  {name:<28} {len(texts) / t:>8,.0f} texts/CPU-s  {mb / t:5.1f} MB/s  "
            f"{base / t:.2f}x first 20,000"
        )
    stage = LanguageID()  # the whole stage: predict plus meta, verdicts and stats
    stage_run = min(
        cpu_seconds(lambda: list(stage(Document(str(i), t) for i, t in enumerate(texts))))
        for _ in range(args.repeat)
    )
    print(f"  {'LanguageID stage (default)':<28} {len(texts) / stage_run:>8,.0f} texts/CPU-s")
    print("decisions on the web sample (languages [en], min_score 0.65):")
    decisions(texts)
    if args.no_accuracy:
        return
    for path in build():
        records = load(path)
        langs = len({r["lang"] for r in records})
        print(f"accuracy: {path.name}, {len(records)} documents, {langs} languages")
        reference: list[str] | None = None
        for name, kw in READINGS.items():
            share, predicted = accuracy(LanguageID(**kw), records)
            reference = reference or predicted
            same = sum(a == b for a, b in zip(predicted, reference, strict=True))
            print(
                f"  {name:<28} {100 * share:6.2f} % right "
                f"({round(share * len(records))}/{len(records)}), "
                f"same language as first 20,000 for {same}/{len(records)}"
            )


if __name__ == "__main__":
    main()
