"""A run that starts from web archives: the config check for HTML extraction, and the sample
WARC and WET read, extracted and reported end to end."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import ClassVar

import pyarrow.parquet as pq
import pytest
from rich.console import Console

from cleanpipe.config import parse_config
from cleanpipe.errors import ConfigError
from cleanpipe.report.html import render_html
from cleanpipe.report.markdown import render_markdown
from cleanpipe.report.terminal import print_report
from cleanpipe.runner import run
from cleanpipe.stages import Transform, register

REPO = Path(__file__).resolve().parents[2]
ARCHIVE = REPO / "sample_data" / "web-archive"
LISTING = json.loads((REPO / "sample_data" / "MANIFEST.json").read_text())["web_archive"]


@register("test_strip_tags")
class StripTags(Transform):
    """Test-only: a stage that says it extracts HTML, to show the check reads the class."""

    extracts_html: ClassVar[bool] = True

    def transform(self, doc):  # pragma: no cover - never run
        return doc.text


def config(tmp_path: Path, paths: list[str], stages: list) -> dict:
    return {
        "seed": 3,
        "output": {"path": str(tmp_path / "out"), "shard_size": "1MB"},
        "sources": {"web": {"paths": paths, "weight": 1.0, "stages": stages}},
        "dedup": False,
        "mixture": {"total_tokens": "max", "max_epochs": 1},
    }


def problems(data: dict) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(data)
    return info.value.problems


WARC = str(ARCHIVE / "*.warc.gz")
WET = str(ARCHIVE / "*.warc.wet.gz")


def test_a_warc_source_must_start_with_html_extraction(tmp_path: Path) -> None:
    (problem,) = problems(config(tmp_path, [WARC], ["normalize", "html_extract"]))
    assert problem == (
        "sources.web.stages: expected an HTML extraction stage first (html_extract): the "
        f"source reads WARC files (e.g. '{ARCHIVE / 'crawl-000.warc.gz'}'), whose documents "
        "are HTML pages; its first stage is 'normalize'"
    )
    (problem,) = problems(config(tmp_path, [str(ARCHIVE)], []))  # a folder holding a WARC
    assert problem.startswith("sources.web.stages: expected an HTML extraction stage first")
    assert problem.endswith("; it has no stages")


def test_a_wet_source_needs_no_extraction_and_any_html_stage_will_do(tmp_path: Path) -> None:
    parse_config(config(tmp_path, [WET], ["normalize"]))
    parse_config(config(tmp_path, [WARC], ["html_extract", "normalize"]))
    parse_config(config(tmp_path, [WARC], ["test_strip_tags"]))  # extracts_html = True


@pytest.fixture(scope="module")
def archive_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path]:
    tmp = tmp_path_factory.mktemp("archive")
    data = config(tmp, [WARC, WET], ["html_extract", "normalize"])
    result = run(parse_config(data), workers=1, progress=False)
    return result.report, tmp / "out"


def test_report_shows_records_read_skipped_by_reason_and_extracted(archive_run: tuple) -> None:
    report, _ = archive_run
    web = report["sources"]["web"]
    fetches = len(LISTING["pages"]) + len(LISTING["not_documents"]) + 1
    assert web["skipped"] == {
        "warc:http_status": 2,
        "warc:metadata": fetches - 1,
        "warc:not_html": 3,
        "warc:request": fetches,
        "warc:revisit": 1,
        "warc:warcinfo": 2,  # one per file
    }
    documents = len(LISTING["pages"]) + len(LISTING["wet_records"])
    assert web["input_docs"] == documents + 1  # + the truncated record, rejected
    assert web["records_read"] == web["input_docs"] + sum(web["skipped"].values())
    read, extract = web["funnel"][:2]
    assert (read["docs"], read["dropped"]) == (documents, {"read:truncated_record": 1})
    assert extract["step"] == "html_extract" and extract["chars"] < read["chars"] / 3
    assert report["accounting_ok"] is True
    note = f"web: {web['records_read']:,} records read, {sum(web['skipped'].values()):,} of them"
    console = Console(file=io.StringIO(), width=300)
    print_report(report, console)
    assert note in console.file.getvalue()
    assert note in render_markdown(report) and note in render_html(report)


def test_output_is_text_in_every_language_of_the_archive(archive_run: tuple) -> None:
    _, out = archive_run
    rows = pq.read_table(out / "data").to_pylist()
    assert not [r["id"] for r in rows if "<html" in r["text"] or "<div" in r["text"]]
    text = "\n".join(r["text"] for r in rows)
    # a phrase of each legacy-charset page's language (Debian Reference / Debian FAQ)
    for phrase in ["チュートリアル", "教程", "데비안", "Debian GNU/Linux — это"]:
        assert phrase in text, phrase
    metas = [json.loads(r["meta"]) for r in rows]
    assert {m["charset"] for m in metas} >= {"Shift_JIS", "GBK", "EUC-KR", "KOI8-R", "UTF-8"}
    assert all(m["url"].startswith("https://") and m["domain"] for m in metas)


def test_the_truncated_record_is_in_rejects_with_its_offset(archive_run: tuple) -> None:
    _, out = archive_run
    rejects = pq.read_table(out / "rejects").to_pylist()
    (bad,) = [r for r in rejects if r["reason"] == "read:truncated_record"]
    assert Path(bad["file"]).name == "crawl-000.warc.gz"
    assert bad["location"] == f"offset {LISTING['truncated_last_record']['offset']}"
