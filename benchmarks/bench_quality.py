"""Throughput of GopherRepetition + GopherQuality against a naive baseline, in one run.

    python benchmarks/bench_quality.py [--docs 2000] [--rounds 3]

The documents are ~2 KB of real English: prose paragraphs of the docstrings in this
Python's standard library, read with ``ast`` (nothing is imported). The baseline is the
straightforward way to write the same rules: every rule splits the text again and n-grams
are built as strings (the shape of datatrove's and most peers' filters). Both run on one
core in this process; on a shared machine compare the ratio, not the absolute numbers.
"""

from __future__ import annotations

import argparse
import inspect
import os
import re
import sysconfig
import time
from collections import Counter
from pathlib import Path

from _common import stdlib_docstrings

from cleanpipe.document import Document
from cleanpipe.stages.quality import GopherQuality, GopherRepetition

DOC_CHARS = 2000


# -- real English documents ---------------------------------------------------------------


def stdlib_paragraphs() -> list[str]:
    """Prose paragraphs (12+ words, mostly alphabetic, no doctest) of stdlib docstrings."""
    root = Path(sysconfig.get_paths()["stdlib"])
    # a second cleandoc (ast.get_docstring has done one) dedents nested lists once more;
    # kept, so the documents are those of the figures in the README
    docs = stdlib_docstrings(_stdlib_sources(root))
    return [p for doc in docs for p in _prose(inspect.cleandoc(doc))]


def _stdlib_sources(root: Path) -> list[Path]:
    """The standard library's .py files, without tests and installed packages, sorted."""
    paths = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith(("test", "site-packages", "__"))]
        paths.extend(Path(folder) / name for name in files if name.endswith(".py"))
    return sorted(p for p in paths if not p.name.startswith("test"))


def _prose(docstring: str) -> list[str]:
    out = []
    for para in re.split(r"\n\s*\n", docstring):
        words = para.split()
        alpha = sum(w.strip(".,;:()'\"").isalpha() for w in words)
        if len(words) >= 12 and alpha >= 0.7 * len(words) and ">>>" not in para:
            out.append(para.strip())
    return out


def english_documents(n: int) -> list[str]:
    """``n`` texts of about 2 KB, paragraphs joined by blank lines, in a stable order."""
    paragraphs = stdlib_paragraphs()
    docs: list[str] = []
    current: list[str] = []
    size = 0
    for para in paragraphs:
        current.append(para)
        size += len(para) + 2
        if size >= DOC_CHARS:
            docs.append("\n\n".join(current))
            current, size = [], 0
            if len(docs) == n:
                break
    return docs


# -- the naive baseline: one split per rule, string n-grams --------------------------------

_PUNCT = ".,;:!?\"'()[]{}<>-…“”‘’«»—–/\\#*_~`|@$%^&+="
_STOP = {"the", "be", "to", "of", "and", "that", "have", "with"}


def _words(text: str) -> list[str]:
    return [w for w in (t.strip(_PUNCT) for t in text.split()) if w]


def naive_quality(text: str) -> str | None:
    if not 50 <= len(_words(text)) <= 100_000:
        return "word_count"
    mean = sum(len(w) for w in _words(text)) / max(1, len(_words(text)))
    if not 3 <= mean <= 10:
        return "mean_word_length"
    if text.count("#") / max(1, len(_words(text))) > 0.1:
        return "hash_ratio"
    if (text.count("...") + text.count("…")) / max(1, len(_words(text))) > 0.1:
        return "ellipsis_ratio"
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if sum(line.startswith(("•", "-", "*")) for line in lines) / max(1, len(lines)) > 0.9:
        return "bullet_lines"
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if sum(line.endswith(("...", "…")) for line in lines) / max(1, len(lines)) > 0.3:
        return "ellipsis_lines"
    words = _words(text)
    if sum(any(c.isalpha() for c in w) for w in words) / max(1, len(words)) < 0.8:
        return "alpha_words"
    if len({w.lower() for w in _words(text)} & _STOP) < 2:
        return "stop_words"
    return None


def _dups(items: list[str]) -> tuple[int, int]:
    seen: set[str] = set()
    count = chars = 0
    for item in items:
        if item in seen:
            count, chars = count + 1, chars + len(item)
        seen.add(item)
    return count, chars


def naive_repetition(text: str) -> str | None:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if _dups(lines)[0] / max(1, len(lines)) > 0.3:
        return "dup_lines"
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
    if _dups(paragraphs)[0] / max(1, len(paragraphs)) > 0.3:
        return "dup_paragraphs"
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if _dups(lines)[1] / max(1, sum(map(len, lines))) > 0.2:
        return "dup_line_chars"
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
    if _dups(paragraphs)[1] / max(1, sum(map(len, paragraphs))) > 0.2:
        return "dup_paragraph_chars"
    for n, limit in ((2, 0.20), (3, 0.18), (4, 0.16)):
        words = [w.lower() for w in _words(text)]
        total = sum(map(len, words))
        grams = [" ".join(words[i : i + n]) for i in range(len(words) - n + 1)]
        if grams:
            gram, count = Counter(grams).most_common(1)[0]
            if count > 1 and count * (len(gram) - n + 1) / max(1, total) > limit:
                return f"top_{n}gram"
    for n, limit in ((5, 0.15), (6, 0.14), (7, 0.13), (8, 0.12), (9, 0.11), (10, 0.10)):
        words = [w.lower() for w in _words(text)]
        grams = [" ".join(words[i : i + n]) for i in range(len(words) - n + 1)]
        seen: set[str] = set()
        covered = [False] * len(words)
        for i, gram in enumerate(grams):
            if gram in seen:  # a repeat: the second and later copies count
                covered[i : i + n] = [True] * n
            seen.add(gram)
        dup_chars = sum(len(w) for w, c in zip(words, covered, strict=True) if c)
        if dup_chars / max(1, sum(map(len, words))) > limit:
            return f"dup_{n}gram"
    return None


# -- timing ---------------------------------------------------------------------------------


def fresh(texts: list[str]) -> list[str]:
    """New string objects, so no cached split from an earlier round is reused."""
    return [(t + " ")[:-1] for t in texts]


def time_ours(texts: list[str]) -> tuple[float, int]:
    docs = [Document(id=str(i), text=t, source="bench") for i, t in enumerate(fresh(texts))]
    pipeline = [GopherRepetition(), GopherQuality()]
    started = time.perf_counter()
    stream = docs
    for stage in pipeline:
        stream = stage(stream)
    kept = sum(1 for _ in stream)
    return time.perf_counter() - started, kept


def time_naive(texts: list[str]) -> tuple[float, int]:
    texts = fresh(texts)
    started = time.perf_counter()
    kept = sum(1 for t in texts if naive_repetition(t) is None and naive_quality(t) is None)
    return time.perf_counter() - started, kept


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    texts = english_documents(args.docs)
    n = len(texts)
    mean = sum(map(len, texts)) / n
    print(f"{n} English documents from stdlib docstrings, mean {mean:.0f} chars")
    ours = naive = float("inf")
    for _ in range(args.rounds):  # interleaved, best of each: fair on a busy machine
        seconds, ours_kept = time_ours(texts)
        ours = min(ours, seconds)
        seconds, naive_kept = time_naive(texts)
        naive = min(naive, seconds)
    print(f"ours  GopherRepetition+GopherQuality: {n / ours:8.0f} docs/s   kept {ours_kept}/{n}")
    print(f"naive re-split per rule (baseline):   {n / naive:8.0f} docs/s   kept {naive_kept}/{n}")
    print(f"ratio ours/naive: {naive / ours:.1f}x  (best of {args.rounds} rounds, one core)")


if __name__ == "__main__":
    main()
