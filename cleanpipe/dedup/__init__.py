"""The cross-source dedup engine: exact and MinHash near-duplicate removal over ALL sources.

It runs in two halves, so that the same code serves a process pool, Ray and the library
stages (:class:`cleanpipe.stages.ExactDedup`, :class:`cleanpipe.stages.MinHashDedup`):

- map side, :mod:`cleanpipe.dedup.signatures`: per batch of one input file, a signature
  table (id, source, length, exact hash, MinHash values by LSH band) — pure functions;
- barrier side, :mod:`cleanpipe.dedup.clusters`: once, over the signature tables of every
  source, band collisions, connected components and one keeper per cluster
  (:class:`DedupResult`: the rows to drop and the report's numbers), reading the tables
  through :mod:`cleanpipe.dedup.store` and summing up in :mod:`cleanpipe.dedup.summary`.

Parameters are in :mod:`cleanpipe.dedup.config`, shingle hashes in
:mod:`cleanpipe.dedup.hashes`. This package imports nothing from ``cleanpipe.stages`` or the
runner. See ``docs/dedup.md``.
"""

from cleanpipe.dedup.clusters import (
    DedupResult,
    band_pairs,
    find_duplicates,
    find_duplicates_in_tables,
)
from cleanpipe.dedup.config import DedupConfig, MinHashConfig
from cleanpipe.dedup.signatures import (
    dedup_signatures,
    exact_hash,
    fold_text,
    minhash_signatures,
    shingles,
    signature_matrix,
    signature_schema,
)

__all__ = [
    "DedupConfig",
    "DedupResult",
    "MinHashConfig",
    "band_pairs",
    "dedup_signatures",
    "exact_hash",
    "find_duplicates",
    "find_duplicates_in_tables",
    "fold_text",
    "minhash_signatures",
    "shingles",
    "signature_matrix",
    "signature_schema",
]
