"""Readers: JSONL (plain, .gz, .zst), Parquet, folders of plain text files, and web archives
(WARC, WET: :mod:`cleanpipe.io.warc`).

A ``.json`` file holding one JSON array of objects (not JSON Lines) is read as the array's
items when it is at most :data:`MAX_JSON_ARRAY_BYTES`; a larger one is one ``json_array``
reject saying how to convert it. A UTF-8 byte-order mark before the first line is skipped.

Every reader yields :class:`Document` for good records and :class:`BadRecord` for records it
could not turn into one (broken JSON, invalid UTF-8, missing or non-string text, a document
over the size limit, a file truncated mid-stream). Nothing is skipped silently: the runner
writes each ``BadRecord`` to ``rejects/`` with its file, location and reason. A web archive
also holds records that are no documents at all (a crawler's requests, images, redirects):
each is a :class:`Skipped` with its reason, which the runner counts.
"""

from __future__ import annotations

import gzip
import io
import json
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import zstandard

from cleanpipe.document import Document
from cleanpipe.io import fs

JSONL_SUFFIXES = (".jsonl", ".json", ".ndjson")
COMPRESSION_SUFFIXES = ("", ".gz", ".zst", ".zstd")
PARQUET_SUFFIXES = (".parquet", ".pq")
WARC_SUFFIXES = (".warc", ".warc.gz")
WET_SUFFIXES = (".warc.wet.gz", ".warc.wet", ".wet.gz", ".wet")
#: raw bytes kept of a bad record in rejects/, enough to see what went wrong.
RAW_SNIPPET_BYTES = 2_000
#: the default cap on one document; Gopher's 100,000-word limit is ~0.6 MB of English.
DEFAULT_MAX_DOC_BYTES = 10_000_000
#: a JSON array (``[{...}, ...]`` instead of JSON Lines) must be parsed whole, so only files up
#: to this size are read as one (parsed, 64 MB of JSON takes ~0.5 GB of Python objects).
MAX_JSON_ARRAY_BYTES = 64_000_000
_BOM = b"\xef\xbb\xbf"
#: what cleanpipe reads, for messages.
READABLE_FORMATS = (
    "JSON Lines (.jsonl, .json, .ndjson; plain, .gz or .zst), Parquet (.parquet, .pq), "
    "web archives (WARC: .warc, .warc.gz; WET: .warc.wet.gz, .wet, .wet.gz) and "
    "plain text files, or folders of them (one document per file)"
)
#: suffixes of formats cleanpipe does not read (longest first), with what they are.
UNSUPPORTED_SUFFIXES = {
    ".wat.gz": "WAT (WARC metadata; read the WARC or WET files of the crawl)",
    ".arc.gz": "ARC (the web archive format before WARC)",
    ".arc": "ARC (the web archive format before WARC)",
    ".arrow": "Arrow IPC",
    ".feather": "Arrow IPC (Feather)",
    ".ipc": "Arrow IPC",
    ".csv": "CSV",
    ".tsv": "TSV",
    ".avro": "Avro",
    ".orc": "ORC",
    ".xlsx": "Excel",
    ".xls": "Excel",
    ".pdf": "PDF",
    ".docx": "Word",
    ".epub": "EPUB",
    ".pkl": "pickle",
    ".pickle": "pickle",
    ".npy": "NumPy",
    ".npz": "NumPy",
    ".h5": "HDF5",
    ".hdf5": "HDF5",
    ".sqlite": "SQLite",
    ".db": "a database file",
    ".tar.gz": "a tar archive",
    ".tgz": "a tar archive",
    ".tar": "a tar archive",
    ".zip": "a zip archive",
    ".7z": "a 7-Zip archive",
    ".rar": "a RAR archive",
    ".bz2": "bzip2-compressed",
    ".xz": "xz-compressed",
    ".lz4": "lz4-compressed",
    ".lzma": "lzma-compressed",
    ".gz": "gzip-compressed (only JSON Lines is decompressed)",
    ".zst": "zstd-compressed (only JSON Lines is decompressed)",
    ".zstd": "zstd-compressed (only JSON Lines is decompressed)",
}


@dataclass(frozen=True)
class BadRecord:
    """A record that could not be read as a document, with where it was and why."""

    path: str
    location: str  # "line 17", "row 3", "file"
    reason: str  # short machine name: malformed_json, invalid_utf8, missing_text ...
    detail: str = ""
    raw: str = ""
    id: str = ""


@dataclass(frozen=True)
class ReadOptions:
    """How to find a document's text and id in a record."""

    source: str
    text_field: str = "text"
    id_field: str = "id"
    max_doc_bytes: int = DEFAULT_MAX_DOC_BYTES


@dataclass(frozen=True)
class Skipped:
    """A record that is no document (a crawler's request, an image, a redirect): counted by
    ``reason`` (``warc:request``, ``warc:not_html`` ...), neither read nor rejected."""

    reason: str


Record = Document | BadRecord | Skipped
# What a compressed stream cut short raises (gzip: EOFError/BadGzipFile, zstd: ZstdError).
_TRUNCATION_ERRORS = (EOFError, gzip.BadGzipFile, zlib.error, zstandard.ZstdError)


@dataclass(frozen=True)
class InputFile:
    """A file to read; ``root`` is the folder a glob matched, for relative ids of text files."""

    path: str
    root: str | None = None


def input_format(path: str) -> str:
    """``jsonl``, ``parquet``, ``wet``, ``warc`` or ``text`` from a path's name (directories
    are ``text``; WET before WARC: ``.warc.wet.gz`` is both)."""
    name = fs.display(path).lower()
    if name.endswith(WET_SUFFIXES):
        return "wet"
    if name.endswith(WARC_SUFFIXES):
        return "warc"
    if any(name.endswith(j + c) for j in JSONL_SUFFIXES for c in COMPRESSION_SUFFIXES):
        return "jsonl"
    if name.endswith(PARQUET_SUFFIXES):
        return "parquet"
    return "text"


def unsupported_format(path: str) -> str | None:
    """What a file is when cleanpipe cannot read it (``"WARC"``, ``"CSV"`` ...) by its name,
    else ``None``. Anything not JSONL or Parquet is read as plain text (``.py``, ``.md``, no
    suffix ...), so only clearly binary, archive or container formats are named here."""
    if input_format(path) != "text":
        return None
    name = fs.display(path).lower().rsplit("/", 1)[-1]
    for suffix, what in UNSUPPORTED_SUFFIXES.items():
        if name.endswith(suffix) and name != suffix:
            return what
    return None


def expand_paths(pattern: str) -> list[InputFile]:
    """Files matched by a glob; a matched directory contributes every file below it.

    Sorted, so that task order, derived ids and "first seen" never depend on the filesystem.
    Hidden files and directories (``.git``) are skipped. ``pattern`` may be a URI
    (``s3://bucket/in/*.jsonl.gz``, see :mod:`cleanpipe.io.fs`).
    """
    files: list[InputFile] = []
    for match, kind in fs.glob_kinds(pattern):
        if kind == "dir":
            files.extend(InputFile(path, match) for path in fs.walk_files(match))
        elif kind == "file":
            files.append(InputFile(match))
    return files


def _derived_id(options: ReadOptions, path: str, location: int) -> str:
    """``source/path:location``; ``path`` as written (a URI without its option query)."""
    return f"{options.source}/{path}:{location}"


class _GzipReader(gzip.GzipFile):
    """A gzip reader that also closes the stream it reads from."""

    def close(self) -> None:
        raw = self.fileobj
        try:
            super().close()
        finally:
            if raw is not None:
                raw.close()


def open_binary(path: str) -> BinaryIO:
    """A file's bytes, decompressed by suffix (``.gz``, ``.zst``/``.zstd``, else as stored)."""
    lower = fs.display(path).lower()
    if lower.endswith(".gz"):
        if fs.is_uri(path):
            return _GzipReader(fileobj=fs.open_input(path), mode="rb")  # type: ignore[return-value]
        return gzip.open(path, "rb")  # type: ignore[return-value]
    if lower.endswith((".zst", ".zstd")):
        raw = fs.open_input(path)  # closed with the reader
        reader = zstandard.ZstdDecompressor().stream_reader(raw, closefd=True)
        return io.BufferedReader(reader)  # type: ignore[arg-type]
    return fs.open_input(path)


def _snippet(raw: bytes | str) -> str:
    if isinstance(raw, bytes):
        return raw[:RAW_SNIPPET_BYTES].decode("utf-8", errors="replace")
    return raw[:RAW_SNIPPET_BYTES]


def record_to_document(
    record: Any, options: ReadOptions, path: str, location: str, fallback_id: str
) -> Record:
    """Validate one parsed record (a JSON object or a Parquet row) into a Document."""
    if not isinstance(record, dict):
        return BadRecord(
            path,
            location,
            "not_an_object",
            type(record).__name__,
            _snippet(json.dumps(record, default=str)),
            fallback_id,
        )
    raw_id = record.get(options.id_field)
    doc_id = str(raw_id) if isinstance(raw_id, (str, int)) and raw_id != "" else fallback_id
    text = record.get(options.text_field)
    if text is None:
        seen = ", ".join(str(key) for key in record) or "(none)"
        what = "no field" if options.text_field not in record else "null field"
        return BadRecord(
            path,
            location,
            "missing_text",
            f"{what} {options.text_field!r}; fields seen: {seen}",
            _snippet(str(record)),
            doc_id,
        )
    if not isinstance(text, str):
        return BadRecord(
            path,
            location,
            "text_not_string",
            f"field {options.text_field!r} is {type(text).__name__}",
            _snippet(str(record)),
            doc_id,
        )
    if len(text) > options.max_doc_bytes // 4 and len(text.encode("utf-8")) > options.max_doc_bytes:
        return BadRecord(
            path,
            location,
            "too_large",
            f"{len(text.encode('utf-8'))} bytes > max_doc_bytes {options.max_doc_bytes}",
            _snippet(text),
            doc_id,
        )
    meta = {
        key: value
        for key, value in record.items()
        if key not in (options.text_field, options.id_field)
        and isinstance(value, (str, int, float, bool))
    }
    return Document(id=doc_id, text=text, source=options.source, meta=meta)


def read_jsonl(path: str, options: ReadOptions) -> Iterator[Record]:
    """One JSON object per line; plain, gzip or zstandard by suffix. A BOM before the first
    line is skipped; a file that is one JSON array is read by :func:`_read_json_array`."""
    name = fs.display(path)
    lineno = 0
    try:
        with open_binary(path) as fh:
            for raw in fh:
                lineno += 1
                if lineno == 1:
                    raw = raw.removeprefix(_BOM)
                    if raw.lstrip().startswith(b"["):
                        yield from _read_json_array(raw, fh, options, name)
                        return
                if raw.strip():
                    yield _parse_json_line(raw, options, name, lineno)
    except _TRUNCATION_ERRORS as err:
        # A truncated or corrupt .gz/.zst ends the file; the lines read before it are kept.
        yield BadRecord(
            name,
            f"line {lineno + 1}",
            "truncated_file",
            f"{type(err).__name__}: {err}",
            "",
            _derived_id(options, name, lineno + 1),
        )


def _read_json_array(
    first: bytes, fh: BinaryIO, options: ReadOptions, path: str
) -> Iterator[Record]:
    """The items of a file that is one JSON array (``[{...}, {...}]``), each as a record at
    ``item N``; too large or not valid JSON: one ``json_array`` reject for the file."""
    data = first + fh.read(max(0, MAX_JSON_ARRAY_BYTES + 1 - len(first)))
    expected = "cleanpipe reads JSON Lines (one object per line)"
    convert = "convert it with: jq -c '.[]' FILE > FILE.jsonl"
    if len(data) > MAX_JSON_ARRAY_BYTES:
        detail = (
            f"the file is a JSON array over {MAX_JSON_ARRAY_BYTES:,} bytes; {expected}, and "
            f"arrays only up to that size; {convert}"
        )
        yield BadRecord(
            path, "file", "json_array", detail, _snippet(data), f"{options.source}/{path}"
        )
        return
    try:
        items = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as err:
        detail = f"the file starts like a JSON array but is not valid JSON ({err}); {expected}"
        yield BadRecord(
            path, "file", "json_array", detail, _snippet(data), f"{options.source}/{path}"
        )
        return
    for i, record in enumerate(items):
        yield record_to_document(record, options, path, f"item {i}", _derived_id(options, path, i))


def _parse_json_line(raw: bytes, options: ReadOptions, path: str, lineno: int) -> Record:
    location = f"line {lineno}"
    fallback_id = _derived_id(options, path, lineno)
    # Far over the limit: do not even parse it (JSON of a huge line costs memory).
    if len(raw) > options.max_doc_bytes * 10:
        return BadRecord(
            path, location, "too_large", f"{len(raw)} byte line", _snippet(raw), fallback_id
        )
    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        return BadRecord(path, location, "invalid_utf8", str(err), _snippet(raw), fallback_id)
    try:
        record = json.loads(line)
    except json.JSONDecodeError as err:
        return BadRecord(path, location, "malformed_json", str(err), _snippet(raw), fallback_id)
    return record_to_document(record, options, path, location, fallback_id)


def read_parquet(path: str, options: ReadOptions, batch_rows: int = 1024) -> Iterator[Record]:
    """Rows of a Parquet file, streamed in batches (never the whole file in memory)."""
    parquet = fs.parquet_file(path)
    path = fs.display(path)
    names = parquet.schema_arrow.names
    row = 0
    if options.text_field not in names:
        # A file with another schema: every row is accounted for as a reject.
        detail = f"no column {options.text_field!r}; columns: {', '.join(names) or '(none)'}"
        for row in range(parquet.metadata.num_rows):
            yield BadRecord(
                path, f"row {row}", "missing_text", detail, "", _derived_id(options, path, row)
            )
        return
    for batch in parquet.iter_batches(batch_size=batch_rows):
        for record in batch.to_pylist():
            yield record_to_document(
                record, options, path, f"row {row}", _derived_id(options, path, row)
            )
            row += 1


def read_text_file(path: str, options: ReadOptions, root: str | None = None) -> Iterator[Record]:
    """A whole file as one document (source code, books); id and ``meta["path"]`` are the
    path relative to ``root``."""
    name = fs.display(path)
    rel = fs.relpath(path, root) if root else name
    rel = rel if fs.is_uri(path) else Path(rel).as_posix()
    doc_id = f"{options.source}/{rel}"
    size = fs.getsize(path)
    if size > options.max_doc_bytes:
        yield BadRecord(
            name,
            "file",
            "too_large",
            f"{size} bytes > max_doc_bytes {options.max_doc_bytes}",
            "",
            doc_id,
        )
        return
    data = fs.read_bytes(path)
    if b"\x00" in data[:8192]:
        yield BadRecord(
            name, "file", "binary_file", "NUL byte in the first 8 KiB", _snippet(data[:200]), doc_id
        )
        return
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        yield BadRecord(name, "file", "invalid_utf8", str(err), _snippet(data), doc_id)
        return
    yield Document(id=doc_id, text=text, source=options.source, meta={"path": rel})


def read_input(item: InputFile, options: ReadOptions) -> Iterator[Record]:
    """Dispatch on the file's format."""
    fmt = input_format(item.path)
    if fmt == "jsonl":
        return read_jsonl(item.path, options)
    if fmt == "parquet":
        return read_parquet(item.path, options)
    if fmt in ("warc", "wet"):
        from cleanpipe.io.warc import read_archive  # it imports this module's record kinds

        return read_archive(item.path, options)
    return read_text_file(item.path, options, item.root)
