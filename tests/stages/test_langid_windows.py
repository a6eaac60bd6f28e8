"""LanguageID's windows: which characters of a text fastText reads (real sample pages)."""

from __future__ import annotations

import gzip
import json
from itertools import pairwise
from pathlib import Path

import pytest

from cleanpipe.config import ConfigError, parse_config
from cleanpipe.stages import LanguageID
from cleanpipe.stages.langid import WINDOW_CHARS, WINDOWS, prepare_text

REPO = Path(__file__).resolve().parents[2]
BUDGET = WINDOWS * WINDOW_CHARS


@pytest.fixture(scope="module")
def web() -> dict[str, str]:
    """The sample's web pages by id (python docs in English, Debian Reference translations)."""
    pages = {}
    for path in sorted((REPO / "sample_data/web").glob("*.jsonl.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            for line in fh:
                try:
                    record = json.loads(line)
                    pages[record["id"]] = record["text"]
                except (ValueError, KeyError):
                    continue  # the sample's deliberately broken lines
    return pages


@pytest.fixture(scope="module")
def by_lang() -> dict[str, list[str]]:
    manifest = json.loads((REPO / "sample_data/MANIFEST.json").read_text())
    return manifest["web"]["non_english_by_lang"]


@pytest.fixture(scope="module")
def navigation(web: dict[str, str]) -> str:
    """~1 KB of real English navigation: the python docs' search page and a nav-only page
    (related bar, sidebar, footer) of the sample, as a crawler finds above a page body."""
    head = web["web-001273"] + "\n\n" + web["web-001202"]
    return head[: head.rfind("\n", 0, 1_100)]


def test_english_navigation_over_a_page_in_another_language_is_read_in_that_language(
    web: dict[str, str], by_lang: dict[str, list[str]], navigation: str
) -> None:
    pages, wanted = [], []
    for lang, ids in by_lang.items():  # de es fr it ja pt zh-cn; a body is two of its pages
        pages += [navigation + "\n\n" + web[a] + "\n\n" + web[b] for a, b in pairwise(ids)]
        wanted += [lang.split("-")[0]] * (len(ids) - 1)
    assert len(pages) > 150 and len(navigation) > 1_000
    windows = [lang for lang, _ in LanguageID().predict(pages)]
    head = [lang for lang, _ in LanguageID(window_chars=None, max_chars=BUDGET).predict(pages)]
    assert windows == wanted
    # as many characters from the head alone: mostly the navigation, so mostly English
    assert sum(h != w for h, w in zip(head, wanted, strict=True)) > len(pages) // 2


def test_texts_up_to_the_window_budget_are_read_whole_as_before(web: dict[str, str]) -> None:
    short = [t for t in web.values() if len(t) <= BUDGET]
    assert len(short) >= 40
    for text in short:
        assert prepare_text(text) == text.replace("\n", " ")
    before = LanguageID(window_chars=None).predict(short)  # the first 20,000 characters
    assert LanguageID().predict(short) == before


def test_windows_are_cut_at_whitespace(web: dict[str, str]) -> None:
    page = web["web-000502"]  # "History and License": English prose, 2.9 KB
    assert len(page) > 2 * BUDGET
    line = prepare_text(page)
    assert len(line) <= BUDGET + WINDOWS - 1  # the windows and the spaces joining them
    words = set(page.split())
    assert all(word in words for word in line.split())  # no word cut in half


def test_text_without_spaces_is_cut_where_the_window_ends(
    web: dict[str, str], by_lang: dict[str, list[str]]
) -> None:
    # Japanese runs between spaces are longer than a partial word may be: cut as they are
    text = "".join(web[i] for i in by_lang["ja"]).replace(" ", "").replace("\n", "")
    line = prepare_text(text)
    assert len(line) == BUDGET + WINDOWS - 1
    assert line[:WINDOW_CHARS] == text[:WINDOW_CHARS] and line.endswith(text[-WINDOW_CHARS:])


def test_a_huge_text_costs_the_same_as_a_page(web: dict[str, str]) -> None:
    huge = "\n\n".join(web.values())  # ~5 MB
    line = prepare_text(huge)
    assert len(huge) > 1_000 * len(line) and len(line) <= BUDGET + WINDOWS - 1
    assert line.startswith(" ".join(huge[:WINDOW_CHARS].split()[:3]))


def test_reading_is_deterministic_and_independent_of_the_batch(web: dict[str, str]) -> None:
    texts = [t for t in web.values() if len(t) > BUDGET][:200]
    stage = LanguageID()
    forward = stage.predict(texts)
    backward = stage.predict(texts[::-1])[::-1]
    one_by_one = [stage.predict([t])[0] for t in texts]
    assert forward == backward == one_by_one
    assert [prepare_text(t) for t in texts] == [prepare_text("".join(t)) for t in texts]


def test_max_chars_caps_what_windows_read(web: dict[str, str]) -> None:
    page = web["web-000502"]
    line = prepare_text(page, max_chars=600)
    assert len(line) <= 600 + WINDOWS - 1
    assert prepare_text(page, max_chars=None, window_chars=None) == page.replace("\n", " ")
    assert prepare_text(page, max_chars=700, window_chars=None) == page[:700].replace("\n", " ")
    three = prepare_text(page, windows=3, window_chars=400)
    assert len(three) <= 1_202 and three.startswith(page[:50].replace("\n", " "))


def test_window_parameters_are_checked_in_the_config(jsonl_gz: Path, tmp_path: Path) -> None:
    def langid(params: dict) -> dict:
        return {
            "output": {"path": str(tmp_path / "out")},
            "sources": {"web": {"paths": [str(jsonl_gz)], "weight": 1, "stages": [params]}},
            "mixture": {"total_tokens": 1000},
        }

    # a config that set max_chars before windows existed still parses, and caps the windows
    config = parse_config(langid({"langid": {"max_chars": 5_000}}))
    assert config.sources["web"].stages[0].params == {"max_chars": 5_000}
    for params, wanted in [
        ({"max_chars": 5}, "max_chars 5 cannot hold 10 windows"),
        ({"window_chars": 0}, "window_chars must be at least 1"),
        ({"windows": 0}, "windows must be at least 1"),
    ]:
        with pytest.raises(ConfigError) as info:
            parse_config(langid({"langid": params}))
        (problem,) = info.value.problems
        assert problem.startswith("sources.web.stages[0].langid:") and wanted in problem
