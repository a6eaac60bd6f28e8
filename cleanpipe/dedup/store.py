"""Signature tables as the barrier reads them: in their deterministic order (sorted paths,
then row), a few columns at a time, from Parquet files or in-memory tables."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from cleanpipe.dedup.config import DedupConfig, MinHashConfig
from cleanpipe.dedup.signatures import SCHEMA_KEY
from cleanpipe.hashing import fingerprint
from cleanpipe.io import fs

#: rows per batch read from a signature table.
BATCH_ROWS = 1 << 16

_Reader = Callable[[int, list[str]], Iterator[pa.RecordBatch]]


class SignatureStore:
    """Signature tables in their deterministic order, read a few columns at a time."""

    def __init__(
        self,
        sizes: list[int],
        read: _Reader,
        names: list[str],
        identity: list[Any] | None = None,
    ):
        self.sizes = sizes
        self.names = names  # each part's path as given (or "table i"): the drops' ``file``
        self.identity = identity or []
        self.offsets = np.concatenate(([0], np.cumsum(sizes, dtype=np.int64)))
        self.num_rows = int(self.offsets[-1])
        self._read = read

    def batches(self, columns: list[str]) -> Iterator[tuple[int, pa.RecordBatch]]:
        """``(first global row, batch)`` over all parts, in order."""
        for part, offset in enumerate(self.offsets[:-1].tolist()):
            if not self.sizes[part]:
                continue
            for batch in self._read(part, columns):
                yield offset, batch
                offset += batch.num_rows

    def take(self, columns: list[str], rows: np.ndarray) -> pa.Table:
        """The given (ascending) global rows, in that order."""
        rows = np.asarray(rows, dtype=np.int64)
        found: list[pa.RecordBatch] = []
        if not len(rows):
            return self._schema(columns).empty_table()
        for offset, batch in self.batches(columns):
            lo, hi = np.searchsorted(rows, [offset, offset + batch.num_rows])
            if hi > lo:
                found.append(batch.take(pa.array(rows[lo:hi] - offset)))
            if hi == len(rows):
                break
        return pa.Table.from_batches(found)

    def locate(self, rows: np.ndarray) -> tuple[pa.Array, pa.Array]:
        """(part name, row within that part) of global rows: the row identity of a document."""
        rows = np.asarray(rows, dtype=np.int64)
        part = np.searchsorted(self.offsets, rows, side="right") - 1
        names = pa.DictionaryArray.from_arrays(pa.array(part, pa.int32()), pa.array(self.names))
        return names.cast(pa.string()), pa.array(rows - self.offsets[part], pa.int64())

    def _schema(self, columns: list[str]) -> pa.Schema:
        for part in range(len(self.sizes)):
            for batch in self._read(part, columns):
                return batch.schema
        return pa.schema([pa.field(c, pa.string()) for c in columns])

    def fingerprint(self, config: MinHashConfig) -> str:
        """Identifies the inputs (files, their sizes and times, MinHash parameters)."""
        return fingerprint([self.identity, self.sizes, config.to_dict()])

    def column_numpy(self, name: str, convert: Callable[[pa.Array], np.ndarray]) -> np.ndarray:
        return np.concatenate(
            [convert(batch.column(0)) for _, batch in self.batches([name])] or [np.empty(0)]
        )

    @classmethod
    def from_paths(cls, paths: Sequence[str]) -> tuple[SignatureStore, list[dict[str, Any]]]:
        files = [fs.parquet_file(path) for path in paths]
        metas = [_table_meta(f.schema_arrow, path) for f, path in zip(files, paths, strict=True)]

        def read(part: int, columns: list[str]) -> Iterator[pa.RecordBatch]:
            yield from files[part].iter_batches(batch_size=BATCH_ROWS, columns=columns)

        identity = []
        for path in paths:
            size, mtime_ns = fs.stat(path)
            where = fs.display(path) if fs.is_uri(path) else os.path.abspath(path)
            identity.append([where, size, mtime_ns])
        return cls([f.metadata.num_rows for f in files], read, list(paths), identity), metas

    @classmethod
    def from_tables(cls, tables: Sequence[pa.Table]) -> tuple[SignatureStore, list[dict[str, Any]]]:
        metas = [_table_meta(t.schema, f"table {i}") for i, t in enumerate(tables)]

        def read(part: int, columns: list[str]) -> Iterator[pa.RecordBatch]:
            yield from tables[part].select(columns).to_batches(max_chunksize=BATCH_ROWS)

        names = [f"table {i}" for i in range(len(tables))]
        return cls([t.num_rows for t in tables], read, names), metas


def _table_meta(schema: pa.Schema, where: str) -> dict[str, Any]:
    raw = (schema.metadata or {}).get(SCHEMA_KEY)
    if raw is None:
        raise ValueError(f"{where}: not a dedup signature table (no {SCHEMA_KEY!r} metadata)")
    return json.loads(raw)


def check_meta(metas: list[dict[str, Any]], config: DedupConfig, names: Sequence[str]) -> None:
    """Every signature table must have been made with the MinHash parameters of ``config``
    (``verify_threshold`` only matters here, so it may differ)."""
    if config.minhash is None:
        return
    want = {k: v for k, v in config.minhash.to_dict().items() if k != "verify_threshold"}
    for meta, name in zip(metas, names, strict=True):
        have = meta.get("minhash")
        have = {k: v for k, v in (have or {}).items() if k != "verify_threshold"}
        if have != want:
            raise ValueError(
                f"{name}: signatures were made with minhash {have or None}, but the dedup "
                f"config has {want}; recompute the signatures"
            )
