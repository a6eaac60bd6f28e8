"""report.md, report.html and ``--compare``, rendered from a real run of the llama config."""

from __future__ import annotations

import copy
import json
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from cleanpipe.config import load_config
from cleanpipe.report_html import render_html
from cleanpipe.report_render import compare_reports, print_comparison, render_markdown
from cleanpipe.runner import run

SOURCES = ["books", "code", "news", "papers", "web"]


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    repo = Path(__file__).resolve().parent.parent
    out = tmp_path_factory.mktemp("llama-report")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(repo)
        run(load_config("configs/mixtures/llama.yaml", output=str(out)), workers=2, progress=False)
    return json.loads((out / "report.json").read_text(encoding="utf-8"))


class _Page(HTMLParser):
    """Every tag with its attributes, and the cells of every table row, in order."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.cards: dict[str, list[list[str]]] = {}  # funnel card id -> table rows
        self._card: str | None = None
        self._row: list[str] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        ident = dict(attrs).get("id") or ""
        if ident.startswith("funnel-"):
            self._card = ident.removeprefix("funnel-")
            self.cards[self._card] = []
        elif tag == "tr" and self._card:
            self._row = []
        elif tag == "td" and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._row is not None and self._cell is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None and self._card:
            if self._row:
                self.cards[self._card].append(self._row)
            self._row = None
        elif tag == "table":
            self._card = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def parse(page: str) -> _Page:
    parser = _Page()
    parser.feed(page)
    return parser


def test_every_source_appears_in_html_and_markdown(report: dict) -> None:
    page, md = parse(render_html(report)), render_markdown(report)
    assert sorted(page.cards) == SOURCES
    for name in SOURCES:
        assert f"### {name}\n" in md


def test_html_funnel_tables_match_report_json(report: dict) -> None:
    page = parse(render_html(report))
    for name in SOURCES:
        src = report["sources"][name]
        rows = page.cards[name]
        steps = ["input"] + [f["step"] for f in src["funnel"]]
        docs = [src["input_docs"]] + [f["docs"] for f in src["funnel"]]
        assert [r[0] for r in rows] == steps
        assert [int(r[1].replace(",", "")) for r in rows] == docs
    web = {r[0]: r for r in page.cards["web"]}
    # sample_data/README.md: two broken JSON lines and one record without text
    assert "read:malformed_json 2" in web["read"][4]
    assert "read:missing_text 1" in web["read"][4]
    read, langid = report["sources"]["web"]["funnel"][:3:2]
    assert web["langid"][2] == f"−{read['docs'] - langid['docs']:,}"


def test_markdown_funnel_tables_match_report_json(report: dict) -> None:
    md = render_markdown(report)
    web = report["sources"]["web"]
    table = md.split("### web\n", 1)[1].strip().split("\n\n")[0]
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in table.splitlines()[2:]]
    assert [(r[0], int(r[1].replace(",", ""))) for r in rows] == [("input", web["input_docs"])] + [
        (f["step"], f["docs"]) for f in web["funnel"]
    ]


def test_html_loads_nothing_from_outside(report: dict) -> None:
    page = render_html(report)
    tags = parse(page).tags
    assert "<svg" in page
    assert not [t for t, _ in tags if t in ("script", "link", "img", "iframe", "object")]
    for tag, attrs in tags:
        for key in ("src", "href", "xlink:href"):
            value = attrs.get(key)
            assert value is None or value.startswith("#"), (tag, key, value)
    style = page.split("<style>", 1)[1].split("</style>", 1)[0]
    assert "@import" not in style and "url(" not in style and "http" not in style


def test_rejected_text_with_a_script_tag_is_escaped(report: dict) -> None:
    evil = copy.deepcopy(report)
    evil["sources"]["web"]["examples"] = {
        "langid:language": [{"id": "web-x", "text": "<script>alert('x')</script> ``` end"}]
    }
    page = render_html(evil)
    assert "<script" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    md = render_markdown(evil)
    # fenced with more backticks than the text holds, so the text cannot close the block
    assert "````text\n<script>alert('x')</script> ``` end\n````" in md


def test_a_source_above_four_epochs_gets_a_warning(report: dict) -> None:
    assert report["sources"]["news"]["epochs"] <= 4  # max_epochs 4 caps the sample run
    assert "Epoch warning" not in render_html(report)
    repeated = copy.deepcopy(report)
    repeated["sources"]["news"]["epochs"] = 5.3
    page, md = render_html(repeated), render_markdown(repeated)
    for text in (page, md):
        assert "news is repeated 5.30 times (more than 4 epochs)" in text
        assert "Muennighoff et al. 2023" in text
    assert "Epoch warning" in page and "**Epoch warning:**" in md


def test_accounting_shows_ok_or_mismatch_with_the_numbers(report: dict) -> None:
    page = render_html(report)
    assert report["accounting_ok"] is True
    assert '<span class="badge ok">OK</span>' in page
    acc = report["sources"]["web"]["accounting"]
    n_in, kept, dropped, dups = acc["input"], acc["kept"], acc["dropped"], acc["duplicates"]
    assert f"{n_in:,} = {kept:,} + {dropped:,} + {dups:,}" in page
    broken = copy.deepcopy(report)
    broken["accounting_ok"] = False
    broken["sources"]["web"]["accounting"].update(kept=kept - 7, balanced=False)
    assert "MISMATCH" in render_html(broken)
    assert f"{n_in:,} ≠ {kept - 7:,} + {dropped:,} + {dups:,}" in render_markdown(broken)


def test_optional_keys_are_skipped_when_absent(report: dict) -> None:
    older = copy.deepcopy(report)
    older["run"].pop("warnings", None)
    older["dedup"] = {"enabled": False}
    for src in older["sources"].values():
        for key in ("signals", "languages", "examples", "pii", "stages"):
            src.pop(key, None)
    page, md = render_html(older), render_markdown(older)
    for section in ("signals", "languages", "examples", "pii"):
        assert f'id="{section}"' not in page
    assert "Deduplication was off for this run." in page and "## Quality signals" not in md
    assert 'id="funnel-web"' in page and 'id="accounting"' in page


def test_keys_of_newer_runs_render_when_present(report: dict) -> None:
    rich = copy.deepcopy(report)
    web = rich["sources"]["web"]
    web["signals"] = {"langid.lang_score": [0.2, 0.7, 0.8, 0.9, 0.95], "x.empty": []}
    web["languages"] = {"en": 1435, "de": 120, "fr": 95}
    web["pii"] = {"email": 41, "ip_address": 7}
    rich["run"]["warnings"] = ["web: 3 unreadable records"]
    rich["dedup"] = {
        "enabled": True,
        "clusters": 4,
        "removed": 5,
        "removed_per_source": {"web": 4, "books": 1},
        "cross_source": {"books|web": 1},
        "examples": [
            {"ids": ["web-1", "books-2"], "sources": ["web", "books"], "texts": ["a", "b"]}
        ],
    }
    page, md = render_html(rich), render_markdown(rich)
    for section in ("signals", "languages", "pii", "dedup"):
        assert f'id="{section}"' in page
    assert 'aria-label="langid.lang_score in web"' in page
    assert "x.empty" not in page  # a signal without values is skipped
    assert "web: 3 unreadable records" in page and "web: 3 unreadable records" in md
    assert "| books\\|web | 1 |" in md
    assert "| langid.lang_score | web | 5 | 0.2 | 0.4 | 0.8 | 0.93 | 0.95 |" in md


def test_compare_shows_signed_differences(report: dict) -> None:
    assert not [c for c in compare_reports(report, report) if c.changed]
    new = copy.deepcopy(report)
    web = new["sources"]["web"]
    web["kept_docs"] = 1000
    web["dropped"]["langid:low_score"] = 100
    web["epochs"] = 4.6
    new["sources"]["books"]["achieved_share"] = 0.05
    old = copy.deepcopy(report)
    old_web = old["sources"]["web"]
    old_web.update(kept_docs=1012, epochs=2.1)
    old_web["dropped"]["langid:low_score"] = 88
    old["sources"]["books"]["achieved_share"] = 0.045
    changes = {(c.source, c.metric): c for c in compare_reports(old, new)}
    assert changes["web", "kept docs"].delta == -12
    assert changes["web", "dropped langid:low_score"].delta == 12
    console = Console(record=True, width=120)
    print_comparison(old, new, console, old_label="before", new_label="after")
    text = console.export_text()
    rows = {tuple(cell.strip() for cell in line.split("│")[2:6]) for line in text.splitlines()}
    assert ("kept docs", "1,012", "1,000", "-12 (-1.2%)") in rows
    assert ("dropped langid:low_score", "88", "100", "+12 (+13.6%)") in rows
    assert ("epochs", "2.10", "4.60 (>4)", "+2.50") in rows
    assert ("achieved share", "4.50%", "5.00%", "+0.50 pp") in rows
    assert "input docs" not in text  # unchanged numbers are left out
