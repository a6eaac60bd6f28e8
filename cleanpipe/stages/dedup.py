"""Exact and MinHash near-duplicate removal as library stages, over one iterable of documents.

The stages run the dedup engine (:mod:`cleanpipe.dedup`) in memory: the map step's
signatures per batch, then the barrier over all of them; a run with a config does the same
across all sources and files. See ``docs/dedup.md``.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Sequence

from cleanpipe.dedup.clusters import find_duplicates_in_tables
from cleanpipe.dedup.config import DedupConfig, MinHashConfig
from cleanpipe.dedup.signatures import dedup_signatures
from cleanpipe.document import Document
from cleanpipe.stages.base import Stage, Verdict, batched, register

__all__ = ["ExactDedup", "MinHashDedup"]


class _GlobalDedup(Stage):
    """Deduplicates an iterable in memory with the same map and barrier functions the runner
    uses. It must see every document before it yields one: it keeps the signature tables
    (about 100 bytes + 4 x num_perm bytes per document) and, when the input is a one-shot
    iterator rather than a sequence, the documents too. With ``annotate_only`` a duplicate is
    kept and its keeper's id written to ``meta["duplicate_of"]``."""

    is_global = True
    batch_size = 1024

    config: DedupConfig

    def __call__(self, docs: Iterable[Document]) -> Iterator[Document]:
        started = time.perf_counter()
        items = docs if isinstance(docs, Sequence) else list(docs)
        tables = [dedup_signatures(batch, self.config) for batch in batched(items, 1024)]
        result, drop_rows = find_duplicates_in_tables(tables, self.config)
        self.stats.seconds += time.perf_counter() - started
        #: the barrier's result of the last call: clusters, drops and report stats.
        self.result = result
        verdicts: list[Verdict] = [None] * len(items)
        keepers = result.drops.column("duplicate_of").to_pylist()
        reasons = result.drops.column("reason").to_pylist()
        for row, reason, keeper in zip(drop_rows.tolist(), reasons, keepers, strict=True):
            verdicts[row] = reason
            if self.annotate_only:
                items[row].meta["duplicate_of"] = keeper
        yield from self.apply_verdicts(list(items), verdicts)

    def reason(self, rule: str) -> str:
        """``dedup:exact`` or ``dedup:near``, whichever stage found it (as in a run's report)."""
        return f"dedup:{rule}"


@register("exact_dedup")
class ExactDedup(_GlobalDedup):
    """Keeps one document per group of identical folded texts
    (:func:`cleanpipe.dedup.signatures.fold_text`), across all sources. Dropped documents get
    reason ``dedup:exact``."""

    def __init__(
        self,
        *,
        keep: str = "first",
        source_priority: list[str] | None = None,
        annotate_only: bool = False,
    ) -> None:
        super().__init__(annotate_only=annotate_only)
        self.config = DedupConfig(
            exact=True, minhash=None, keep=keep, source_priority=source_priority
        )


@register("minhash_dedup")
class MinHashDedup(_GlobalDedup):
    """Keeps one document per near-duplicate cluster (MinHash LSH, Broder 1997; FineWeb's
    14 x 8 bands by default). With ``exact=True`` copies with identical folded text are
    reported as ``dedup:exact``, the rest of each cluster as ``dedup:near``."""

    def __init__(
        self,
        *,
        ngram: int = 5,
        bands: int = 14,
        rows: int = 8,
        seed: int = 1,
        shingle: str = "word",
        hashfunc: str = "fast",
        scheme: str = "affine32",
        verify_threshold: float | None = None,
        keep: str = "first",
        source_priority: list[str] | None = None,
        exact: bool = True,
        annotate_only: bool = False,
    ) -> None:
        super().__init__(annotate_only=annotate_only)
        minhash = MinHashConfig(
            ngram=ngram,
            bands=bands,
            rows=rows,
            seed=seed,
            shingle=shingle,
            hashfunc=hashfunc,
            scheme=scheme,
            verify_threshold=verify_threshold,
        )
        self.config = DedupConfig(
            exact=exact, minhash=minhash, keep=keep, source_priority=source_priority
        )
