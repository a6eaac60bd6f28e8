"""What the report shows of the documents themselves: languages, sampled quality signals and
a few rejected examples per reason.

Samples are bottom-k by a hash of the document id (the k documents with the smallest hashes),
so they are uniform, deterministic, and merge across tasks by simply keeping the k smallest
again — whatever the number of workers.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np
import pyarrow as pa
import xxhash

from cleanpipe.document import Document

#: values kept per signal per source (enough for a histogram).
SIGNAL_SAMPLE = 2_000
#: rejected examples kept per reason.
EXAMPLES_PER_REASON = 3
EXAMPLE_CHARS = 300


def id_hash(doc_id: str) -> int:
    """The 64-bit hash that orders a sample: the k documents with the smallest are kept."""
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

    def observe(self, doc: Document, reason: str | None = None, key: str | None = None) -> None:
        """Count and sample one document. ``key`` identifies it for the bottom-k sample (the
        runner passes its origin: users' ids repeat, and equal hashes would sample the head)."""
        h = id_hash(doc.id if key is None else key)
        if "lang" in doc.meta:
            self.languages[doc.meta["lang"]] += 1
        for name, value in numeric_signals(doc.meta):
            _push(self._signals.setdefault(name, []), (h, value), SIGNAL_SAMPLE)
        if reason is not None:
            self.add_example(reason, doc.id, doc.text, key)

    def add_example(self, reason: str, doc_id: str, text: str, key: str | None = None) -> None:
        example = (id_hash(doc_id if key is None else key), doc_id, text[:EXAMPLE_CHARS])
        _push(self._examples.setdefault(reason, []), example, EXAMPLES_PER_REASON)

    def to_dict(self) -> dict[str, Any]:
        """Languages and examples: a few kB, kept in the task's stats."""
        return {
            "languages": dict(sorted(self.languages.items())),
            "examples": {k: sorted(v) for k, v in sorted(self._examples.items())},
        }

    def signal_table(self) -> pa.Table:
        """The signal samples as rows (signal, hash, value): up to 2,000 per signal, 42k rows
        for the Gopher filters. Written as Parquet beside the task's marker: 10x faster to
        read back than the same pairs in JSON, and they stay out of the driver's memory."""
        names, hashes, values = [], [], []
        for name, heap in sorted(self._signals.items()):
            for negated, value in sorted(heap, reverse=True):
                names.append(name)
                hashes.append(-negated)
                values.append(value)
        return pa.table(
            {
                "signal": pa.array(names, pa.string()),
                "hash": pa.array(hashes, pa.uint64()),
                "value": pa.array(values, pa.float64()),
            }
        )


def _push(heap: list[Any], item: Any, k: int) -> None:
    """Keep the k smallest items (by hash) in a max-heap of negated hashes."""
    negated = (-item[0], *item[1:])
    if len(heap) < k:
        heapq.heappush(heap, negated)
    elif negated > heap[0]:
        heapq.heapreplace(heap, negated)


class SignalSamples:
    """Bottom-k signal samples of many tasks, folded one task's table at a time, so memory
    stays at k values per signal however many tasks there are (the driver once kept every
    task's sample until the report: +0.8 GiB at 100 tasks)."""

    def __init__(self, k: int = SIGNAL_SAMPLE) -> None:
        self.k = k
        self._kept: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def add(self, table: pa.Table) -> None:
        """Fold one :meth:`SignalCollector.signal_table` in."""
        signal = table.column("signal").combine_chunks().dictionary_encode()
        codes = signal.indices.to_numpy()
        hashes = table.column("hash").to_numpy()
        values = table.column("value").to_numpy()
        for code, name in enumerate(signal.dictionary.to_pylist()):
            mine = codes == code
            old_h, old_v = self._kept.get(name, (hashes[:0], values[:0]))
            h = np.concatenate([old_h, hashes[mine]])
            v = np.concatenate([old_v, values[mine]])
            # smallest hashes first; equal hashes (one id seen twice): larger value first
            keep = np.lexsort((-v, h))[: self.k]
            self._kept[name] = (h[keep], v[keep])

    def values(self) -> dict[str, list[float]]:
        """Each signal's sampled values (rounded for the report), in hash order."""
        return {
            name: [round(float(x), 4) for x in v] for name, (_, v) in sorted(self._kept.items())
        }


def merge_collected(parts: Iterable[tuple[dict[str, Any], pa.Table]]) -> dict[str, Any]:
    """Combine what the collectors of several tasks saw into the report's view of one source.

    ``parts`` holds each task's (:meth:`SignalCollector.to_dict`,
    :meth:`SignalCollector.signal_table`) and may be a generator: it is consumed one task at
    a time.
    """
    languages: Counter = Counter()
    samples = SignalSamples()
    examples: dict[str, list[Any]] = {}
    for part, table in parts:
        languages.update(part.get("languages", {}))
        samples.add(table)
        # items hold negated hashes (see _push): the k largest are the k smallest hashes.
        # tuples: fresh stats hold tuples, stats read back from JSON hold lists
        for reason, items in part.get("examples", {}).items():
            examples[reason] = heapq.nlargest(
                EXAMPLES_PER_REASON, [*examples.get(reason, ()), *map(tuple, items)]
            )
    return {
        "languages": dict(languages.most_common()),
        "signals": samples.values(),
        "examples": {
            reason: [{"id": i, "text": t} for _, i, t in items]
            for reason, items in sorted(examples.items())
        },
    }
