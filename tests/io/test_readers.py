"""Readers: every format, and every kind of broken record ends up as a BadRecord."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import zstandard

from cleanpipe import Document
from cleanpipe.io.readers import BadRecord, InputFile, ReadOptions, expand_paths, read_input
from tests.conftest import ENGLISH

OPTIONS = ReadOptions(source="web")


def read_all(path: Path, options: ReadOptions = OPTIONS, root: str | None = None) -> list:
    return list(read_input(InputFile(str(path), root), options))


def test_jsonl_gz_reads_text_id_and_keeps_other_fields_as_meta(jsonl_gz: Path) -> None:
    docs = read_all(jsonl_gz)
    assert [d.id for d in docs] == ["web-0", "web-1", "web-2"]
    assert docs[0].text == ENGLISH[0]
    assert docs[0].source == "web"
    assert docs[1].meta == {"url": "https://e.org/1"}


def test_jsonl_zst_and_plain(tmp_path: Path) -> None:
    lines = "".join(json.dumps({"text": t}) + "\n" for t in ENGLISH).encode()
    (tmp_path / "a.jsonl.zst").write_bytes(zstandard.ZstdCompressor().compress(lines))
    (tmp_path / "b.jsonl").write_bytes(lines)
    zst = read_all(tmp_path / "a.jsonl.zst")
    plain = read_all(tmp_path / "b.jsonl")
    assert [d.text for d in zst] == [d.text for d in plain] == ENGLISH


def test_missing_id_is_derived_stably_from_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "news.jsonl"
    path.write_text(
        json.dumps({"text": ENGLISH[0]}) + "\n\n" + json.dumps({"text": ENGLISH[1]}) + "\n",
        encoding="utf-8",
    )
    first = [d.id for d in read_all(path)]
    assert first == [f"web/{path}:1", f"web/{path}:3"]
    assert first == [d.id for d in read_all(path)]


def test_broken_records_become_bad_records_and_reading_goes_on(tmp_path: Path) -> None:
    path = tmp_path / "dirty.jsonl"
    good = json.dumps({"id": "ok-1", "text": ENGLISH[0]}).encode()
    path.write_bytes(
        b"\n".join(
            [
                good,
                b'{"id": "broken", "text": "unterminated',  # malformed JSON
                b'{"id": "latin1", "text": "caf\xe9"}',  # invalid UTF-8 byte
                json.dumps({"id": "no-text", "body": "x"}).encode(),
                json.dumps({"id": "num-text", "text": 42}).encode(),
                json.dumps(["not", "an", "object"]).encode(),
                json.dumps({"id": "ok-2", "text": ENGLISH[1]}).encode(),
            ]
        )
        + b"\n"
    )
    records = read_all(path)
    reasons = [(r.location, r.reason) for r in records if isinstance(r, BadRecord)]
    assert reasons == [
        ("line 2", "malformed_json"),
        ("line 3", "invalid_utf8"),
        ("line 4", "missing_text"),
        ("line 5", "text_not_string"),
        ("line 6", "not_an_object"),
    ]
    assert [r.id for r in records if isinstance(r, Document)] == ["ok-1", "ok-2"]
    bad = {r.reason: r for r in records if isinstance(r, BadRecord)}
    assert "unterminated" in bad["malformed_json"].raw
    assert bad["missing_text"].id == "no-text"


def test_truncated_gzip_keeps_lines_before_the_cut(tmp_path: Path) -> None:
    lines = "".join(json.dumps({"text": t * 20}) + "\n" for t in ENGLISH * 20).encode()
    blob = gzip.compress(lines)
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(blob[: len(blob) // 2])
    records = read_all(path)
    assert isinstance(records[-1], BadRecord)
    assert records[-1].reason == "truncated_file"
    assert 0 < sum(isinstance(r, Document) for r in records) < 60


def test_document_over_the_size_limit_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "huge.jsonl"
    big = " ".join(ENGLISH) * 2000  # ~1 MB
    path.write_text(
        json.dumps({"id": "big", "text": big})
        + "\n"
        + json.dumps({"id": "small", "text": ENGLISH[0]})
        + "\n"
    )
    records = read_all(path, ReadOptions("web", max_doc_bytes=200_000))
    assert [type(r).__name__ for r in records] == ["BadRecord", "Document"]
    assert records[0].reason == "too_large" and records[0].id == "big"


def test_parquet_with_custom_fields(tmp_path: Path) -> None:
    path = tmp_path / "papers.parquet"
    pq.write_table(
        pa.table({"doc_id": ["p1", "p2"], "body": ENGLISH[:2], "year": [2020, 2021]}), path
    )
    docs = read_all(path, ReadOptions("papers", text_field="body", id_field="doc_id"))
    assert [(d.id, d.text, d.meta) for d in docs] == [
        ("p1", ENGLISH[0], {"year": 2020}),
        ("p2", ENGLISH[1], {"year": 2021}),
    ]


def test_parquet_with_another_schema_rejects_every_row(tmp_path: Path) -> None:
    path = tmp_path / "other.parquet"
    pq.write_table(pa.table({"content": ENGLISH}), path)
    records = read_all(path)
    assert len(records) == 3
    assert all(isinstance(r, BadRecord) and r.reason == "missing_text" for r in records)
    assert "content" in records[0].detail


def test_folder_of_text_files_one_document_per_file(tmp_path: Path) -> None:
    root = tmp_path / "code"
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "mod.py").write_text("def f():\n    return 1\n")
    (root / "README.txt").write_text(ENGLISH[0])
    (root / "blob.bin").write_bytes(b"\x00\x01\x02")
    (root / "latin.txt").write_bytes(b"caf\xe9")
    (root / ".hidden").write_text("skip me")
    files = expand_paths(str(root))
    assert [Path(f.path).name for f in files] == ["README.txt", "blob.bin", "latin.txt", "mod.py"]
    records = [r for f in files for r in read_input(f, ReadOptions("code"))]
    docs = {r.id: r for r in records if isinstance(r, Document)}
    assert set(docs) == {"code/README.txt", "code/pkg/mod.py"}
    assert docs["code/pkg/mod.py"].meta == {"path": "pkg/mod.py"}
    bad = sorted(r.reason for r in records if isinstance(r, BadRecord))
    assert bad == ["binary_file", "invalid_utf8"]


def test_utf8_bom_on_the_first_line_is_not_a_malformed_record(tmp_path: Path) -> None:
    # what Windows Notepad and Excel's "UTF-8" export write at the start of a file
    path = tmp_path / "notepad.jsonl"
    lines = [
        json.dumps({"id": f"n{i}", "text": t}, ensure_ascii=False) for i, t in enumerate(ENGLISH)
    ]
    path.write_bytes("\ufeff".encode() + "\n".join(lines).encode() + b"\n")
    records = read_all(path)
    assert [type(r).__name__ for r in records] == ["Document"] * 3
    assert [r.id for r in records] == ["n0", "n1", "n2"]
    gz = tmp_path / "notepad.jsonl.gz"
    gz.write_bytes(gzip.compress(path.read_bytes()))
    assert [r.id for r in read_all(gz)] == ["n0", "n1", "n2"]


def test_json_array_file_is_read_as_its_items(tmp_path: Path) -> None:
    # `json.dump(records, fh, indent=2)`: a JSON array, pretty-printed, not JSON Lines
    path = tmp_path / "export.json"
    records = [{"id": f"a{i}", "text": t, "lang": "en"} for i, t in enumerate(ENGLISH)]
    records.append({"id": "a3", "body": "no text here"})
    path.write_text(json.dumps(records, indent=2), encoding="utf-8")
    read = read_all(path)
    assert [r.id for r in read if isinstance(r, Document)] == ["a0", "a1", "a2"]
    assert read[0].text == ENGLISH[0] and read[0].meta == {"lang": "en"}
    (bad,) = [r for r in read if isinstance(r, BadRecord)]
    assert (bad.location, bad.reason) == ("item 3", "missing_text")
    one_line = tmp_path / "minified.json"
    one_line.write_text(json.dumps(records[:2]), encoding="utf-8")
    assert [r.id for r in read_all(one_line)] == ["a0", "a1"]


def test_broken_or_huge_json_array_is_one_clear_reject(tmp_path: Path, monkeypatch) -> None:
    import cleanpipe.io.readers as readers

    path = tmp_path / "cut.json"
    path.write_text(json.dumps([{"text": t} for t in ENGLISH], indent=2)[:-40], encoding="utf-8")
    (bad,) = read_all(path)
    assert (bad.location, bad.reason) == ("file", "json_array")
    assert "one object per line" in bad.detail
    monkeypatch.setattr(readers, "MAX_JSON_ARRAY_BYTES", 100)
    big = tmp_path / "big.json"
    big.write_text(json.dumps([{"text": t} for t in ENGLISH], indent=2), encoding="utf-8")
    (bad,) = read_all(big)
    assert bad.reason == "json_array" and "jq -c '.[]'" in bad.detail


def test_missing_text_lists_the_fields_seen(tmp_path: Path) -> None:
    path = tmp_path / "stdlib.jsonl"
    path.write_text(json.dumps({"content": "import os\n", "url": "https://x.org/os.py"}) + "\n")
    (bad,) = read_all(path)
    assert bad.reason == "missing_text"
    assert bad.detail == "no field 'text'; fields seen: content, url"
    parquet = tmp_path / "other.parquet"
    pq.write_table(pa.table({"content": ENGLISH, "url": ["u"] * 3}), parquet)
    assert read_all(parquet)[0].detail == "no column 'text'; columns: content, url"


def test_unsupported_formats_are_named_but_text_files_are_not() -> None:
    from cleanpipe.io.readers import unsupported_format

    for name, what in [
        (
            "IAH-20080430204825-00000-blackbook.arc.gz",
            "ARC (the web archive format before WARC)",
        ),
        (
            "CC-MAIN-20240101-00000.warc.wat.gz",
            "WAT (WARC metadata; read the WARC or WET files of the crawl)",
        ),
        ("data-00000-of-00001.arrow", "Arrow IPC"),
        ("train.csv", "CSV"),
        ("train.tsv", "TSV"),
        ("book.txt.bz2", "bzip2-compressed"),
        ("dump.tar.gz", "a tar archive"),
        ("s3://bucket/crawl/x.arc", "ARC (the web archive format before WARC)"),
    ]:
        assert unsupported_format(name) == what, name
    for name in [
        "mod.py",
        "README.md",
        "notes.txt",
        "LICENSE",
        "Makefile",
        "a.jsonl.gz",
        "b.json",
        "c.jsonl.zst",
        "d.parquet",
        "CC-MAIN-20240101-00000.warc.gz",
        "s3://commoncrawl/crawl/x.warc.wet.gz",
        "x.warc",
        "folder/",
        ".gz",
    ]:
        assert unsupported_format(name) is None, name
