"""Parquet writing: atomic files, the staged and output schemas (shard names: io.layout).

A file only ever appears under its final name complete: it is written to a temporary name
in the same folder and renamed (``os.replace`` is atomic on POSIX filesystems; on an object
store the temporary object is copied to the final key and deleted, see
:mod:`cleanpipe.io.fs`). A killed run leaves at most ``*.tmp-*`` files, which resume ignores
and removes.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from cleanpipe.document import Document
from cleanpipe.io import fs

_DOCUMENT_FIELDS = [
    pa.field("id", pa.string(), nullable=False),  # the user's id: carried along, may repeat
    pa.field("text", pa.string(), nullable=False),
    pa.field("source", pa.string(), nullable=False),
    pa.field("lang", pa.string()),
    pa.field("tokens", pa.int64()),
    pa.field("meta", pa.string()),  # JSON object
]

#: columns of the output shards (DESIGN.md "Output rows"); ``copy`` is 0, 1, 2 ... for the
#: repeated epochs of one document, so repeated ids in the output explain themselves.
DOCUMENT_SCHEMA = pa.schema([*_DOCUMENT_FIELDS, pa.field("copy", pa.int32(), nullable=False)])

#: columns of staged data: the documents plus where each came from (the input file as
#: written and the record's position in it, counting bad records too). Every decision after
#: the map step keys on this origin or on the staged row, never on the user's ``id``.
STAGED_SCHEMA = pa.schema(
    [
        *_DOCUMENT_FIELDS,
        pa.field("_file", pa.string(), nullable=False),
        pa.field("_pos", pa.int64(), nullable=False),
    ]
)


def dump_meta(meta: dict[str, Any]) -> str:
    """JSON with sorted keys: the same meta always gives the same bytes."""
    return json.dumps(meta, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


def staged_table(
    docs: Sequence[Document], tokens: Sequence[int], origins: Sequence[tuple[str, int]]
) -> pa.Table:
    """Documents, their token counts and origins ``(input file, position)`` as a table of
    :data:`STAGED_SCHEMA`."""
    return pa.table(
        {
            "id": [d.id for d in docs],
            "text": [d.text for d in docs],
            "source": [d.source for d in docs],
            "lang": [d.meta.get("lang") for d in docs],
            "tokens": list(tokens),
            "meta": [dump_meta(d.meta) for d in docs],
            "_file": [f for f, _ in origins],
            "_pos": [p for _, p in origins],
        },
        schema=STAGED_SCHEMA,
    )


class AtomicParquetWriter:
    """Stream record batches into one Parquet file that appears only when closed.

    Use as a context manager: on an exception the temporary file is removed and nothing
    appears under ``path``. An empty file (no rows written) is still written, with the schema,
    so that "this task produced nothing" is distinguishable from "this task did not run".
    """

    def __init__(
        self,
        path: str,
        schema: pa.Schema,
        compression: str = "zstd",
        metadata: dict[str, str] | None = None,
        statistics: list[str] | bool = True,
    ) -> None:
        """``statistics``: the columns whose min/max go in the footer (all by default)."""
        self.path = path
        self.schema = schema.with_metadata(metadata) if metadata else schema
        self.compression = compression
        self.rows = 0
        self._out = fs.AtomicOutput(path)
        self._writer: pq.ParquetWriter | None = pq.ParquetWriter(
            self._out.target,
            self.schema,
            filesystem=self._out.filesystem,
            compression=compression,
            write_statistics=statistics,
        )

    def write(self, table: pa.Table) -> None:
        if self._writer is None:
            raise ValueError(f"{self.path}: writer already closed")
        if table.num_rows:
            self._writer.write_table(
                table.cast(self.schema) if table.schema != self.schema else table
            )
            self.rows += table.num_rows

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
            self._out.commit()

    def abort(self) -> None:
        if self._writer is not None:
            try:
                self._writer.close()
            finally:
                self._writer = None
                self._out.abort()
        else:
            self._out.abort()

    def __enter__(self) -> AtomicParquetWriter:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def write_table_atomic(
    table: pa.Table, path: str, compression: str = "zstd", metadata: dict[str, str] | None = None
) -> None:
    """Write a whole table to ``path`` atomically."""
    with AtomicParquetWriter(path, table.schema, compression, metadata) as writer:
        writer.write(table)


def write_json_atomic(data: Any, path: str) -> None:
    """JSON file that appears complete or not at all (also used as a step's done-marker)."""
    text = json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False)
    write_text_atomic(text + "\n", path)


def write_text_atomic(text: str, path: str) -> None:
    """A text file that appears complete or not at all."""
    with fs.atomic_write(path) as fh:
        fh.write(text.encode("utf-8"))
