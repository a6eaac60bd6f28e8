"""Web archives: WARC (``.warc``, ``.warc.gz``) and WET (``.warc.wet.gz``, ``.wet``,
``.wet.gz``), streamed record by record with fastwarc.

What becomes a document, as Common Crawl's own WET extraction and the pipelines reading
WARCs for LLM data (DCLM, datatrove, Dolma) decide it:

* a ``response`` record whose HTTP status is 2xx and whose content type is HTML
  (``text/html``, ``application/xhtml+xml``): the document's text is the decoded HTML page
  (:mod:`cleanpipe.io.charsets`); the ``html_extract`` stage turns it into text;
* a ``conversion`` record of a WET file: the text Common Crawl extracted, UTF-8.

Every other record is :class:`~cleanpipe.io.readers.Skipped` with a reason (``warc:request``,
``warc:metadata``, ``warc:revisit``, ``warc:warcinfo``, ``warc:not_html``,
``warc:http_status`` ...): it is no document, so it is counted, not rejected. Damage is a
:class:`~cleanpipe.io.readers.BadRecord` at the record's byte offset (a gzip member cut
short, an HTTP block without a status line or without the blank line that ends its headers,
a file that is not WARC, a record over ``max_doc_bytes``), and reading goes on at the next
record that can be found: nothing before or after the damage is lost.

fastwarc reads no ARC files (it requires WARC headers), so ``.arc`` stays unsupported.
"""

from __future__ import annotations

import io
import re
import zlib
from collections.abc import Iterator
from typing import Any, BinaryIO

from fastwarc.warc import ArchiveIterator, WarcRecord, WarcRecordType

from cleanpipe.document import Document
from cleanpipe.io import fs
from cleanpipe.io.charsets import decode_html, header_charset
from cleanpipe.io.readers import BadRecord, ReadOptions, Record, Skipped, input_format
from cleanpipe.io.urls import url_domain

#: content types read as HTML (WHATWG MIME Sniffing: an "HTML MIME type", plus XHTML).
HTML_TYPES = ("text/html", "application/xhtml+xml")
#: bytes an HTTP header block may take beyond ``max_doc_bytes`` (Apache's default limit on
#: a request's header fields is 100 of 8 KB each).
MAX_HTTP_HEADER_BYTES = 65_536
#: how far a damaged archive is searched for the next record (bytes per read).
_SCAN_CHUNK = 1 << 20
_GZIP_MAGIC = b"\x1f\x8b\x08"
_WARC_MAGIC = b"WARC/"
_STATUS_LINE = re.compile(rb"^HTTP/\d(?:\.\d)? +(\d{3})\b")
#: record types that are no documents, by the number of their WarcRecordType flag.
_SKIPPED_TYPES = {
    int(kind): f"warc:{name}"
    for name in ("warcinfo", "request", "metadata", "revisit", "resource", "continuation")
    + ("conversion", "response")
    for kind in [getattr(WarcRecordType, name)]
}


def read_archive(path: str, options: ReadOptions) -> Iterator[Record]:
    """Every record of a WARC or WET file as a Document, a BadRecord or a Skipped."""
    name = fs.display(path)
    wet = input_format(path) == "wet"
    for offset, record in _records(path, name):
        if isinstance(record, BadRecord):
            yield record
        elif wet:
            yield _wet_record(record, offset, name, options)
        else:
            yield _warc_record(record, offset, name, options)


# -- iteration, with recovery from damage ----------------------------------------------------


def _records(path: str, name: str) -> Iterator[tuple[int, WarcRecord | BadRecord]]:
    """``(byte offset, record)`` of every record fastwarc can parse. Where it stops on damage
    (bad gzip data, no WARC header) the damage is one BadRecord, and iteration resumes at the
    next gzip member (``.gz``) or ``WARC/`` line (plain) after it."""
    marker = _GZIP_MAGIC if name.lower().endswith(".gz") else _WARC_MAGIC
    start: int | None = 0
    while start is not None:
        last = None
        try:
            with _open_at(path, start) as raw:
                for record in ArchiveIterator(raw, parse_http=False):
                    last = start + record.stream_pos
                    yield last, record
            return
        except OSError as err:
            # no record parsed from here: the damage is at `start`; else it is in a record
            # after the last good one, which the next attempt reaches and reports
            if last is None:
                if start == 0 and "WARC header" in str(err):
                    what, detail = "not_warc", f"the file does not start with a WARC record ({err})"
                else:
                    what, detail = "corrupt_archive", f"{err}; reading resumes at the next record"
                yield start, BadRecord(name, f"offset {start}", what, detail, "", _id(name, start))
                start = _find(path, marker, start + 1)
            else:
                start = _find(path, marker, last + 1)
                if start is None:
                    at = last + 1
                    detail = f"{err} after the record at offset {last}"
                    yield (
                        at,
                        BadRecord(
                            name, f"offset {at}", "corrupt_archive", detail, "", _id(name, at)
                        ),
                    )


def _find(path: str, marker: bytes, offset: int) -> int | None:
    """The first offset at or after ``offset`` where ``marker`` starts, or None."""
    with _open_at(path, offset) as raw:
        tail = b""
        while chunk := raw.read(_SCAN_CHUNK):
            data = tail + chunk
            at = data.find(marker)
            if at >= 0:
                return offset - len(tail) + at
            tail = data[-(len(marker) - 1) :]
            offset += len(chunk)
    return None


class _Stream(io.RawIOBase):
    """An object-store stream as fastwarc wants it: it asks ``tell()``, which pyarrow's
    input streams refuse (they are not seekable); this one counts what was read."""

    def __init__(self, raw: BinaryIO) -> None:
        self._raw, self._pos = raw, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._raw.read(len(buffer))
        buffer[: len(data)] = data
        self._pos += len(data)
        return len(data)

    def tell(self) -> int:
        return self._pos

    def close(self) -> None:
        self._raw.close()
        super().close()


def _open_at(path: str, offset: int) -> BinaryIO:
    """The file opened at byte ``offset``. A local file seeks; an object-store stream cannot,
    so the bytes before ``offset`` are read and dropped (only after damage, to resume past
    it)."""
    if not fs.is_uri(path):
        raw = fs.open_input(path)
        raw.seek(offset)
        return raw
    stream = io.BufferedReader(_Stream(fs.open_input(path)), buffer_size=fs.READ_BUFFER)
    while offset > 0 and (skipped := len(stream.read(min(offset, _SCAN_CHUNK)))):
        offset -= skipped
    return stream  # type: ignore[return-value]


def _id(name: str, offset: int) -> str:
    return f"{name}@{offset}"


# -- one record ------------------------------------------------------------------------------


def _block(record: WarcRecord, offset: int, name: str, limit: int) -> bytes | BadRecord:
    """The record's block (up to ``limit`` bytes), or why it cannot be read."""
    rid = _record_id(record) or _id(name, offset)
    declared = int(record.headers.get("Content-Length", "0") or 0)
    if declared > limit:
        detail = f"{declared} byte record > max_doc_bytes {limit - MAX_HTTP_HEADER_BYTES}"
        return BadRecord(name, f"offset {offset}", "too_large", detail, "", rid)
    data = record.reader.read(declared)
    if len(data) < declared:
        detail = f"{len(data)} of {declared} bytes (the file ends inside the record)"
        return BadRecord(name, f"offset {offset}", "truncated_record", detail, "", rid)
    return data


def _record_id(record: WarcRecord) -> str:
    return (record.record_id or "").strip().strip("<>")


def _meta(record: WarcRecord) -> dict[str, Any]:
    url = record.headers.get("WARC-Target-URI", "") or ""
    return {
        "url": url,
        "warc_date": record.headers.get("WARC-Date", "") or "",
        "domain": url_domain(url),
    }


def _wet_record(record: WarcRecord, offset: int, name: str, options: ReadOptions) -> Record:
    if record.record_type != WarcRecordType.conversion:
        return Skipped(_SKIPPED_TYPES.get(int(record.record_type), "warc:unknown"))
    data = _block(record, offset, name, options.max_doc_bytes)
    if isinstance(data, BadRecord):
        return data
    rid = _record_id(record) or _id(name, offset)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        return BadRecord(name, f"offset {offset}", "invalid_utf8", str(err), "", rid)
    content_type = (record.headers.get("Content-Type", "") or "").split(";")[0].strip()
    meta = {**_meta(record), "content_type": content_type, "charset": "UTF-8"}
    return Document(id=rid, text=text, source=options.source, meta=meta)


def _warc_record(record: WarcRecord, offset: int, name: str, options: ReadOptions) -> Record:
    if record.record_type != WarcRecordType.response:
        return Skipped(_SKIPPED_TYPES.get(int(record.record_type), "warc:unknown"))
    if not record.is_http:  # dns:, whois: ... responses of a crawler
        return Skipped("warc:not_http")
    data = _block(record, offset, name, options.max_doc_bytes + MAX_HTTP_HEADER_BYTES)
    if isinstance(data, BadRecord):
        return data
    rid = _record_id(record) or _id(name, offset)
    location = f"offset {offset}"
    http = _parse_http(data)
    if isinstance(http, str):
        reason, detail = http.split(":", 1)
        return BadRecord(name, location, reason, detail, _snippet(data), rid)
    status, headers, body = http
    if not 200 <= status < 300:
        return Skipped("warc:http_status")
    content_type = headers.get("content-type", "")
    mime = content_type.split(";")[0].strip().lower()
    if mime not in HTML_TYPES and not (not mime and _looks_like_html(body)):
        return Skipped("warc:not_html")
    body = _decode_transfer(body, headers)
    if isinstance(body, str):
        return BadRecord(name, location, "content_encoding", body, "", rid)
    if len(body) > options.max_doc_bytes:
        detail = f"{len(body)} byte page > max_doc_bytes {options.max_doc_bytes}"
        return BadRecord(name, location, "too_large", detail, "", rid)
    page = decode_html(body, content_type)
    meta = {
        **_meta(record),
        "content_type": mime or "text/html",
        "charset": page.charset,
        "charset_from": page.how,
        "http_status": status,
    }
    if declared := header_charset(content_type):
        meta["http_charset"] = declared
    if cut := record.headers.get("WARC-Truncated", ""):
        # the crawler stored only part of the payload (Common Crawl: the first 1 MiB)
        meta["warc_truncated"] = cut
    return Document(id=rid, text=page.text, source=options.source, meta=meta)


def _snippet(data: bytes) -> str:
    return data[:500].decode("latin-1")


def _looks_like_html(body: bytes) -> bool:
    head = body[:512].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html", b"<?xml"))


def _parse_http(data: bytes) -> tuple[int, dict[str, str], bytes] | str:
    """``(status, headers (lower-case names), body)`` of an HTTP response block, or
    ``"reason:detail"`` when it has no status line or no end of headers."""
    end, sep = data.find(b"\r\n\r\n"), 4
    if end < 0:  # a few servers end header lines with LF only
        end, sep = data.find(b"\n\n"), 2
    first = data[: data.find(b"\n")] if b"\n" in data else data
    match = _STATUS_LINE.match(first)
    if match is None:
        return f"http_no_status_line:first line {first[:80]!r}"
    if end < 0 or end > MAX_HTTP_HEADER_BYTES:
        return "http_no_header_end:no blank line ends the HTTP headers"
    headers: dict[str, str] = {}
    for line in data[:end].split(b"\n")[1:]:
        key, colon, value = line.partition(b":")
        if colon:
            headers[key.strip().decode("latin-1").lower()] = value.strip().decode("latin-1")
    return int(match.group(1)), headers, data[end + sep :]


def _decode_transfer(body: bytes, headers: dict[str, str]) -> bytes | str:
    """The body with chunked transfer coding and gzip/deflate content coding undone (many
    crawlers store the bytes as sent); an unknown coding is a ``str`` saying which."""
    if "chunked" in headers.get("transfer-encoding", "").lower():
        body = _dechunk(body)
    coding = headers.get("content-encoding", "").strip().lower()
    if coding in ("", "identity"):
        return body
    if coding in ("gzip", "x-gzip", "deflate"):
        try:
            wbits = 47 if coding != "deflate" else zlib.MAX_WBITS  # 47: gzip or zlib header
            return zlib.decompressobj(wbits).decompress(body)
        except zlib.error as err:
            return f"Content-Encoding {coding}: {err}"
    return f"Content-Encoding {coding!r} is not decoded"


def _dechunk(body: bytes) -> bytes:
    """HTTP/1.1 chunked transfer coding undone; bytes that are not chunked are kept."""
    out, pos = [], 0
    while pos < len(body):
        eol = body.find(b"\r\n", pos)
        try:
            size = int(body[pos:eol].split(b";")[0], 16)
        except ValueError:
            return body if not out else b"".join(out)
        if size == 0:
            break
        out.append(body[eol + 2 : eol + 2 + size])
        pos = eol + 2 + size + 2
    return b"".join(out)
