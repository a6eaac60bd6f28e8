"""WARC record writers: what scripts/build_web_archive.py builds the sample archive with, and
what the tests build damaged archives with (one record, one HTTP message, one gzip member at
a time, so a test can cut or corrupt exactly one).

Records follow WARC/1.1 (ISO 28500:2017): version line, named fields, ``Content-Length``,
the block, two CRLFs; digests are ``sha1:`` + base32 as Heritrix and Common Crawl write them.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import re
import uuid

#: the namespace of stable record ids (UUIDv5): the same URL and kind give the same id.
SEED = "cleanpipe-web-archive-v1"


def record_id(*parts: str) -> str:
    """A stable ``<urn:uuid:...>`` for a record (UUIDv5 of its URL and kind)."""
    return f"<urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, ':'.join((SEED, *parts)))}>"


def sha1_digest(data: bytes) -> str:
    """A WARC digest (``sha1:`` + base32), as Heritrix and Common Crawl write them."""
    return "sha1:" + base64.b32encode(hashlib.sha1(data).digest()).decode("ascii")


def warc_record(kind: str, headers: list[tuple[str, str]], block: bytes) -> bytes:
    """One WARC/1.1 record: version line, ``WARC-Type``, the given headers, ``Content-Length``
    and the block, ended by the two CRLFs the standard requires."""
    lines = ["WARC/1.1", f"WARC-Type: {kind}", *(f"{k}: {v}" for k, v in headers)]
    lines += [f"WARC-Block-Digest: {sha1_digest(block)}", f"Content-Length: {len(block)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8") + block + b"\r\n\r\n"


def http_response(status: str, headers: list[tuple[str, str]], body: bytes) -> bytes:
    """An HTTP/1.1 response block (``status`` like ``"200 OK"``)."""
    head = [f"HTTP/1.1 {status}", *(f"{k}: {v}" for k, v in headers)]
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body


def http_request(url: str) -> bytes:
    """The GET request a crawler sends for ``url``."""
    host, _, path = url.split("://", 1)[1].partition("/")
    lines = [
        f"GET /{path} HTTP/1.1",
        f"Host: {host}",
        "User-Agent: CCBot/2.0 (https://commoncrawl.org/faq/)",
        "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
        "Accept-Language: en-US,en;q=0.5",
        "Accept-Encoding: gzip",
        "Connection: Keep-Alive",
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii")


def gzip_member(data: bytes) -> bytes:
    """One gzip member per record, as Common Crawl writes ``.warc.gz`` (mtime 0: stable)."""
    return gzip.compress(data, compresslevel=6, mtime=0)


def chunked(body: bytes, size: int = 8192) -> bytes:
    """``body`` in HTTP/1.1 chunked transfer coding."""
    parts = [
        b"%x\r\n%s\r\n" % (len(body[i : i + size]), body[i : i + size])
        for i in range(0, len(body), size)
    ]
    return b"".join(parts) + b"0\r\n\r\n"


_META_CHARSET = re.compile(r"<meta\b[^>]*charset[^>]*>\s*", re.IGNORECASE)
_XML_DECL = re.compile(r"<\?xml[^>]*\?>\s*")


def reencode(page: str, charset: str, meta: str | None) -> bytes:
    """A UTF-8 page as a site serving it in ``charset`` would: the ``<meta>`` charset tag
    (and the XML declaration) rewritten to ``meta``, or dropped when ``meta`` is None;
    characters the charset lacks become numeric character references."""
    page = _XML_DECL.sub("", page, count=1)
    tag = f'<meta http-equiv="Content-Type" content="text/html; charset={meta}" />' if meta else ""
    if _META_CHARSET.search(page):
        page = _META_CHARSET.sub(lambda _: tag, page, count=1)
    elif tag:
        page = page.replace("<head>", "<head>" + tag, 1)
    return page.encode(charset, errors="xmlcharrefreplace")
