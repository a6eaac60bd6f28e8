"""Real text for the dedup tests: standard-library docstrings, and copies of them edited at
controlled rates, with the exact Jaccard similarity of every pair."""

from __future__ import annotations

import ast
import gzip
import json
import random
import sysconfig
from collections import Counter, defaultdict
from functools import lru_cache
from pathlib import Path

import pyarrow.parquet as pq

from cleanpipe.dedup import DedupConfig, dedup_signatures, fold_text
from cleanpipe.document import Document

REPO = Path(__file__).resolve().parents[2]


@lru_cache(maxsize=1)
def web_sample() -> tuple[dict, ...]:
    """The valid records (``id``, ``text``, ``url``) of the bundled web sample, in file and
    line order: real pages (Python and Debian documentation) with their URLs."""
    records = []
    for path in sorted((REPO / "sample_data/web").glob("*.jsonl.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            for line in fh:
                try:
                    record = json.loads(line)
                except ValueError:
                    continue
                if isinstance(record.get("text"), str):
                    records.append(record)
    return tuple(records)


@lru_cache(maxsize=1)
def docstrings() -> tuple[str, ...]:
    """Docstrings of the standard library, whitespace collapsed: real English prose."""
    root = Path(sysconfig.get_paths()["stdlib"])
    found = []
    for path in sorted(root.glob("*.py")):
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (SyntaxError, UnicodeDecodeError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef):
                doc = ast.get_docstring(node)
                if doc and len(doc.split()) >= 20:
                    found.append(doc)
    return tuple(found)


def shingle_set(text: str, n: int = 5) -> set[tuple[str, ...]]:
    words = fold_text(text).split(" ")
    return {tuple(words[i : i + n]) for i in range(max(len(words) - n + 1, 1))}


def jaccard(a: set, b: set) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0


@lru_cache(maxsize=1)
def base_docs() -> tuple[str, ...]:
    """Documents of >= 120 words of consecutive docstrings, none sharing more than 0.3
    Jaccard (5-word shingles) with another."""
    docs, current = [], []
    for doc in docstrings():
        current.append(doc)
        if sum(len(d.split()) for d in current) >= 120:
            docs.append("\n\n".join(current))
            current = []
    kept: list[str] = []
    index: dict[tuple[str, ...], list[int]] = defaultdict(list)
    sets: list[set] = []
    for text in docs:
        s = shingle_set(text)
        shared = Counter(j for sh in s for j in index.get(sh, ()))
        if any(c / len(s | sets[j]) > 0.3 for j, c in shared.items()):
            continue
        for sh in s:
            index[sh].append(len(kept))
        kept.append(text)
        sets.append(s)
    return tuple(kept)


def edit(text: str, rate: float, rng: random.Random, vocab: list[str]) -> str:
    """Substitute, delete or insert words, each word with probability ``rate``."""
    out = []
    for word in text.split():
        r = rng.random()
        if r < rate / 3:
            out.append(rng.choice(vocab))
        elif r < 2 * rate / 3:
            continue
        elif r < rate:
            out.extend([word, rng.choice(vocab)])
        else:
            out.append(word)
    return " ".join(out)


@lru_cache(maxsize=1)
def edited_corpus() -> tuple[list[Document], list[tuple[str, str, float]]]:
    """Base documents in "books" or "web", and for 60% of them an edited copy in the other
    source, with exact Jaccard from 0.3 to 1. Returns the documents (shuffled) and the
    (original id, copy id, Jaccard) of every pair."""
    rng = random.Random(5)
    base = base_docs()
    vocab = sorted({w for text in base[:50] for w in text.split()})
    docs, pairs = [], []
    for i, text in enumerate(base):
        source = "books" if i % 2 else "web"
        docs.append(Document(id=f"{source}-{i}", text=text, source=source))
        if rng.random() < 0.6:
            rate = rng.choice([0.0, 0.0, 0.01, 0.02, 0.03, 0.05, 0.08, 0.12])
            copy = edit(text, rate, rng, vocab)
            if rate == 0.0:  # a copy that differs in case, punctuation and spacing only
                copy = copy.upper().replace(". ", " ... ")
            other = "web" if source == "books" else "books"
            docs.append(Document(id=f"{other}-copy-{i}", text=copy, source=other))
            sim = jaccard(shingle_set(text), shingle_set(copy))
            pairs.append((docs[-2].id, docs[-1].id, sim))
    rng.shuffle(docs)
    return docs, pairs


def max_partner_similarity(docs: list[Document]) -> dict[str, float]:
    """Exact max Jaccard of every document with any other (inverted index over shingles)."""
    sets = [shingle_set(d.text) for d in docs]
    index: dict[tuple[str, ...], list[int]] = defaultdict(list)
    for i, s in enumerate(sets):
        for sh in s:
            index[sh].append(i)
    best = {}
    for i, s in enumerate(sets):
        shared = Counter(j for sh in s for j in index[sh] if j != i)
        best[docs[i].id] = max(
            (c / (len(s) + len(sets[j]) - c) for j, c in shared.items()), default=0.0
        )
    return best


TEXT = docstrings()[3] if docstrings() else "The text."


def variants() -> list[Document]:
    return [
        Document(id="web-1", text=TEXT, source="web"),
        Document(id="books-1", text=TEXT.upper() + "  !!", source="books"),
        Document(id="code-1", text="Different text: " + docstrings()[4], source="code"),
        Document(id="web-2", text=" ".join(TEXT.split()) + ". ...\n", source="web"),
    ]


def write_signatures(tmp_path: Path, docs: list[Document], config: DedupConfig, size: int):
    tmp_path.mkdir(parents=True, exist_ok=True)
    paths = []
    for source in sorted({d.source for d in docs}):
        of_source = [d for d in docs if d.source == source]
        for k in range(0, len(of_source), size):
            path = tmp_path / f"{source}-{k // size:05d}.sig.parquet"
            pq.write_table(dedup_signatures(of_source[k : k + size], config), path)
            paths.append(str(path))
    return paths
