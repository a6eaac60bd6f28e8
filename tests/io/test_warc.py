"""WARC and WET files: what becomes a document, what is skipped (counted), what is damage
(rejected at its offset, with the records around it still read).

Archives are written record by record with the writers of scripts/build_web_archive.py, the
script that builds the sample archive, around a real page of the Python documentation.
"""

from __future__ import annotations

import gzip
import html
import json
from pathlib import Path

import pytest

from cleanpipe.document import Document
from cleanpipe.io.readers import BadRecord, InputFile, ReadOptions, Skipped, read_input
from scripts.warc_writer import (
    chunked,
    gzip_member,
    http_request,
    http_response,
    record_id,
    warc_record,
)

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "sample_data" / "web-archive"
MANIFEST = json.loads((REPO / "sample_data" / "MANIFEST.json").read_text(encoding="utf-8"))
#: a real page (the JSONL sample's own text, as HTML) and a real sentence of it
PAGE = (
    '<!DOCTYPE html><html><head><meta charset="utf-8" /><title>os — Miscellaneous operating '
    'system interfaces</title></head><body><div class="body"><p>This module provides a '
    "portable way of using operating system dependent functionality. If you just want to read "
    "or write a file see <code>open()</code>, if you want to manipulate paths, see the "
    "<code>os.path</code> module.</p></div></body></html>"
).encode()
SENTENCE = "This module provides a portable way of using operating system dependent functionality."


def response(url: str, block: bytes, **headers: str) -> bytes:
    fields = [
        ("WARC-Target-URI", url),
        ("WARC-Date", "2024-03-04T05:06:07Z"),
        ("WARC-Record-ID", record_id(url, "response")),
        ("Content-Type", "application/http; msgtype=response"),
        *headers.items(),
    ]
    return warc_record("response", fields, block)


def html_response(url: str, body: bytes = PAGE, content_type: str = "text/html") -> bytes:
    headers = [("Content-Type", content_type), ("Content-Length", str(len(body)))]
    return response(url, http_response("200 OK", headers, body))


def other(kind: str, url: str, block: bytes, content_type: str) -> bytes:
    fields = [
        ("WARC-Target-URI", url),
        ("WARC-Date", "2024-03-04T05:06:07Z"),
        ("WARC-Record-ID", record_id(url, kind)),
        ("Content-Type", content_type),
    ]
    return warc_record(kind, fields, block)


def write(path: Path, records: list[bytes], compress: bool = True) -> Path:
    data = b"".join(gzip_member(r) if compress else r for r in records)
    path.write_bytes(data)
    return path


def read(path: Path, **options: int) -> list:
    return list(read_input(InputFile(str(path)), ReadOptions("web", **options)))


def kinds(records: list) -> list[str]:
    out = []
    for r in records:
        if isinstance(r, Document):
            out.append("doc")
        elif isinstance(r, Skipped):
            out.append(r.reason)
        else:
            out.append(f"bad:{r.reason}")
    return out


URL = "https://docs.python.org/3.11/library/os.html"


@pytest.mark.parametrize("compress", [True, False], ids=["warc.gz", "warc"])
def test_each_record_kind_is_a_document_or_skipped_with_its_reason(
    tmp_path: Path, compress: bool
) -> None:
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00"
    records = [
        other("warcinfo", "", b"software: test\r\n", "application/warc-fields"),
        other("request", URL, http_request(URL), "application/http; msgtype=request"),
        html_response(URL),
        other("metadata", URL, b"fetchTimeMs: 120\r\n", "application/warc-fields"),
        html_response(URL + "?x", content_type="application/xhtml+xml; charset=utf-8"),
        html_response("https://docs.python.org/robots.txt", b"User-agent: *\n", "text/plain"),
        html_response("https://docs.python.org/a.png", png, "image/png"),
        response(URL + "3", http_response("404 Not Found", [("Content-Type", "text/html")], PAGE)),
        response(URL + "4", http_response("301 Moved Permanently", [("Location", URL)], b"")),
        other("revisit", URL, http_response("200 OK", [], b""), "application/http"),
        other("resource", "file:///a.html", PAGE, "text/html"),
    ]
    name = "crawl.warc.gz" if compress else "crawl.warc"
    got = read(write(tmp_path / name, records, compress))
    assert kinds(got) == [
        "warc:warcinfo",
        "warc:request",
        "doc",
        "warc:metadata",
        "doc",
        "warc:not_html",
        "warc:not_html",
        "warc:http_status",
        "warc:http_status",
        "warc:revisit",
        "warc:resource",
    ]


def test_a_document_is_the_decoded_page_with_its_id_and_crawl_metadata(tmp_path: Path) -> None:
    page = PAGE.decode().replace('<meta charset="utf-8" />', "").encode("cp1252")
    (doc,) = [r for r in read(write(tmp_path / "a.warc.gz", [html_response(URL, page)]))]
    assert doc.id == record_id(URL, "response").strip("<>")
    assert doc.id.startswith("urn:uuid:")
    assert SENTENCE in doc.text and doc.text.startswith("<!DOCTYPE html>")
    assert doc.meta == {
        "url": URL,
        "warc_date": "2024-03-04T05:06:07Z",
        "domain": "python.org",
        "content_type": "text/html",
        "charset": "windows-1252",
        "charset_from": "detected",
        "http_status": 200,
    }


def test_a_payload_the_crawler_cut_is_read_and_marked(tmp_path: Path) -> None:
    # Common Crawl stores the first 1 MiB of a payload and says so in WARC-Truncated
    block = http_response("200 OK", [("Content-Type", "text/html")], PAGE[:300])
    (doc,) = read(
        write(tmp_path / "a.warc.gz", [response(URL, block, **{"WARC-Truncated": "length"})])
    )
    assert doc.meta["warc_truncated"] == "length" and doc.text == PAGE[:300].decode()


def test_gzip_encoded_and_chunked_bodies_are_decoded(tmp_path: Path) -> None:
    zipped = gzip.compress(PAGE, mtime=0)
    gz = [("Content-Type", "text/html"), ("Content-Encoding", "gzip")]
    ch = [("Content-Type", "text/html; charset=utf-8"), ("Transfer-Encoding", "chunked")]
    records = [
        response(URL, http_response("200 OK", gz, zipped)),
        response(URL + "?2", http_response("200 OK", ch, chunked(PAGE, size=50))),
    ]
    docs = read(write(tmp_path / "a.warc.gz", records))
    assert [d.text for d in docs] == [PAGE.decode()] * 2


def test_wet_conversion_records_are_text_documents(tmp_path: Path) -> None:
    text = "Chapter 1. Definitions and overview\n\n" + SENTENCE + "\n"
    records = [
        other("warcinfo", "", b"software: test\r\n", "application/warc-fields"),
        other("conversion", URL, text.encode(), "text/plain"),
    ]
    skipped, doc = read(write(tmp_path / "crawl.warc.wet.gz", records))
    assert skipped == Skipped("warc:warcinfo")
    assert doc.text == text and doc.meta["charset"] == "UTF-8"
    assert doc.meta["url"] == URL and doc.id == record_id(URL, "conversion").strip("<>")


def cut(member: bytes) -> bytes:
    return member[: len(member) // 2]


def test_a_truncated_last_record_is_a_reject_at_its_offset(tmp_path: Path) -> None:
    first = gzip_member(html_response(URL))
    last = gzip_member(html_response(URL + "?2", PAGE * 40))
    path = tmp_path / "partial.warc.gz"
    path.write_bytes(first + cut(last))
    doc, bad = read(path)
    assert SENTENCE in doc.text
    assert (bad.reason, bad.location, bad.path) == (
        "truncated_record",
        f"offset {len(first)}",
        str(path),
    )
    assert bad.id == record_id(URL + "?2", "response").strip("<>")


@pytest.mark.parametrize("uri", [False, True], ids=["path", "file-uri"])
def test_a_damaged_gzip_member_mid_file_loses_only_that_record(tmp_path: Path, uri: bool) -> None:
    members = [gzip_member(html_response(f"{URL}?{i}")) for i in range(4)]
    path = tmp_path / "damaged.warc.gz"
    path.write_bytes(members[0] + cut(members[1]) + members[2] + members[3])
    # through a URI the file is a stream that cannot seek (as on an object store)
    got = list(read_input(InputFile(path.as_uri() if uri else str(path)), ReadOptions("web")))
    assert kinds(got) == ["doc", "bad:corrupt_archive", "doc", "doc"]
    assert got[1].location == f"offset {len(members[0])}"
    assert [d.meta["url"] for d in got if isinstance(d, Document)] == [
        f"{URL}?0",
        f"{URL}?2",
        f"{URL}?3",
    ]


@pytest.mark.parametrize(
    ("block", "reason"),
    [
        (b"<html><body>no HTTP here</body></html>", "http_no_status_line"),
        (b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 99", "http_no_header_end"),
    ],
)
def test_a_broken_http_block_is_a_reject_and_reading_goes_on(
    tmp_path: Path, block: bytes, reason: str
) -> None:
    records = [html_response(URL), response(URL + "?bad", block), html_response(URL + "?3")]
    got = read(write(tmp_path / "a.warc.gz", records))
    assert kinds(got) == ["doc", f"bad:{reason}", "doc"]
    assert got[1].location.startswith("offset ") and got[1].raw


def test_a_file_that_is_not_warc_is_one_reject(tmp_path: Path) -> None:
    path = tmp_path / "mislabelled.warc.gz"
    path.write_bytes(gzip.compress(b'{"id": 1, "text": "hello"}\n' * 100, mtime=0))
    (bad,) = read(path)
    assert (bad.reason, bad.location) == ("not_warc", "offset 0")
    assert "does not start with a WARC record" in bad.detail


def test_a_record_over_max_doc_bytes_is_rejected_without_reading_it(tmp_path: Path) -> None:
    huge = PAGE.replace(b"</p>", b"</p>" + b"<p>" + b"x" * 2_000_000 + b"</p>")
    records = [html_response(URL + "?huge", huge), html_response(URL)]
    bad, doc = read(write(tmp_path / "a.warc.gz", records), max_doc_bytes=1_000_000)
    assert (bad.reason, bad.location) == ("too_large", "offset 0")
    assert "max_doc_bytes 1000000" in bad.detail
    assert SENTENCE in doc.text


# -- the bundled sample archive ----------------------------------------------------------------


@pytest.fixture(scope="module")
def sample() -> list:
    return list(read_input(InputFile(str(SAMPLE / "crawl-000.warc.gz")), ReadOptions("web")))


def test_sample_archive_records_are_all_accounted_for(sample: list) -> None:
    listing = MANIFEST["web_archive"]
    counts: dict[str, int] = {}
    for kind in kinds(sample):
        counts[kind] = counts.get(kind, 0) + 1
    fetches = len(listing["pages"]) + len(listing["not_documents"]) + 1  # + the truncated one
    assert counts == {
        "warc:warcinfo": 1,
        "warc:request": fetches,
        "warc:metadata": fetches - 1,
        "warc:revisit": 1,
        "warc:not_html": 3,
        "warc:http_status": 2,
        "doc": len(listing["pages"]),
        "bad:truncated_record": 1,
    }
    (bad,) = [r for r in sample if isinstance(r, BadRecord)]
    assert bad.location == f"offset {listing['truncated_last_record']['offset']}"


def test_sample_pages_in_legacy_charsets_decode_to_their_text(sample: list) -> None:
    docs = {r.meta["url"]: r for r in sample if isinstance(r, Document)}
    cases = [p for p in MANIFEST["web_archive"]["pages"] if p["kind"] == "charset"]
    assert {p["lang"] for p in cases} == {"ja", "zh-cn", "ko", "ru"}
    for case in cases:
        doc = docs[case["url"]]
        assert doc.meta["charset"] == case["expected_charset"], case["url"]
        assert case["title"] in " ".join(html.unescape(doc.text).split()), case["url"]
        assert "\ufffd" not in doc.text


def test_sample_wet_file_holds_text_documents() -> None:
    got = list(read_input(InputFile(str(SAMPLE / "crawl-000.warc.wet.gz")), ReadOptions("w")))
    docs = [r for r in got if isinstance(r, Document)]
    assert len(docs) == len(MANIFEST["web_archive"]["wet_records"]) and len(got) == len(docs) + 1
    assert all("<" not in d.text[:200] and d.meta["domain"] == "debian.org" for d in docs)
