"""report.md, report.html and ``--compare``, rendered from a real run of the llama config."""

from __future__ import annotations

import copy
import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from cleanpipe.config import load_config
from cleanpipe.report_html import _reason_colors, distinct_colors, render_html
from cleanpipe.report_render import (
    FUNNEL_HEAD,
    compare_reports,
    format_delta,
    print_comparison,
    render_markdown,
)
from cleanpipe.runner import run

SOURCES = ["books", "code", "news", "papers", "web"]


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return llama_report(tmp_path_factory)


def llama_report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """report.json of a real run of configs/mixtures/llama.yaml on sample_data/."""
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
    # sample_data/README.md: two broken JSON lines and one record without text; the row
    # names the stage, so its reasons are shown by rule
    reasons = FUNNEL_HEAD.index("dropped by reason")
    assert "malformed_json 2" in web["read"][reasons]
    assert "missing_text 1" in web["read"][reasons]
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
    rows = {tuple(re.split(r"\s{2,}", line.strip())) for line in text.splitlines()}
    assert ("kept docs", "1,012", "1,000", "-12 (-1.2%)") in rows
    assert ("dropped langid:low_score", "88", "100", "+12 (+13.6%)") in rows
    assert ("epochs", "2.10", "4.60 (>4)", "+2.50") in rows
    assert ("achieved share", "4.50%", "5.00%", "+0.50 pp") in rows
    assert "input docs" not in text  # unchanged numbers are left out


# -- issue 19: reports that say what happened ---------------------------------------------


def _swatches(cell_html: str) -> list[str]:
    return re.findall(r'class="sw" style="background:(#[0-9a-f]{6})"', cell_html)


def test_each_drop_reason_of_a_source_has_its_own_colour_in_pipeline_order(report: dict) -> None:
    page = render_html(report)
    colors = _reason_colors(report)
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


def test_dedup_example_clusters_show_their_true_size_and_the_kept_member(report: dict) -> None:
    examples = report["dedup"]["examples"]
    big = next(c for c in examples if c["size"] > len(c["ids"]))  # the 6 codec files
    assert big["kept_member"] == 0 and big["kept"] == big["ids"][0]
    shown = len(big["ids"])
    page, md = render_html(report), render_markdown(report)
    assert f"{big['size']} documents ({shown} shown); the kept one is marked" in page
    assert f"{shown} documents</p>" not in page
    after = page.split(f"{big['size']} documents ({shown} shown)", 1)[1]
    assert after.index('<span class="badge ok">kept</span>') < after.index(big["ids"][1])
    assert f"| **kept** | {big['ids'][0]} |" in md
    assert f"| duplicate | {big['ids'][1]} |" in md


def test_an_older_cluster_without_size_or_kept_member_still_renders(report: dict) -> None:
    older = copy.deepcopy(report)
    older["dedup"]["examples"] = [{"ids": ["a", "b"], "sources": ["web", "web"], "texts": ["x"]}]
    assert "2 documents</p>" in render_html(older)
    assert "| duplicate |" not in render_markdown(older)  # nothing says which one was kept


def _with_funnel_sizes(report: dict) -> dict:
    """The report with chars and tokens per funnel step (a C4-like line filter in web keeps
    most documents but a tenth of their text)."""
    sized = copy.deepcopy(report)
    for src in sized["sources"].values():
        chars, prev = 0, 1
        for i, step in enumerate(src["funnel"]):
            chars = step["docs"] * 1000 if i == 0 else chars * step["docs"] // prev
            if step["step"] == "c4_quality":
                chars //= 10
            step["chars"], step["tokens"] = chars, chars // 4
            prev = step["docs"] or 1
        src["funnel_tokens"] = "estimated"
    return sized


def test_funnel_shows_chars_and_tokens_after_each_step(report: dict) -> None:
    sized = _with_funnel_sizes(report)
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


def test_a_report_without_chars_or_tokens_shows_dashes(report: dict) -> None:
    older = copy.deepcopy(report)
    for src in older["sources"].values():
        src.pop("funnel_tokens", None)
        for step in src["funnel"]:
            step.pop("chars", None)
            step.pop("tokens", None)
    row = {r[0]: r for r in parse(render_html(older)).cards["web"]}["langid"]
    assert row[FUNNEL_HEAD.index("chars after")] == "–"
    assert row[FUNNEL_HEAD.index("tokens after")] == "–"
    assert "| – | – | – |" in render_markdown(older)


def _failed_run(report: dict) -> dict:
    """What the run driver writes when a run fails after reading and staging."""
    failed = copy.deepcopy(report)
    failed["status"] = "failed"
    failed["error"] = (
        "source 'stdlib': all 95 records rejected: read:missing_text (no field 'text'; "
        "fields seen: content, url)"
    )
    failed["run"]["shards"] = []
    for key in ("total_tokens", "total_docs", "shards_written", "budget_tokens"):
        failed["run"].pop(key, None)
    for src in failed["sources"].values():
        for key in ("tokens_available", "epochs", "achieved_share", "output_docs"):
            src.pop(key, None)
        src["output_tokens"] = None
        src.pop("accounting", None)
        src["funnel"] = src["funnel"][:-1]  # no dedup step
    del failed["dedup"], failed["accounting_ok"]
    return failed


def test_a_failed_run_renders_with_the_error_first(report: dict) -> None:
    failed = _failed_run(report)
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


def test_a_failed_run_with_almost_nothing_in_it_renders(report: dict) -> None:
    bare = {"status": "failed", "error": "config: no sources", "run": {}, "sources": None}
    for out in (render_html(bare), render_markdown(bare)):
        assert "config: no sources" in out


def test_accounting_problems_are_shown_when_a_source_does_not_balance(report: dict) -> None:
    broken = copy.deepcopy(report)
    broken["accounting_ok"] = False
    acc = broken["sources"]["web"]["accounting"]
    problem = "route: 3 staged rows of web/part-0 were neither kept nor removed"
    acc.update(balanced=False, problems=[problem], staged=862, sampled=805, output_rows=2258)
    page, md = render_html(broken), render_markdown(broken)
    assert "Problems found" in page and problem in page
    assert f"- **web:** {problem}" in md
    # a balanced source shows no problems even if the list is not empty
    fine = copy.deepcopy(report)
    fine["sources"]["web"]["accounting"].update(balanced=True, problems=["stale"])
    assert "stale" not in render_html(fine) + render_markdown(fine)


def test_accounting_shows_the_counts_the_run_recorded(report: dict) -> None:
    detailed = copy.deepcopy(report)
    acc = detailed["sources"]["web"]["accounting"]
    acc.update(rejected=acc.get("rejected", acc.get("dropped")), staged=862, sampled=808)
    acc.update(not_sampled=0, output_rows=2258)
    md = render_markdown(detailed)
    head = md.split("## Accounting", 1)[1].split("\n| ", 1)[1].split("\n", 1)[0]
    assert head.startswith("source | input | dropped | staged | duplicates | kept | sampled")
    assert "not sampled | output rows" in head
    assert "| 862 |" in md.split("## Accounting", 1)[1] and "| 2,258 |" in md


def test_repeated_ids_are_a_note_not_an_error(report: dict) -> None:
    noted = copy.deepcopy(report)
    noted["sources"]["news"]["repeated_ids"] = {"ids": 2, "rows": 5, "examples": ["0", "n-7"]}
    noted["sources"]["web"]["repeated_ids"] = {"ids": 0, "rows": 0, "examples": []}
    expected = "news: 2 ids occur on more than one input record (5 records), e.g. '0', 'n-7'"
    page, md = render_html(noted), render_markdown(noted)
    assert expected.replace("'", "&#x27;") in page and '<div class="warn info">' in page
    assert f"> **Note:** {expected}" in md
    for out in (page, md):
        assert "web: 0 ids" not in out
    assert "repeated_ids" not in render_markdown(report)  # absent: nothing to say


def test_compare_stays_readable_at_80_columns(report: dict) -> None:
    old, new = copy.deepcopy(report), copy.deepcopy(report)
    web = new["sources"]["web"]
    web["kept_docs"] = 1000
    web["dropped"]["gopher_repetition:dup_line_chars"] = 1_234_567
    web["output_tokens"] = 12_345_678
    web["epochs"] = 4.6
    new["run"]["config_fingerprint"] = "f" * 64
    console = Console(record=True, width=80)
    labels = {"old_label": "out/llama-before-the-tokenizer-change", "new_label": "out/llama"}
    print_comparison(old, new, console, **labels)
    text = console.export_text()
    assert max(len(line) for line in text.splitlines()) <= 80
    words = set(text.split())
    # numbers, reasons and run labels whole, never cut or folded
    for whole in ("1,234,567", "+1,234,561", "12,345,678", "gopher_repetition:dup_line_chars"):
        assert whole in words, whole
    assert f"{report['sources']['web']['output_tokens']:,}" in words
    assert "…" not in text
    assert "out/llama-before-the-tokenizer-change" in " ".join(text.split())
    lines = text.splitlines()
    at = next(i for i, line in enumerate(lines) if "kept docs" in line)
    old_kept = f"{report['sources']['web']['kept_docs']:,}"
    change = "+192" if old_kept == "808" else None
    cells = re.split(r"\s{2,}", lines[at].strip())
    assert cells[:3] == ["kept docs", old_kept, "1,000"]
    delta = format_delta(
        next(c for c in compare_reports(old, new) if c.source == "web" and c.metric == "kept docs")
    )
    # the relative change goes on the next line when the row does not fit
    assert " ".join([cells[3], lines[at + 1].strip()]) == delta or cells[3] == delta
    assert change is None or delta.startswith(change)
