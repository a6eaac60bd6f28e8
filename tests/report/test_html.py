"""report.html, rendered from a real run of the llama config (tests/report/conftest.py): one
self-contained page whose tables match report.json; the checks that also hold for report.md
are made on both."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from cleanpipe.report.html import reason_colors, render_html
from cleanpipe.report.markdown import render_markdown
from cleanpipe.report.svg import distinct_colors
from cleanpipe.report.view import FUNNEL_HEAD

SOURCES = ["books", "c4", "code", "news", "papers", "web"]


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
    c4 = {r[0]: r for r in page.cards["c4"]}
    # sample_data/README.md: two broken JSON lines and one record without text; the row
    # names the stage, so its reasons are shown by rule
    reasons = FUNNEL_HEAD.index("dropped by reason")
    assert "malformed_json 2" in c4["read"][reasons]
    assert "missing_text 1" in c4["read"][reasons]
    read, langid = report["sources"]["c4"]["funnel"][:3:2]
    assert c4["langid"][2] == f"−{read['docs'] - langid['docs']:,}"


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


def _swatches(cell_html: str) -> list[str]:
    return re.findall(r'class="sw" style="background:(#[0-9a-f]{6})"', cell_html)


def test_each_drop_reason_of_a_source_has_its_own_colour_in_pipeline_order(report: dict) -> None:
    page = render_html(report)
    colors = reason_colors(report)
    for name, src in report["sources"].items():
        reasons = [r for step in src["funnel"] for r in step["dropped"]]
        assert len({colors[r] for r in reasons}) == len(reasons), name
        card = page.split(f'id="funnel-{name}"', 1)[1].split('class="card"', 1)[0]
        assert _swatches(card) == [colors[r] for r in reasons]  # the table uses them too
    web = report["sources"]["web"]
    assert len(web["dropped"]) > 10  # more reasons than the old palette had colours
    # the legend lists every reason once, grouped by stage, in the order of the pipeline
    legend = page.split('class="legend"', 1)[1].split("</div></div>", 1)[0]
    titles = re.findall(r'class="li" title="([^"]+)"', legend)
    assert titles[0] == "kept" and len(titles) == len(set(titles))
    for name, src in report["sources"].items():  # in each source's own stage order
        reasons = [r for step in src["funnel"] for r in step["dropped"] if step["dropped"][r]]
        assert [t for t in titles if t in reasons] == reasons, name
    assert set(web["dropped"]) <= set(titles)


def test_distinct_colors_are_distinct_for_any_number_and_deterministic() -> None:
    for n in (1, 2, 3, 10, 11, 25, 60):
        colors = distinct_colors(n)
        assert len(set(colors)) == n and colors == distinct_colors(n)
        assert all(re.fullmatch(r"#[0-9a-f]{6}", c) for c in colors)
        assert "#3d8b5a" not in colors  # the kept green
    # neighbours differ clearly (in RGB), not only by a few hue degrees
    rgb = [[int(c[i : i + 2], 16) for i in (1, 3, 5)] for c in distinct_colors(25)]
    gaps = [
        sum(abs(a - b) for a, b in zip(x, y, strict=True))
        for x, y in zip(rgb, rgb[1:], strict=False)
    ]
    assert min(gaps) > 60


@pytest.mark.skipif(shutil.which("chromium") is None, reason="needs a headless chromium")
def test_every_table_fits_a_1400px_window(report: dict, tmp_path: Path) -> None:
    # A measuring script appended to a copy of the page (the report itself has none):
    # every table must fit inside its box, and the page must not scroll sideways.
    probe = """<script>
    const bad = [];
    document.querySelectorAll('table').forEach((t, i) => {
      const box = t.parentElement, where = (t.closest('[id]') || {}).id;
      if (t.getBoundingClientRect().right > box.getBoundingClientRect().right + 1
          || box.scrollWidth > box.clientWidth + 1) bad.push(where + ' #' + i);
    });
    if (document.documentElement.scrollWidth > window.innerWidth) bad.push('page');
    document.body.insertAdjacentHTML('beforeend', '<pre id="probe">' + JSON.stringify(bad)
      + '</pre>');
    </script></body>"""
    page = tmp_path / "report.html"
    page.write_text(render_html(report).replace("</body>", probe), encoding="utf-8")
    out = subprocess.run(
        ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--window-size=1400,2000"]
        + ["--dump-dom", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    assert json.loads(out.rsplit('<pre id="probe">', 1)[1].split("</pre>", 1)[0]) == []


def test_funnel_shows_chars_and_tokens_after_each_step(report: dict, sized_report: dict) -> None:
    sized = sized_report
    c4 = next(s for s in sized["sources"]["web"]["funnel"] if s["step"] == "c4_quality")
    read = sized["sources"]["web"]["funnel"][0]
    chars, tokens = f"{c4['chars']:,}", f"{c4['tokens']:,}"
    kept = f"{c4['chars'] / read['chars']:.1%}"
    row = {r[0]: r for r in parse(render_html(sized)).cards["web"]}["c4_quality"]
    at = FUNNEL_HEAD.index
    assert (row[at("chars after")], row[at("chars kept")], row[at("tokens after")]) == (
        chars,
        kept,
        tokens,
    )
    md = render_markdown(sized)
    assert f"| c4_quality | {c4['docs']:,} |" in md and f"| {chars} | {kept} | {tokens} |" in md
    assert "estimated from its characters" in md


def test_a_report_without_chars_or_tokens_shows_dashes(unsized_report: dict) -> None:
    older = unsized_report
    row = {r[0]: r for r in parse(render_html(older)).cards["web"]}["langid"]
    assert row[FUNNEL_HEAD.index("chars after")] == "–"
    assert row[FUNNEL_HEAD.index("tokens after")] == "–"
    assert "| – | – | – |" in render_markdown(older)


def test_a_failed_run_renders_with_the_error_first(report: dict, failed_report: dict) -> None:
    failed = failed_report
    error = failed["error"]
    page, md = render_html(failed), render_markdown(failed)
    for out, funnel in ((page, 'id="funnel"'), (md, "## Funnel")):
        assert error.replace("'", "&#x27;") in out or error in out
        first = out.index(error) if error in out else out.index(error.replace("'", "&#x27;"))
        assert first < out.index(funnel)  # at the top, before the rest
    assert "Run failed." in page and "FAILED" in page and "**Run failed:**" in md
    # whatever the run got to is still there; what it did not get to is a dash or a note
    assert sorted(parse(page).cards) == SOURCES
    assert "did not get as far as planning the mixture" in page
    assert "did not get as far as planning the mixture" in md
    assert "the run failed before dedup finished" in md
    assert "INCOMPLETE" in page and "MISMATCH" not in page.split('id="funnel"', 1)[0]
