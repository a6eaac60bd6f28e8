#!/usr/bin/env python3
"""Build ``sample_data/web-archive/``: a Common-Crawl-like WARC of real HTML pages, and a WET.

The pages are the real HTML of the Debian packages the web sample comes from (Python 3.11
documentation, Debian Reference translations) plus the Debian FAQ (English, Korean and
Russian translations), recorded the way a crawler records them: a ``warcinfo`` record, then
per page a ``request``, its ``response`` (real HTTP headers; some bodies sent gzip-encoded or
chunked, as servers send them) and a ``metadata`` record. Charsets are declared in the HTTP
header, in a ``<meta>`` tag, in both, or nowhere; pages in Japanese, Chinese, Korean and
Russian are re-encoded into the legacy charsets sites served them in (Shift_JIS, EUC-JP,
GB2312, EUC-KR, KOI8-R, windows-1251; characters a charset lacks become ``&#N;``
references, as server-side converters write them), and a few headers name a charset the
bytes do not fit. Among the responses are non-HTML ones (robots.txt, a PNG image, a PDF),
a redirect and a 404; one page is fetched again and recorded as a ``revisit``; the file ends
in a record cut off mid-way, like a partly downloaded file.

``crawl-000.warc.wet.gz`` holds ``conversion`` records (plain text) of the English Debian FAQ
pages, as Common Crawl's WET files hold the text of each page.

Deterministic: record ids are UUIDv5 of the URL and record kind, dates are fixed, gzip
members have mtime 0; the same packages give byte-identical files. Every page, charset case
and damaged record is listed in ``sample_data/MANIFEST.json`` → ``web_archive``.

Inputs (``--src``, default ``/tmp/cleanpipe-sample-src``, the folder of
``scripts/build_sample_data.py``)::

    cd "$SRC/dl" && apt-get download python3.11-doc debian-reference-ja debian-reference-zh-cn \\
        debian-faq debian-faq-ko debian-faq-ru
    for f in *.deb; do n=${f%%_*}; mkdir -p "$SRC/$n"; dpkg-deb -x "$f" "$SRC/$n";
        dpkg-deb -f "$f" Version > "$SRC/$n/.version"; done
    python3 scripts/build_web_archive.py --src "$SRC"

The record writers are in ``scripts/warc_writer.py`` (the tests build damaged archives with
them too).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import sys
from dataclasses import dataclass

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # run as a script, or imported
from warc_writer import (  # noqa: E402
    chunked,
    gzip_member,
    http_request,
    http_response,
    record_id,
    reencode,
    sha1_digest,
    warc_record,
)

CRAWL_DATE = "2024-03-04T05:06:07Z"
PYDOC_URL = "https://docs.python.org/3.11/"
DEBREF_URL = "https://www.debian.org/doc/manuals/debian-reference/"
FAQ_URL = "https://www.debian.org/doc/manuals/debian-faq/"
#: raw HTML of Python documentation pages in the archive: enough that the ``web`` source of
#: configs/mixtures/llama.yaml fills its share within max_epochs after extraction and filters.
PYDOC_HTML_BYTES = 10_000_000
#: index pages: a crawl has them, but the archive needs content; two are kept as real nav pages
_PYDOC_SKIP = re.compile(r"(^|/)(genindex[^/]*|contents|search|py-modindex)\.html$")
_KEEP_INDEX = ("genindex-Q.html", "py-modindex.html")

# -- the crawl ------------------------------------------------------------------------------


@dataclass
class Capture:
    """One fetched URL: the response's status, headers and body (as sent)."""

    url: str
    status: str
    headers: list[tuple[str, str]]
    body: bytes
    note: dict


def _read(path: str) -> str:
    with open(path, encoding="utf-8") as fh:
        return fh.read()


def _title(page: str) -> str:
    match = re.search(r"<title>(.*?)</title>", page, re.DOTALL)
    return re.sub(r"\s+", " ", match.group(1)).strip() if match else ""


def _html_headers(content_type: str, body: bytes, server: str) -> list[tuple[str, str]]:
    return [
        ("Date", "Mon, 04 Mar 2024 05:06:07 GMT"),
        ("Server", server),
        ("Content-Type", content_type),
        ("Content-Length", str(len(body))),
        ("Last-Modified", "Tue, 07 Feb 2023 12:00:00 GMT"),
        ("Vary", "Accept-Encoding"),
    ]


#: how Python documentation pages (UTF-8) are served, in turn: charset in the header, only in
#: the meta tag, a stale iso-8859-1 header over UTF-8 bytes, XHTML, gzip-encoded, chunked.
_PYDOC_SERVING = [
    ("text/html; charset=utf-8", ""),
    ("text/html", ""),
    ("text/html; charset=UTF-8", "gzip"),
    ("text/html; charset=iso-8859-1", ""),
    ("application/xhtml+xml; charset=utf-8", ""),
    ("text/html; charset=utf-8", "chunked"),
    ("text/html", ""),
]


def _pydoc_pages(src: str, used_in_jsonl: set[str]) -> list[str]:
    """Python documentation pages for the archive, in this order: pages whose main text has
    no ``{`` (C4's rule drops any page with one, and most pages with code examples have one:
    an archive of those could not fill its share of the mixture), then the others; within
    each, the pages the JSONL sample does not hold first (a whole page that is also a JSONL
    chunk would be removed as a near-duplicate), then the densest (most text per HTML byte,
    which keeps the archive small)."""
    from resiliparse.extract.html2text import extract_plain_text

    root = os.path.join(src, "python3.11-doc/usr/share/doc/python3.11/html")
    pages = []
    for folder, _, files in sorted(os.walk(root)):
        pages += [
            os.path.relpath(os.path.join(folder, f), root)
            for f in sorted(files)
            if f.endswith(".html")
        ]
    pages = [p for p in pages if not _PYDOC_SKIP.search(p) or p in _KEEP_INDEX]
    key = {}
    for page in pages:
        html = _read(os.path.join(root, page))
        text = extract_plain_text(html, main_content=True)
        size = len(html.encode("utf-8"))
        key[page] = ("{" in text, page in used_in_jsonl, -len(text) / size, page, size)
    chosen, total = [], 0
    for page in sorted(pages, key=key.__getitem__):
        size = key[page][-1]
        if size > 800_000:  # one page would be most of the archive
            continue
        chosen.append(page)
        total += size
        if total >= PYDOC_HTML_BYTES:
            break
    return chosen


def pydoc_captures(src: str, used_in_jsonl: set[str]) -> list[Capture]:
    root = os.path.join(src, "python3.11-doc/usr/share/doc/python3.11/html")
    out = []
    for i, rel in enumerate(_pydoc_pages(src, used_in_jsonl)):
        content_type, coding = _PYDOC_SERVING[i % len(_PYDOC_SERVING)]
        body = _read(os.path.join(root, rel)).encode("utf-8")
        headers = _html_headers(content_type, body, "nginx")
        if coding == "gzip":
            body = gzip.compress(body, mtime=0)
            headers[3] = ("Content-Length", str(len(body)))
            headers.append(("Content-Encoding", "gzip"))
        elif coding == "chunked":
            body = chunked(body)
            headers[3] = ("Transfer-Encoding", "chunked")
        note = {"kind": "page", "lang": "en", "served": coding or "identity"}
        out.append(Capture(PYDOC_URL + rel, "200 OK", headers, body, note))
    return out


#: pages re-encoded into legacy charsets: file, the Python codec of the bytes, the charset
#: the HTTP header declares and the one the ``<meta>`` tag declares (``-``: none), and the
#: WHATWG encoding a reader must decode with (``meta.charset``). Three headers are wrong:
#: ``euc-jp`` over Shift_JIS bytes, ``utf-8`` over GBK bytes (the meta tag is right).
LEGACY = """
ch01.ja.html        cp932   Shift_JIS  Shift_JIS     Shift_JIS
ch02.ja.html        cp932   -          shift_jis     Shift_JIS
ch03.ja.html        cp932   euc-jp     Shift_JIS     Shift_JIS
ch04.ja.html        euc_jp  EUC-JP     -             EUC-JP
ch01.zh-cn.html     gbk     gb2312     gb2312        GBK
ch02.zh-cn.html     gbk     utf-8      GB2312        GBK
basic-defs.ko.html  cp949   euc-kr     euc-kr        EUC-KR
choosing.ko.html    cp949   -          -             EUC-KR
basic-defs.ru.html  koi8_r  koi8-r     -             KOI8-R
choosing.ru.html    cp1251  -          windows-1251  windows-1251
software.ru.html    cp1251  -          -             windows-1251
"""
#: where each language's pages are, and their public address
_LEGACY_HOME = {
    "ja": ("debian-reference-ja/usr/share/debian-reference", DEBREF_URL),
    "zh-cn": ("debian-reference-zh-cn/usr/share/debian-reference", DEBREF_URL),
    "ko": ("debian-faq-ko/usr/share/doc/debian/FAQ/ko", FAQ_URL),
    "ru": ("debian-faq-ru/usr/share/doc/debian/FAQ/ru", FAQ_URL),
}


def legacy_captures(src: str) -> list[Capture]:
    out = []
    for row in LEGACY.strip().splitlines():
        name, codec, *declared, expected = row.split()
        header, meta = (None if d == "-" else d for d in declared)
        lang = name.split(".")[1]
        folder, base = _LEGACY_HOME[lang]
        page = _read(os.path.join(src, folder, name))
        body = reencode(page, codec, meta)
        content_type = f"text/html; charset={header}" if header else "text/html"
        note = {
            "kind": "charset",
            "lang": lang,
            "bytes_in": codec,
            "http_charset": header,
            "meta_charset": meta,
            "expected_charset": expected,
            "title": _title(page),
        }
        out.append(
            Capture(base + name, "200 OK", _html_headers(content_type, body, "Apache"), body, note)
        )
    return out


def faq_captures(src: str) -> list[Capture]:
    """The English Debian FAQ: UTF-8, half with no charset declared anywhere."""
    root = os.path.join(src, "debian-faq/usr/share/doc/debian/FAQ")
    out = []
    for i, name in enumerate(sorted(f for f in os.listdir(root) if f.endswith(".en.html"))):
        page = _read(os.path.join(root, name))
        declared = i % 2 == 0
        body = page.encode("utf-8") if declared else reencode(page, "utf-8", None)
        content_type = "text/html; charset=UTF-8" if declared else "text/html"
        note = {"kind": "page", "lang": "en", "declared": declared}
        url = FAQ_URL + name.replace(".en.html", ".html")
        out.append(Capture(url, "200 OK", _html_headers(content_type, body, "Apache"), body, note))
    return out


ROBOTS = b"""# robots.txt for docs.python.org
User-agent: *
Disallow: /2/
Disallow: /3.0/
Disallow: /3.1/

Sitemap: https://docs.python.org/sitemap.xml
"""


def other_captures(src: str) -> list[Capture]:
    """Responses that are no HTML documents: robots.txt, an image, a PDF, a redirect, a 404."""
    png = os.path.join(
        src, "python3.11-doc/usr/share/doc/python3.11/html/_images/pathlib-inheritance.png"
    )
    with open(png, "rb") as fh:
        image = fh.read()
    with gzip.open(
        os.path.join(src, "debian-faq/usr/share/doc/debian/FAQ/debian-faq.en.pdf.gz")
    ) as fh:
        pdf = fh.read()
    moved = (
        b"<html>\r\n<head><title>301 Moved Permanently</title></head>\r\n<body>\r\n"
        b"<center><h1>301 Moved Permanently</h1></center>\r\n<hr><center>nginx</center>\r\n"
        b"</body>\r\n</html>\r\n"
    )
    missing = moved.replace(b"301 Moved Permanently", b"404 Not Found")
    redirect = _html_headers("text/html", moved, "nginx") + [("Location", PYDOC_URL)]
    return [
        Capture(
            "https://docs.python.org/robots.txt",
            "200 OK",
            _html_headers("text/plain", ROBOTS, "nginx"),
            ROBOTS,
            {"kind": "not_html"},
        ),
        Capture(
            PYDOC_URL + "_images/pathlib-inheritance.png",
            "200 OK",
            _html_headers("image/png", image, "nginx"),
            image,
            {"kind": "not_html"},
        ),
        Capture(
            FAQ_URL + "debian-faq.en.pdf",
            "200 OK",
            _html_headers("application/pdf", pdf, "Apache"),
            pdf,
            {"kind": "not_html"},
        ),
        Capture(
            "https://docs.python.org/3.11",
            "301 Moved Permanently",
            redirect,
            moved,
            {"kind": "http_status"},
        ),
        Capture(
            PYDOC_URL + "library/formatter.html",
            "404 Not Found",
            _html_headers("text/html", missing, "nginx"),
            missing,
            {"kind": "http_status"},
        ),
    ]


# -- writing --------------------------------------------------------------------------------


def _date(i: int) -> str:
    """The crawl date plus ``i`` seconds (one fetch a second)."""
    minute, second = divmod(7 + i, 60)
    return f"2024-03-04T05:{6 + minute:02d}:{second:02d}Z"


def warcinfo(filename: str) -> bytes:
    fields = (
        b"software: cleanpipe scripts/build_web_archive.py\r\n"
        b"format: WARC File Format 1.1\r\n"
        b"conformsTo: https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/\r\n"
        b"description: real HTML pages of Debian documentation packages, recorded as a crawl\r\n"
        b"robots: checked via crawler-commons\r\n"
    )
    headers = [
        ("WARC-Date", CRAWL_DATE),
        ("WARC-Filename", filename),
        ("WARC-Record-ID", record_id(filename, "warcinfo")),
        ("Content-Type", "application/warc-fields"),
    ]
    return warc_record("warcinfo", headers, fields)


def capture_records(c: Capture, i: int, info_id: str) -> list[bytes]:
    """request, response and metadata records of one fetch (Common Crawl's order)."""
    date = _date(i)
    response = http_response(c.status, c.headers, c.body)
    payload = c.body
    resp_id = record_id(c.url, "response")
    common = [("WARC-Date", date), ("WARC-Target-URI", c.url), ("WARC-Warcinfo-ID", info_id)]
    req = [("WARC-Record-ID", record_id(c.url, "request")), ("WARC-Concurrent-To", resp_id)]
    resp = [
        ("WARC-Record-ID", resp_id),
        ("WARC-IP-Address", "151.101.0.223"),
        ("WARC-Payload-Digest", sha1_digest(payload)),
        ("Content-Type", "application/http; msgtype=response"),
    ]
    meta = [
        ("WARC-Record-ID", record_id(c.url, "metadata")),
        ("WARC-Concurrent-To", resp_id),
        ("Content-Type", "application/warc-fields"),
    ]
    fetch = f"fetchTimeMs: {120 + i % 97}\r\n".encode("ascii")
    return [
        warc_record(
            "request",
            common + req + [("Content-Type", "application/http; msgtype=request")],
            http_request(c.url),
        ),
        warc_record("response", common + resp, response),
        warc_record("metadata", common + meta, fetch),
    ]


def revisit_record(c: Capture, i: int, info_id: str) -> bytes:
    """A second fetch of ``c`` with the same payload: headers only, pointing at the first."""
    head = http_response(c.status, c.headers, b"")
    headers = [
        ("WARC-Date", _date(i)),
        ("WARC-Target-URI", c.url),
        ("WARC-Warcinfo-ID", info_id),
        ("WARC-Record-ID", record_id(c.url, "revisit")),
        ("WARC-Profile", "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"),
        ("WARC-Refers-To-Target-URI", c.url),
        ("WARC-Refers-To-Date", _date(0)),
        ("WARC-Payload-Digest", sha1_digest(c.body)),
        ("Content-Type", "application/http; msgtype=response"),
    ]
    return warc_record("revisit", headers, head)


def build_warc(captures: list[Capture], filename: str) -> tuple[bytes, dict]:
    """The ``.warc.gz`` bytes (one gzip member per record) and what the manifest says of it.
    The last capture's response is cut to half its gzip member: the file ends mid-record."""
    info = warcinfo(filename)
    info_id = record_id(filename, "warcinfo")
    members = [gzip_member(info)]
    pages, offsets = [], {}
    for i, c in enumerate(captures[:-1]):
        for rec in capture_records(c, i, info_id):
            if b"WARC-Type: response" in rec[:40]:
                offsets[c.url] = sum(map(len, members))
            members.append(gzip_member(rec))
        if c.note.get("kind") in ("page", "charset"):
            pages.append({"url": c.url, "id": record_id(c.url, "response").strip("<>"), **c.note})
    revisit_of = captures[0]
    members.append(gzip_member(revisit_record(revisit_of, len(captures), info_id)))
    last = captures[-1]
    request, response, _ = capture_records(last, len(captures) + 1, info_id)
    members.append(gzip_member(request))
    cut = gzip_member(response)
    truncated = {"url": last.url, "offset": sum(map(len, members)), "kept_bytes": len(cut) // 2}
    members.append(cut[: len(cut) // 2])
    manifest = {
        "file": f"web-archive/{filename}",
        "pages": pages,
        "response_offsets": offsets,
        "revisit_of": revisit_of.url,
        "truncated_last_record": truncated,
        "not_documents": [
            {"url": c.url, "status": c.status, "kind": c.note["kind"]}
            for c in captures
            if c.note["kind"] in ("not_html", "http_status")
        ],
    }
    return b"".join(members), manifest


def build_wet(src: str, filename: str) -> tuple[bytes, list[dict]]:
    """Conversion records (the page's main text, UTF-8) of the English Debian FAQ pages."""
    from resiliparse.extract.html2text import extract_plain_text

    root = os.path.join(src, "debian-faq/usr/share/doc/debian/FAQ")
    info_id = record_id(filename, "warcinfo")
    members = [gzip_member(warcinfo(filename))]
    listed = []
    for i, name in enumerate(sorted(f for f in os.listdir(root) if f.endswith(".en.html"))):
        url = FAQ_URL + name.replace(".en.html", ".html")
        text = extract_plain_text(_read(os.path.join(root, name)), main_content=True)
        headers = [
            ("WARC-Target-URI", url),
            ("WARC-Date", _date(i)),
            ("WARC-Record-ID", record_id(url, "conversion")),
            ("WARC-Refers-To", record_id(url, "response")),
            ("WARC-Warcinfo-ID", info_id),
            ("Content-Type", "text/plain"),
        ]
        members.append(gzip_member(warc_record("conversion", headers, text.encode("utf-8"))))
        listed.append({"url": url, "id": record_id(url, "conversion").strip("<>")})
    return b"".join(members), listed


def _jsonl_pages(out: str) -> set[str]:
    """Python documentation pages the JSONL web sample already holds (as chunks)."""
    used = set()
    folder = os.path.join(out, "web")
    for name in sorted(os.listdir(folder)):
        with gzip.open(os.path.join(folder, name), "rt", encoding="utf-8") as fh:
            used |= set(re.findall(r'"url": "' + re.escape(PYDOC_URL) + r'([^"?]+)', fh.read()))
    return used


README_SECTION = """
## web-archive — the same kind of pages as a crawler records them (WARC, WET)

* `web-archive/crawl-000.warc.gz` ({size:,} bytes, one gzip member per record) and
  `web-archive/crawl-000.warc.wet.gz`, built by `scripts/build_web_archive.py` (deterministic;
  run it after `build_sample_data.py`, which rewrites this README and MANIFEST.json) from the
  real HTML of Debian `python3.11-doc`, `debian-reference-ja/-zh-cn`, `debian-faq`,
  `debian-faq-ko`, `debian-faq-ru` (versions in MANIFEST.json → `web_archive.versions`).
* Records: a warcinfo, then per fetch a request, the response (real HTTP headers; some bodies
  gzip-encoded or chunked) and a metadata record: {pages} HTML pages ({pydoc} Python
  documentation pages: first those whose text has no `{{` (C4's rule drops any page with
  one), and among them those the JSONL sample does not hold; {faq}
  English Debian FAQ pages; {legacy} pages in legacy charsets), robots.txt, a PNG, a PDF, a
  301 redirect, a 404, one revisit, and a last response cut off mid-record
  (`web_archive.truncated_last_record`).
* Charsets (`web_archive.pages`, kind `charset`: bytes, header, meta tag, the WHATWG encoding
  a reader must decode with): Japanese in Shift_JIS and EUC-JP, Chinese in GB2312 (GBK bytes),
  Korean in EUC-KR (windows-949 bytes), Russian in KOI8-R and windows-1251, declared in the
  header, in a `<meta>` tag, in both or nowhere; three headers name a charset the bytes do not
  fit (`utf-8` over GBK, `euc-jp` over Shift_JIS, `iso-8859-1` over UTF-8 Python pages).
  Characters a legacy charset lacks are `&#N;` references, as server-side converters write them.
* The WET file: a warcinfo and {wet} `conversion` records, the main text of the English Debian
  FAQ pages (resiliparse), as Common Crawl's WET files hold each page's text.
"""


def main() -> int:
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--src", default=os.environ.get("CLEANPIPE_SAMPLE_SRC", "/tmp/cleanpipe-sample-src")
    )
    parser.add_argument(
        "--out", default=os.environ.get("CLEANPIPE_SAMPLE_OUT", os.path.join(here, "sample_data"))
    )
    args = parser.parse_args()
    src, out = args.src, args.out
    pydoc = pydoc_captures(src, _jsonl_pages(out))
    legacy, faq, other = legacy_captures(src), faq_captures(src), other_captures(src)
    half = len(pydoc) // 2
    captures = other[:1] + pydoc[:half] + legacy + other[1:] + faq + pydoc[half:]
    folder = os.path.join(out, "web-archive")
    os.makedirs(folder, exist_ok=True)
    warc, listing = build_warc(captures, "crawl-000.warc.gz")
    wet, wet_listing = build_wet(src, "crawl-000.warc.wet.gz")
    for name, data in (("crawl-000.warc.gz", warc), ("crawl-000.warc.wet.gz", wet)):
        with open(os.path.join(folder, name), "wb") as fh:
            fh.write(data)
    packages = [
        "python3.11-doc",
        "debian-reference-ja",
        "debian-reference-zh-cn",
        "debian-faq",
        "debian-faq-ko",
        "debian-faq-ru",
    ]
    versions = {}
    for p in packages:
        with open(os.path.join(src, p, ".version"), encoding="utf-8") as fh:
            versions[p] = fh.read().strip()
    listing.update(
        {
            "wet_file": "web-archive/crawl-000.warc.wet.gz",
            "wet_records": wet_listing,
            "versions": versions,
        }
    )
    manifest_path = os.path.join(out, "MANIFEST.json")
    with open(manifest_path, encoding="utf-8") as fh:
        manifest = json.load(fh)
    manifest["web_archive"] = listing
    with open(manifest_path, "w", encoding="utf-8", newline="") as fh:
        json.dump(manifest, fh, ensure_ascii=False, indent=1, sort_keys=False)
        fh.write("\n")
    readme_path = os.path.join(out, "README.md")
    with open(readme_path, encoding="utf-8") as fh:
        readme = fh.read().split("\n## web-archive")[0].rstrip("\n") + "\n"
    section = README_SECTION.format(
        size=len(warc),
        pages=len(listing["pages"]),
        pydoc=len(pydoc) - 1,
        faq=len(faq),
        legacy=len(legacy),
        wet=len(wet_listing),
    )
    with open(readme_path, "w", encoding="utf-8") as fh:
        fh.write(readme + section)
    print(f"{len(warc):,} bytes WARC ({len(captures)} fetches), {len(wet):,} bytes WET")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
