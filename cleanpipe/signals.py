"""What the report shows of the documents themselves: languages, sampled quality signals and
a few rejected examples per reason.

Samples are bottom-k by a hash of the document id (the k documents with the smallest hashes),
so they are uniform, deterministic, and merge across tasks by simply keeping the k smallest
again — whatever the number of workers.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Iterator
from typing import Any

import xxhash

from cleanpipe.document import Document

#: values kept per signal per source (enough for a histogram).
SIGNAL_SAMPLE = 2_000
#: rejected examples kept per reason.
EXAMPLES_PER_REASON = 3
EXAMPLE_CHARS = 300


def _id_hash(doc_id: str) -> int:
    return xxhash.xxh3_64_intdigest(doc_id.encode("utf-8", "surrogatepass"))


def numeric_signals(meta: dict[str, Any]) -> Iterator[tuple[str, float]]:
    """Numeric values in a document's meta, one level of nesting deep, by dotted name
    (``lang_score``, ``gopher_quality.mean_word_length``). Booleans are not signals."""
    for key, value in meta.items():
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            yield key, float(value)
        elif isinstance(value, dict):
            for sub, inner in value.items():
                if isinstance(inner, (int, float)) and not isinstance(inner, bool):
                    yield f"{key}.{sub}", float(inner)


class SignalCollector:
    """Sees every document at the end of a source's stages, kept or dropped."""

    def __init__(self) -> None:
        self.languages: Counter = Counter()
        self._signals: dict[str, list[tuple[int, float]]] = {}
        self._examples: dict[str, list[tuple[int, str, str]]] = {}

    def observe(self, doc: Document, reason: str | None = None) -> None:
        h = _id_hash(doc.id)
        if "lang" in doc.meta:
            self.languages[doc.meta["lang"]] += 1
        for name, value in numeric_signals(doc.meta):
            _push(self._signals.setdefault(name, []), (h, value), SIGNAL_SAMPLE)
        if reason is not None:
            self.add_example(reason, doc.id, doc.text)

    def add_example(self, reason: str, doc_id: str, text: str) -> None:
        example = (_id_hash(doc_id), doc_id, text[:EXAMPLE_CHARS])
        _push(self._examples.setdefault(reason, []), example, EXAMPLES_PER_REASON)

    def to_dict(self) -> dict[str, Any]:
        return {
            "languages": dict(sorted(self.languages.items())),
            "signals": {k: sorted(v) for k, v in sorted(self._signals.items())},
            "examples": {k: sorted(v) for k, v in sorted(self._examples.items())},
        }


def _push(heap: list[Any], item: Any, k: int) -> None:
    """Keep the k smallest items (by hash) in a max-heap of negated hashes."""
    negated = (-item[0], *item[1:])
    if len(heap) < k:
        heapq.heappush(heap, negated)
    elif negated > heap[0]:
        heapq.heapreplace(heap, negated)


def merge_collected(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """Combine the collectors of several tasks into the report's view of one source."""
    languages: Counter = Counter()
    signals: dict[str, list[Any]] = {}
    examples: dict[str, list[Any]] = {}
    for part in parts:
        languages.update(part.get("languages", {}))
        # tuples: fresh stats hold tuples, stats read back from a marker hold JSON lists
        for name, items in part.get("signals", {}).items():
            signals.setdefault(name, []).extend(map(tuple, items))
        for reason, items in part.get("examples", {}).items():
            examples.setdefault(reason, []).extend(map(tuple, items))
    # items are stored with negated hashes: the k largest negated = the k smallest hashes
    return {
        "languages": dict(languages.most_common()),
        "signals": {
            name: [round(v, 4) for _, v in heapq.nlargest(SIGNAL_SAMPLE, items)]
            for name, items in sorted(signals.items())
        },
        "examples": {
            reason: [{"id": i, "text": t} for _, i, t in heapq.nlargest(EXAMPLES_PER_REASON, items)]
            for reason, items in sorted(examples.items())
        },
    }
