"""rejects/: every document that left the pipeline before dedup, with where and why."""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from cleanpipe.document import Document
from cleanpipe.io.readers import BadRecord
from cleanpipe.io.writers import AtomicParquetWriter

#: characters of a rejected text kept for inspection (reports show a few per reason).
TEXT_SNIPPET_CHARS = 2_000

REJECTS_SCHEMA = pa.schema(
    [
        pa.field("id", pa.string()),
        pa.field("source", pa.string()),
        pa.field("stage", pa.string()),  # "read" for bad records, else the stage name
        pa.field("reason", pa.string()),  # full reason: "read:malformed_json", "langid:language"
        pa.field("file", pa.string()),
        pa.field("location", pa.string()),
        pa.field("detail", pa.string()),
        pa.field("chars", pa.int64()),
        pa.field("text", pa.string()),  # first TEXT_SNIPPET_CHARS characters
    ]
)


class RejectsWriter:
    """Streams reject rows to one Parquet file per map task (atomic, like every output)."""

    def __init__(self, path: str, source: str, buffer_rows: int = 1_000) -> None:
        self.source = source
        self._writer = AtomicParquetWriter(path, REJECTS_SCHEMA)
        self._rows: list[dict[str, Any]] = []
        self._buffer_rows = buffer_rows
        #: where the document currently being processed came from (set by the map task).
        self.current_file = ""

    def add_bad_record(self, bad: BadRecord) -> None:
        self._add(
            bad.id,
            "read",
            f"read:{bad.reason}",
            bad.path,
            bad.location,
            bad.detail,
            len(bad.raw),
            bad.raw,
        )

    def add_dropped(
        self,
        doc: Document,
        reason: str,
        detail: str = "",
        *,
        file: str | None = None,
        location: str = "",
    ) -> None:
        """Sink for :attr:`Stage.on_drop`; ``detail`` is what was measured against which
        threshold (``mean_word_length 2.1 < 3.0``); ``file`` and ``location`` say where the
        document was read (``record 12``: its position among the file's records)."""
        self._add(
            doc.id,
            reason.split(":", 1)[0],
            reason,
            self.current_file if file is None else file,
            location,
            detail,
            len(doc.text),
            doc.text,
        )

    def _add(
        self,
        doc_id: str,
        stage: str,
        reason: str,
        file: str,
        location: str,
        detail: str,
        chars: int,
        text: str,
    ) -> None:
        self._rows.append(
            {
                "id": doc_id,
                "source": self.source,
                "stage": stage,
                "reason": reason,
                "file": file,
                "location": location,
                "detail": detail[:500],
                "chars": chars,
                "text": text[:TEXT_SNIPPET_CHARS],
            }
        )
        if len(self._rows) >= self._buffer_rows:
            self._flush()

    def _flush(self) -> None:
        if self._rows:
            self._writer.write(pa.Table.from_pylist(self._rows, schema=REJECTS_SCHEMA))
            self._rows = []

    def close(self) -> None:
        self._flush()
        self._writer.close()

    def abort(self) -> None:
        self._writer.abort()
