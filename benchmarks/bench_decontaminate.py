"""Benchmark of the decontaminate stage: documents per second per core against 10,000 eval
items, with two baselines measured in the same run, and the index's build time and memory.

    python benchmarks/bench_decontaminate.py [--items 10000] [--docs 2000] [--words 1500]

Eval items are real text: consecutive 40-word passages (the question) and 6-word answers
cut from sample_data's books, web pages and papers, one item per passage, as a
reading-comprehension set is made. Documents are ~1,500 words of real English (standard
library docstrings, as bench_dedup.py); 1% of them carry an eval passage, so the exact
check behind each hit is timed too. Rates are CPU seconds of this process (the per-core
figure on a shared machine), best of 3.

Baselines, same documents and items:

- ``fold only``: the stage's own floor, folding and hashing every word of the batch
  (:func:`cleanpipe.dedup.signatures.word_tokens` + ``hash_spans``) and nothing else;
- ``naive set``: the textbook implementation, a Python ``set`` of 13-word tuples of the items
  (``\\w+`` words, lowercased) and a membership test per window of each document.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

from _common import REPO, sample_texts
from bench_dedup import real_documents

from cleanpipe.dedup.hashes import hash_spans
from cleanpipe.dedup.signatures import word_tokens
from cleanpipe.document import Document
from cleanpipe.io.readers import ReadOptions, expand_paths, read_input
from cleanpipe.stages import Decontaminate
from cleanpipe.stages.evalsets import EvalIndex

WORD = re.compile(r"\w+")
PASSAGE_WORDS = 40


def eval_passages(count: int) -> list[str]:
    """``count`` distinct 40-word passages of the sample's books, web pages and papers."""
    texts = sample_texts("books/*.jsonl") + sample_texts("web/*.jsonl.gz")
    for item in expand_paths(str(REPO / "sample_data/papers/*.parquet")):
        options = ReadOptions(source="papers", text_field="body", id_field="doc_id")
        texts += [d.text for d in read_input(item, options) if isinstance(d, Document)]
    words = [w for text in texts for w in text.split()]
    # a stride that visits all text, so items are spread over every source
    passages: list[str] = []
    seen: set[str] = set()
    stride = max(len(words) // count, PASSAGE_WORDS)
    for start in range(0, len(words) - PASSAGE_WORDS, stride // 2 or 1):
        passage = " ".join(words[start : start + PASSAGE_WORDS])
        if passage not in seen:
            seen.add(passage)
            passages.append(passage)
        if len(passages) == count:
            break
    return passages


def write_eval_file(passages: list[str], path: Path) -> None:
    with path.open("w") as fh:
        for i, passage in enumerate(passages):
            words = passage.split()
            item = {"id": i, "question": " ".join(words[:-6]), "answer": " ".join(words[-6:])}
            fh.write(json.dumps(item) + "\n")


def documents(count: int, words: int, passages: list[str]) -> list[Document]:
    texts = real_documents(count, size=words * 6)
    for i in range(0, count, 100):  # 1%: a passage pasted into the middle
        mid = len(texts[i]) // 2
        texts[i] = texts[i][:mid] + "\n\n" + passages[i % len(passages)] + "\n\n" + texts[i][mid:]
    return [Document(id=str(i), text=t, source="web") for i, t in enumerate(texts)]


def cpu_rate(fn: Callable[[], object], docs: int, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.process_time()
        fn()
        best = min(best, time.process_time() - started)
    return docs / max(best, 1e-9)


def naive_index(path: Path, n: int = 13) -> set[tuple[str, ...]]:
    grams: set[tuple[str, ...]] = set()
    for line in path.read_text().splitlines():
        for field in json.loads(line).values():
            if isinstance(field, str):
                words = WORD.findall(field.lower())
                grams.update(tuple(words[i : i + n]) for i in range(len(words) - n + 1))
    return grams


def naive_find(texts: list[str], grams: set[tuple[str, ...]], n: int = 13) -> int:
    hits = 0
    for text in texts:
        words = WORD.findall(text.lower())
        hits += any(tuple(words[i : i + n]) in grams for i in range(len(words) - n + 1))
    return hits


def build_figures(path: Path) -> dict[str, float]:
    """Build time (best of 3, no tracing), then peak and retained memory (traced)."""
    seconds = min(EvalIndex.build([str(path)]).build_seconds for _ in range(3))
    tracemalloc.start()
    index = EvalIndex.build([str(path)])
    retained, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        "items": len(index.items),
        "windows": index.windows,
        "build_s": round(seconds, 3),
        "retained_mb": round(retained / 1e6, 1),
        "peak_mb": round(peak / 1e6, 1),
        "bytes_per_window": round(retained / max(index.windows, 1), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--docs", type=int, default=2_000)
    parser.add_argument("--words", type=int, default=1_500)
    parser.add_argument("--work", type=Path, default=REPO / "benchmarks/.work/decontaminate")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    passages = eval_passages(max(args.items, 15_000))
    builds = {}
    for size in sorted({args.items, 15_000}):  # 15k: MMLU's test set is ~14k questions
        path = args.work / f"evals-{size}.jsonl"
        write_eval_file(passages[:size], path)
        builds[size] = build_figures(path)
    path = args.work / f"evals-{args.items}.jsonl"
    docs = documents(args.docs, args.words, passages[: args.items])
    texts = [d.text for d in docs]
    stage = Decontaminate(paths=[str(path)])

    def run_stage() -> None:
        stage.stats.docs_in = 0
        fresh = [Document(id=d.id, text=d.text, source=d.source) for d in docs]
        kept = sum(1 for _ in stage(fresh))
        assert args.docs - kept == len(range(0, args.docs, 100)), kept

    def fold_only() -> None:
        for i in range(0, len(texts), stage.batch_size):
            tokens = word_tokens(texts[i : i + stage.batch_size])
            hash_spans(tokens.buf, tokens.start, tokens.length)

    grams = naive_index(path)
    sub = texts[: max(args.docs // 4, 100)]
    assert naive_find(texts, grams) == len(range(0, args.docs, 100))
    rates = {
        "decontaminate": cpu_rate(run_stage, len(docs)),
        "fold only (floor)": cpu_rate(fold_only, len(docs)),
        "naive set of 13-gram tuples": cpu_rate(lambda: naive_find(sub, grams), len(sub)),
    }
    mb = sum(len(t.encode()) for t in texts) / 1e6
    print(
        f"# decontaminate: {args.docs} docs of ~{args.words} words ({mb:.1f} MB), "
        f"{args.items} eval items, python {sys.version.split()[0]}"
    )
    print("| run | docs/s per core | MB/s per core | vs decontaminate |")
    print("|---|---:|---:|---:|")
    for name, rate in rates.items():
        ratio = rate / rates["decontaminate"]
        print(f"| {name} | {rate:,.0f} | {rate * mb / len(docs):.1f} | {ratio:.2f}x |")
    print("\n| eval items | windows indexed | build s | retained MB | peak MB | bytes/window |")
    print("|---:|---:|---:|---:|---:|---:|")
    for b in builds.values():
        print(
            f"| {b['items']:,} | {b['windows']:,} | {b['build_s']} | {b['retained_mb']} "
            f"| {b['peak_mb']} | {b['bytes_per_window']} |"
        )


if __name__ == "__main__":
    main()
