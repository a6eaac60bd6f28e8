"""The file operations the pipeline needs, on local paths and on URIs (``s3://bucket/prefix``).

A local path (anything without ``scheme://``) is used exactly as before: ``os``, ``open``,
``glob``. A URI goes through pyarrow's filesystems (:meth:`pyarrow.fs.FileSystem.from_uri`:
``s3://``, ``gs://``, ``hdfs://``, ``file://`` ...). Credentials and the endpoint come from
the usual places (``AWS_*`` variables, ``~/.aws``); a URI may also carry from_uri options as a
query (``s3://bucket/prefix?endpoint_override=host:9000&scheme=http``), which every path
joined to it keeps and :func:`display` leaves out.

Writes are atomic: :func:`atomic_write` and :class:`AtomicOutput` write to
``<final>.tmp-<pid>-<random>`` and then move it to the final name (a rename locally; on S3 a
server-side copy and a delete, so the final key only ever appears complete).
"""

from __future__ import annotations

import fnmatch
import functools
import glob as _glob
import io
import os
import re
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, BinaryIO

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
# a URI's from_uri options: "?key=value&key=value" at the end (a glob's "?" is not followed
# by "name=").
_QUERY = re.compile(r"\?([A-Za-z_][A-Za-z0-9_]*=[^?&]*(?:&[A-Za-z_][A-Za-z0-9_]*=[^?&]*)*)$")
_MAGIC = re.compile(r"[*?[]")
_KINDS = {pafs.FileType.File: "file", pafs.FileType.Directory: "dir"}
#: bytes fetched per request when streaming an object (S3 serves each read as a range GET).
READ_BUFFER = 8 << 20
#: URI schemes cleanpipe hands to pyarrow's filesystems. Others (``hf://``, ``http://`` ...)
#: are refused up front: some pyarrow builds would try the network while validating.
SUPPORTED_SCHEMES = ("s3", "gs", "gcs", "hdfs", "viewfs", "abfs", "abfss", "file")


class UnsupportedURI(ValueError):
    """A ``scheme://`` path whose scheme cleanpipe does not read or write."""


def scheme(path: str) -> str:
    """``s3`` of ``s3://bucket/key``; ``""`` for a local path."""
    return path.split("://", 1)[0].lower() if is_uri(path) else ""


def unsupported_scheme(path: str) -> str | None:
    """Why a URI cannot be used (one line), or ``None`` for local paths and supported URIs."""
    name = scheme(path)
    if not name or name in SUPPORTED_SCHEMES:
        return None
    hint = (
        " (download the dataset first, e.g. `huggingface-cli download REPO --repo-type dataset "
        "--local-dir DIR`, and point paths at DIR)"
        if name in ("hf", "hf-hub")
        else ""
    )
    known = ", ".join(f"{s}://" for s in SUPPORTED_SCHEMES)
    return f"unsupported URI scheme '{name}://'; cleanpipe reads local paths and {known}{hint}"


def is_uri(path: str) -> bool:
    """True for ``scheme://...`` (handled by pyarrow), False for a plain local path."""
    return bool(_SCHEME.match(path))


def _split(uri: str) -> tuple[str, str, str]:
    """``(scheme://netloc, /path, query)`` of a URI; path and query may be empty."""
    query = ""
    if m := _QUERY.search(uri):
        uri, query = uri[: m.start()], m.group(1)
    scheme_end = uri.index("://") + 3
    slash = uri.find("/", scheme_end)
    if slash < 0:
        return uri, "", query
    return uri[:slash], uri[slash:], query


@functools.lru_cache(maxsize=64)
def _filesystem(base: str, query: str) -> tuple[pafs.FileSystem, str]:
    """``(filesystem, its path of base)`` per ``scheme://netloc?query`` and process (S3
    clients are costly to make)."""
    if reason := unsupported_scheme(base):
        raise UnsupportedURI(reason)
    options = query
    if base.startswith("s3://") and "allow_delayed_open" not in query:
        # small files (markers, JSON) become one PutObject instead of a multipart upload
        options = "&".join(filter(None, [query, "allow_delayed_open=true"]))
    uri = base + "/" if base.endswith("://") else base  # file:// -> file:///
    return pafs.FileSystem.from_uri(f"{uri}?{options}" if options else uri)


def clear_cache() -> None:
    """Forget the filesystems made so far, so the next use reads credentials and endpoints
    from the environment again (tests and long-lived processes whose settings change)."""
    _filesystem.cache_clear()


def resolve(path: str) -> tuple[pafs.FileSystem | None, str]:
    """``(filesystem, path inside it)`` of a URI; ``(None, path)`` for a local path, which
    callers use as it is (pyarrow functions take ``filesystem=None`` for local paths)."""
    if not is_uri(path):
        return None, path
    base, rest, query = _split(path)
    fs, root = _filesystem(base, query)
    return fs, root.rstrip("/") + rest


def display(path: str) -> str:
    """The path as written, without a URI's option query (which may hold secrets): what
    derived ids, rejects and messages show."""
    if not is_uri(path):
        return path
    base, rest, _ = _split(path)
    return base + rest


def join(base: str, *names: str) -> str:
    """``os.path.join`` for local paths; ``/``-joined for URIs (keeping their query)."""
    if not is_uri(base):
        return os.path.join(base, *names)
    start, rest, query = _split(base)
    joined = "/".join([start + rest.rstrip("/"), *names])
    return f"{joined}?{query}" if query else joined


def relpath(path: str, root: str) -> str:
    """``path`` relative to the folder ``root`` it was found under."""
    if not is_uri(path):
        return os.path.relpath(path, root)
    return display(path)[len(display(root).rstrip("/")) + 1 :]


# -- reading -------------------------------------------------------------------------------


def open_input(path: str) -> BinaryIO:
    """A binary stream for reading (buffered; line iteration works)."""
    fs, p = resolve(path)
    if fs is None:
        return open(path, "rb")  # noqa: SIM115 - the caller closes it
    # compression=None: bytes as stored (pyarrow would otherwise un-gzip by suffix)
    stream = fs.open_input_stream(p, compression=None, buffer_size=READ_BUFFER)
    return io.BufferedReader(stream)  # type: ignore[arg-type]


def read_bytes(path: str) -> bytes:
    with open_input(path) as fh:
        return fh.read()


def read_text(path: str) -> str:
    """A UTF-8 text file's content; ``FileNotFoundError`` when it does not exist."""
    return read_bytes(path).decode("utf-8")


def parquet_file(path: str, metadata: pq.FileMetaData | None = None) -> pq.ParquetFile:
    """A Parquet file on either kind of path; ``metadata`` (its footer, read before) saves
    reading the footer again."""
    fs, p = resolve(path)
    if fs is not None:
        return pq.ParquetFile(p, filesystem=fs, metadata=metadata)
    return pq.ParquetFile(p, metadata=metadata)


def read_table(path: str, **kwargs: Any) -> pa.Table:
    """``pq.read_table`` of a file on either kind of path."""
    fs, p = resolve(path)
    return pq.read_table(p, filesystem=fs, **kwargs)


# -- what is there -------------------------------------------------------------------------


def _info(path: str) -> pafs.FileInfo:
    fs, p = resolve(path)
    assert fs is not None
    return fs.get_file_info(p)


def exists(path: str) -> bool:
    if not is_uri(path):
        return os.path.exists(path)
    return _info(path).type != pafs.FileType.NotFound


def isdir(path: str) -> bool:
    """A local folder, or a URI prefix that has objects below it."""
    if not is_uri(path):
        return os.path.isdir(path)
    return _info(path).type == pafs.FileType.Directory


def isfile(path: str) -> bool:
    if not is_uri(path):
        return os.path.isfile(path)
    return _info(path).type == pafs.FileType.File


def stat(path: str) -> tuple[int, int]:
    """``(size in bytes, modification time in ns)``; ``FileNotFoundError`` when missing."""
    if not is_uri(path):
        st = os.stat(path)
        return st.st_size, st.st_mtime_ns
    info = _info(path)
    if info.type == pafs.FileType.NotFound:
        raise FileNotFoundError(path)
    return int(info.size or 0), int(info.mtime_ns or 0)


def getsize(path: str) -> int:
    return stat(path)[0]


def listdir(path: str) -> list[str]:
    """Names in a folder (files and folders), ``[]`` when it does not exist."""
    if not is_uri(path):
        return os.listdir(path) if os.path.isdir(path) else []
    fs, p = resolve(path)
    assert fs is not None
    selector = pafs.FileSelector(p, recursive=False, allow_not_found=True)
    return sorted(info.base_name for info in fs.get_file_info(selector))


def _walk(fs: pafs.FileSystem, p: str) -> list[pafs.FileInfo]:
    return fs.get_file_info(pafs.FileSelector(p, recursive=True, allow_not_found=True))


def walk_files(folder: str) -> list[str]:
    """Every file below ``folder`` in ``os.walk`` order (a folder's files, sorted, then its
    subfolders, sorted), skipping hidden files and folders."""
    if not is_uri(folder):
        out = []
        for parent, dirs, names in os.walk(folder):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            out.extend(os.path.join(parent, n) for n in sorted(names) if not n.startswith("."))
        return out
    fs, p = resolve(folder)
    assert fs is not None
    root = p.rstrip("/") + "/"
    found = []
    for info in _walk(fs, p):
        parts = info.path[len(root) :].split("/")
        if info.type == pafs.FileType.File and not any(x.startswith(".") for x in parts):
            found.append(parts)
    # os.walk order: at each level the files (0) before the subfolders (1), each sorted
    found.sort(key=lambda parts: [(1, d) for d in parts[:-1]] + [(0, parts[-1])])
    return [join(folder, *parts) for parts in found]


def glob(pattern: str) -> list[str]:
    """Sorted matches of a glob (``**`` spans folders), files and folders alike."""
    if not is_uri(pattern):
        return sorted(_glob.glob(pattern, recursive=True))
    return [path for path, _ in glob_kinds(pattern)]


def glob_kinds(pattern: str) -> list[tuple[str, str]]:
    """Sorted ``(match, kind)`` of a glob, kind ``file``, ``dir`` or ``other``.

    Local patterns use :func:`glob.glob` as before. For a URI the objects below the pattern's
    fixed prefix are listed once and matched name by name, as :func:`glob.glob` would: ``*``
    stays within one folder, and wildcards do not match names that start with a dot.
    """
    if not is_uri(pattern):
        return [
            (m, "dir" if os.path.isdir(m) else "file" if os.path.isfile(m) else "other")
            for m in sorted(_glob.glob(pattern, recursive=True))
        ]
    fs, p = resolve(pattern)
    assert fs is not None
    magic = _MAGIC.search(p)
    if magic is None:
        kind = _KINDS.get(fs.get_file_info(p).type)
        return [(pattern, kind)] if kind else []
    cut = p.rfind("/", 0, magic.start())
    prefix = p[:cut] if cut >= 0 else ""
    want = p.split("/")
    deep = "**" in want or len(want) - len(prefix.split("/")) > 1
    base, _, query = _split(pattern)
    root = _filesystem(base, query)[1].rstrip("/")
    selector = pafs.FileSelector(prefix, recursive=deep, allow_not_found=True)
    matches = []
    for info in fs.get_file_info(selector):
        if _glob_match(want, info.path.split("/")):
            uri = base + info.path[len(root) :] if root else base + "/" + info.path.lstrip("/")
            matches.append((f"{uri}?{query}" if query else uri, _KINDS.get(info.type, "other")))
    return sorted(matches)


def _glob_match(pattern: list[str], parts: list[str]) -> bool:
    """Component-wise glob match; ``**`` matches zero or more (not hidden) components."""
    if not pattern:
        return not parts
    head = pattern[0]
    if head == "**":
        if _glob_match(pattern[1:], parts):
            return True
        return bool(parts) and not parts[0].startswith(".") and _glob_match(pattern, parts[1:])
    if not parts:
        return False
    name = parts[0]
    if name.startswith(".") and not head.startswith(".") and _MAGIC.search(head):
        return False
    return fnmatch.fnmatchcase(name, head) and _glob_match(pattern[1:], parts[1:])


# -- changing things -----------------------------------------------------------------------


def makedirs(path: str) -> None:
    """``os.makedirs(exist_ok=True)`` locally; nothing on object stores (no folders)."""
    if not is_uri(path):
        os.makedirs(path, exist_ok=True)


def remove(path: str) -> None:
    """Delete a file; a missing file is fine."""
    if not is_uri(path):
        try:
            os.remove(path)
        except FileNotFoundError:
            pass
        return
    fs, p = resolve(path)
    assert fs is not None
    try:
        fs.delete_file(p)
    except FileNotFoundError:
        pass


def rmtree(path: str) -> None:
    """Delete a folder and everything below it; a missing folder is fine."""
    if not is_uri(path):
        shutil.rmtree(path, ignore_errors=True)
        return
    fs, p = resolve(path)
    assert fs is not None
    if fs.get_file_info(p).type == pafs.FileType.Directory:
        fs.delete_dir(p)


def tmp_name(path: str) -> str:
    """Where a file is written before it appears as ``path``: ``<path>.tmp-<pid>-<random>``."""
    if not is_uri(path):
        return f"{path}.tmp-{os.getpid()}-{secrets.token_hex(4)}"
    start, rest, query = _split(path)
    tmp = f"{start}{rest}.tmp-{os.getpid()}-{secrets.token_hex(4)}"
    return f"{tmp}?{query}" if query else tmp


def commit(tmp: str, path: str) -> None:
    """Move a finished temporary file to its final name (atomic for readers)."""
    if not is_uri(path):
        os.replace(tmp, path)
        return
    fs, src = resolve(tmp)
    _, dst = resolve(path)
    assert fs is not None
    fs.move(src, dst)


class AtomicOutput:
    """A temporary file that becomes ``path`` on :meth:`commit` and vanishes on :meth:`abort`.

    ``target``/``filesystem`` are what pyarrow writers take (``filesystem`` is None locally).
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self.tmp = tmp_name(path)
        self.filesystem, self.target = resolve(self.tmp)
        makedirs(os.path.dirname(path) or ".")

    def open(self) -> BinaryIO:
        """A binary stream writing to the temporary file (the caller closes it)."""
        if self.filesystem is None:
            return open(self.tmp, "wb")  # noqa: SIM115
        stream = self.filesystem.open_output_stream(self.target, compression=None)
        return stream  # type: ignore[return-value]

    def commit(self) -> None:
        commit(self.tmp, self.path)

    def abort(self) -> None:
        remove(self.tmp)


@contextmanager
def atomic_write(path: str) -> Iterator[BinaryIO]:
    """``with atomic_write(p) as fh: fh.write(b"...")``: ``p`` appears complete or not at all."""
    out = AtomicOutput(path)
    try:
        with out.open() as fh:
            yield fh
        out.commit()
    except BaseException:
        out.abort()
        raise
