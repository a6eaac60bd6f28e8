"""html_extract and url_filter inside a run on worker processes: the time limit fires in a
worker (SIGALRM in its main thread) and the page goes to rejects with its reason while the
worker goes on; blocked pages go to rejects with the rule and the matched entry."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from cleanpipe.config import parse_config
from cleanpipe.runner import run
from scripts.build_web_archive import Capture, capture_records, gzip_member
from tests.stages.html_pages import data_table_page, page

REPO = Path(__file__).resolve().parents[2]
ARCHIVE = REPO / "sample_data" / "web-archive" / "*.warc.gz"


def write_warc(path: Path, pages: list[tuple[str, bytes]]) -> None:
    with open(path, "wb") as out:
        for i, (url, body) in enumerate(pages):
            headers = [
                ("Content-Type", "text/html; charset=utf-8"),
                ("Content-Length", str(len(body))),
            ]
            for record in capture_records(Capture(url, "200 OK", headers, body, {}), i, "<urn:x>"):
                out.write(gzip_member(record))


@pytest.fixture(scope="module")
def web_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, list[dict], list[dict]]:
    tmp = tmp_path_factory.mktemp("web_stages")
    getopt = page("getopt.html").encode()
    write_warc(
        tmp / "slow.warc.gz",
        [
            ("https://quotes.example/table", data_table_page().encode()),
            ("https://docs.example/getopt", getopt),
        ],
    )
    (tmp / "domains").write_text("# UT1-style\nwww.debian.org\n")
    (tmp / "urls").write_text("docs.python.org/3.11/library/locale.html\n")
    data = {
        "seed": 5,
        "output": {"path": str(tmp / "out"), "shard_size": "1MB"},
        "sources": {
            "web": {
                "paths": [str(ARCHIVE)],
                "weight": 0.5,
                "stages": [
                    "html_extract",
                    {
                        "url_filter": {
                            "block_domains": str(tmp / "domains"),
                            "block_urls": [str(tmp / "urls")],
                        }
                    },
                ],
            },
            "slow": {
                "paths": [str(tmp / "slow.warc.gz")],
                "weight": 0.5,
                "stages": [{"html_extract": {"extractor": "trafilatura", "timeout": 1.0}}],
            },
        },
        "dedup": False,
        "mixture": {"total_tokens": "max", "max_epochs": 1},
    }
    result = run(parse_config(data), workers=2, progress=False)
    rejects = pq.read_table(tmp / "out" / "rejects").to_pylist()
    rows = pq.read_table(tmp / "out" / "data").to_pylist()
    return result.report, rejects, rows


def test_a_page_over_the_time_limit_is_rejected_in_a_worker_and_the_next_is_kept(
    web_run: tuple,
) -> None:
    report, rejects, rows = web_run
    (slow,) = [r for r in rejects if r["source"] == "slow"]
    assert slow["reason"] == "html_extract:timeout"
    assert re.fullmatch(r"extraction ran 1\.\d\d s > 1\.0 s", slow["detail"]), slow["detail"]
    assert Path(slow["file"]).name == "slow.warc.gz"
    kept = [json.loads(r["meta"]) for r in rows if r["source"] == "slow"]
    assert [m["url"] for m in kept] == ["https://docs.example/getopt"]
    assert kept[0]["title"].startswith("getopt — C-style parser for command line options")


def test_blocked_pages_are_rejected_with_the_rule_and_the_entry(web_run: tuple) -> None:
    report, rejects, _ = web_run
    listing = json.loads((REPO / "sample_data" / "MANIFEST.json").read_text())["web_archive"]
    url_of = {p["id"]: p["url"] for p in listing["pages"]}
    extracted = {r["id"] for r in rejects if r["reason"].startswith("html_extract:")}
    debian = {i for i, url in url_of.items() if "//www.debian.org/" in url} - extracted
    by_domain = [r for r in rejects if r["reason"] == "url_filter:blocked_domain"]
    assert {r["id"] for r in by_domain} == debian and len(debian) >= 20
    assert {r["detail"] for r in by_domain} == {"www.debian.org"}
    (by_url,) = [r for r in rejects if r["reason"] == "url_filter:blocked_url"]
    assert url_of[by_url["id"]] == "https://docs.python.org/3.11/library/locale.html"
    assert by_url["detail"] == "docs.python.org/3.11/library/locale.html"
    funnel = report["sources"]["web"]["funnel"]
    assert [step["step"] for step in funnel[1:3]] == ["html_extract", "url_filter"]
    assert funnel[2]["dropped"] == {
        "url_filter:blocked_domain": len(debian),
        "url_filter:blocked_url": 1,
    }
