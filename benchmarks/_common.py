"""Shared by the benchmark scripts: real texts (sample_data, standard-library docstrings),
and best-of-N timing."""

from __future__ import annotations

import ast
import gzip
import json
import sysconfig
import time
from collections.abc import Callable, Iterable, Iterator
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


def stdlib_docstrings(paths: Iterable[Path] | None = None) -> Iterator[str]:
    """Module, class and function docstrings (cleaned) of standard-library sources: real
    English prose on every machine. ``paths`` defaults to the top-level modules, sorted."""
    if paths is None:
        paths = sorted(Path(sysconfig.get_paths()["stdlib"]).glob("*.py"))
    for path in paths:
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (SyntaxError, UnicodeDecodeError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef):
                doc = ast.get_docstring(node)
                if doc:
                    yield doc


def best_of(repeat: int, fn: Callable[[], object]) -> float:
    """The fastest of ``repeat`` runs, in seconds (the least disturbed by other load)."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def print_rates(
    what: str, texts: list[str], repeat: int, variants: list[tuple[str, Callable[[], object]]]
) -> None:
    """Time each variant (best of ``repeat``) and print one line per variant: ``what``/s,
    MB/s and the speed ratio against the first variant (the baseline), after a line
    describing the texts."""
    timings = [(name, best_of(repeat, fn)) for name, fn in variants]
    mb = sum(len(t.encode()) for t in texts) / 1e6
    print(f"{len(texts)} {what}, {mb:.1f} MB, mean {mb * 1e6 / len(texts):.0f} bytes")
    width = max(len(name) for name, _ in timings) + 2
    baseline = timings[0][1]
    for name, t in timings:
        print(
            f"{name:<{width}} {len(texts) / t:>9,.0f} {what}/s  {mb / t:6.1f} MB/s  "
            f"ratio {baseline / t:.2f}x"
        )
