"""url_filter: UT1-style list files; domains block their subdomains and never look-alikes,
URLs match in normalized form, words match as whole URL words, the allow-list wins, every
drop names its rule and the entry; a missing list is a config error with its key path."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from cleanpipe import Document
from cleanpipe.config import ConfigError, parse_config
from cleanpipe.stages import URLFilter
from cleanpipe.stages.url_filter import load_list, url_words

# The layout of UT1's blacklists (dsi.ut-capitole.fr/blacklists): a comment header, one host
# per line, IP addresses among the domains, `urls` entries without a scheme.
UT1_DOMAINS = """\
# UT1 blacklist, category: tracker (test copy)
tracker.test
adserver.example

203.0.113.7
Metrics.Example.COM.
"""
UT1_URLS = """\
# urls
example.org/ads/banner.html
www.example.net/track/
example.org/Promo?id=7
"""
WORDS = """\
casino
free money
"""


def write(tmp_path: Path, name: str, body: str, newline: str = "\n") -> str:
    path = tmp_path / name
    path.write_bytes(body.replace("\n", newline).encode("utf-8"))
    return str(path)


@pytest.fixture
def lists(tmp_path: Path) -> dict[str, str]:
    return {
        "block_domains": write(tmp_path, "domains", UT1_DOMAINS),
        "block_urls": write(tmp_path, "urls", UT1_URLS, newline="\r\n"),
        "block_words": write(tmp_path, "words", WORDS),
    }


def run(stage: URLFilter, urls: list[str | None]) -> tuple[list[str | None], dict]:
    """URLs kept, and {url: (reason, detail)} of the dropped ones."""
    drops: dict = {}
    stage.on_drop = lambda doc, reason, detail="": drops.__setitem__(
        doc.meta.get("url"), (reason, detail)
    )
    docs = [
        Document(id=str(i), text="page text", meta={} if u is None else {"url": u})
        for i, u in enumerate(urls)
    ]
    return [d.meta.get("url") for d in stage(docs)], drops


def test_a_domain_blocks_itself_and_its_subdomains_never_a_look_alike(lists: dict) -> None:
    stage = URLFilter(block_domains=lists["block_domains"])
    kept, drops = run(
        stage,
        [
            "https://tracker.test/",
            "http://cdn.eu.tracker.test:8080/pixel.gif",
            "https://TRACKER.test./x",
            "https://nottracker.test/",
            "https://tracker.test.org/",
            "https://tracker.testing/",
            "https://metrics.example.com/a",  # listed with capitals and a trailing dot
        ],
    )
    assert kept == [
        "https://nottracker.test/",
        "https://tracker.test.org/",
        "https://tracker.testing/",
    ]
    assert drops["http://cdn.eu.tracker.test:8080/pixel.gif"] == (
        "url_filter:blocked_domain",
        "tracker.test",
    )
    assert drops["https://metrics.example.com/a"] == (
        "url_filter:blocked_domain",
        "metrics.example.com",
    )


def test_ip_entries_match_only_that_address(lists: dict) -> None:
    stage = URLFilter(block_domains=lists["block_domains"])
    kept, drops = run(stage, ["http://203.0.113.7/x", "http://203.0.113.70/", "http://3.0.113.7/"])
    assert kept == ["http://203.0.113.70/", "http://3.0.113.7/"]
    assert drops == {"http://203.0.113.7/x": ("url_filter:blocked_domain", "203.0.113.7")}


def test_urls_match_exactly_in_normalized_form_without_scheme(lists: dict) -> None:
    stage = URLFilter(block_urls=lists["block_urls"])
    kept, drops = run(
        stage,
        [
            "https://example.org/ads/banner.html",
            "http://EXAMPLE.org:80/ads/banner.html#top",  # case of host, default port, fragment
            "https://www.example.org/ads/banner.html",
            "https://example.net/track",  # listed as www.example.net/track/
            "https://example.org/ads/banner.html?v=2",  # another query: another page
            "https://example.org/ads/banner.htm",
            "https://example.org/promo?id=7",  # paths are case-sensitive
            "https://example.org/Promo?id=7",
        ],
    )
    assert kept == [
        "https://example.org/ads/banner.html?v=2",
        "https://example.org/ads/banner.htm",
        "https://example.org/promo?id=7",
    ]
    assert drops["https://example.net/track"] == ("url_filter:blocked_url", "example.net/track")
    assert set(drops.values()) == {
        ("url_filter:blocked_url", "example.org/ads/banner.html"),
        ("url_filter:blocked_url", "example.net/track"),
        ("url_filter:blocked_url", "example.org/Promo?id=7"),
    }


def test_words_match_whole_url_words_not_substrings(lists: dict) -> None:
    stage = URLFilter(block_words=lists["block_words"])
    kept, drops = run(
        stage,
        [
            "https://news.example/online-casino-bonus/",
            "https://news.example/CASINO_royale",
            "https://news.example/%63asino",  # percent-encoded c
            "https://casino.example/",
            "https://news.example/casinos",
            "https://news.example/occasional-notes",
            "https://news.example/get-free-money-now",
            "https://news.example/free/tickets?money=1",  # words apart: no phrase
        ],
    )
    assert kept == [
        "https://news.example/casinos",
        "https://news.example/occasional-notes",
        "https://news.example/free/tickets?money=1",
    ]
    assert drops["https://news.example/get-free-money-now"] == (
        "url_filter:blocked_word",
        "free money",
    )
    assert drops["https://casino.example/"] == ("url_filter:blocked_word", "casino")


def test_the_allow_list_wins_over_every_block_rule(lists: dict, tmp_path: Path) -> None:
    allow = write(tmp_path, "allow", "docs.tracker.test\nexample.org\n")
    stage = URLFilter(allow_domains=allow, **lists)
    kept, drops = run(
        stage,
        [
            "https://docs.tracker.test/casino",  # blocked domain and word, but allowed
            "https://example.org/ads/banner.html",  # blocked url, but allowed
            "https://api.tracker.test/",
        ],
    )
    assert kept == ["https://docs.tracker.test/casino", "https://example.org/ads/banner.html"]
    assert drops == {"https://api.tracker.test/": ("url_filter:blocked_domain", "tracker.test")}


def test_several_list_files_are_united(tmp_path: Path, lists: dict) -> None:
    more = write(tmp_path, "more", "# second list\nspam.example\n")
    stage = URLFilter(block_domains=[lists["block_domains"], more])
    kept, _ = run(stage, ["https://spam.example/", "https://tracker.test/", "https://ok.example/"])
    assert kept == ["https://ok.example/"]


def test_no_list_keeps_every_page() -> None:
    stage = URLFilter()
    urls = ["https://tracker.test/casino", "http://203.0.113.7/", None]
    kept, drops = run(stage, urls)
    assert kept == urls and drops == {}


def test_a_page_without_url_is_kept_unless_asked(lists: dict) -> None:
    kept, _ = run(URLFilter(**lists), [None, ""])
    assert kept == [None, ""]
    kept, drops = run(URLFilter(keep_without_url=False), [None, "https://a.example/"])
    assert kept == ["https://a.example/"]
    assert drops == {None: ("url_filter:no_url", "meta has no url")}


def test_annotate_only_records_the_match_and_keeps_the_page(lists: dict) -> None:
    stage = URLFilter(annotate_only=True, **lists)
    doc = Document(id="1", text="t", meta={"url": "https://ads.tracker.test/"})
    assert list(stage([doc])) == [doc]
    assert doc.meta["url_filter"] == {"rule": "blocked_domain", "entry": "tracker.test"}
    assert stage.stats.would_drop == {"url_filter:blocked_domain": 1}


def test_a_list_is_read_once_per_process_and_again_when_it_changes(tmp_path: Path) -> None:
    path = write(tmp_path, "domains", "a.example\n")
    first = load_list("domains", [path])
    assert load_list("domains", [path]) is first
    Path(path).write_text("a.example\nb.example\n", encoding="utf-8")
    os.utime(path, ns=(1, 1))  # a different modification time, whatever the clock's step
    assert load_list("domains", [path]) == {"a.example", "b.example"}


def test_an_unreadable_byte_in_an_old_list_is_not_fatal(tmp_path: Path) -> None:
    path = tmp_path / "latin1"
    path.write_bytes(b"# liste fran\xe7aise\ntracker.test\n")
    kept, _ = run(URLFilter(block_domains=str(path)), ["https://tracker.test/"])
    assert kept == []


def test_url_words() -> None:
    assert url_words("https://www.Example.com/Free-Money_now?q=casino%20royale") == [
        "https",
        "www",
        "example",
        "com",
        "free",
        "money",
        "now",
        "q",
        "casino",
        "royale",
    ]


def test_a_missing_list_file_is_a_config_error_with_its_key_path(
    jsonl_gz: Path, tmp_path: Path, lists: dict
) -> None:
    config = {
        "output": {"path": str(tmp_path / "out")},
        "sources": {
            "web": {
                "paths": [str(jsonl_gz)],
                "weight": 1.0,
                "stages": [
                    {
                        "url_filter": {
                            "block_domains": [lists["block_domains"], str(tmp_path / "gone")],
                            "block_words": str(tmp_path / "words.txt"),
                        }
                    }
                ],
            }
        },
        "mixture": {"total_tokens": 1000},
    }
    with pytest.raises(ConfigError) as info:
        parse_config(config)
    assert info.value.problems == [
        f"sources.web.stages[0].url_filter: block_domains[1]: list file not found: "
        f"{tmp_path / 'gone'}",
        f"sources.web.stages[0].url_filter: block_words: list file not found: "
        f"{tmp_path / 'words.txt'}",
    ]
