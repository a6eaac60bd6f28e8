"""What the shared view (cleanpipe.report.view, .details) puts into both report.md and
report.html: warnings, accounting, optional sections, dedup clusters, notes; rendered from a
real run of the llama config (tests/report/conftest.py)."""

from __future__ import annotations

import copy

from cleanpipe.report.html import render_html
from cleanpipe.report.markdown import render_markdown


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


def test_dedup_example_clusters_show_their_true_size_and_the_kept_member(report: dict) -> None:
    examples = report["dedup"]["examples"]
    big = examples[0]
    big["size"] = len(big["ids"]) + 4  # a cluster larger than the members listed
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
