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
