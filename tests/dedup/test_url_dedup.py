"""URL dedup: one capture per normalized URL, the newest kept, before content dedup.

Pages are real: records of the bundled web sample (Python and Debian documentation), given
the URLs and WARC dates that several crawl snapshots of one page would carry.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
import xxhash
from hypothesis import given, settings
from hypothesis import strategies as st

from cleanpipe import Document
from cleanpipe.dedup import DedupConfig, dedup_signatures, find_duplicates_in_tables
from cleanpipe.dedup.store import SignatureStore
from cleanpipe.dedup.urls import (
    _NORMAL,
    MISSING_DATE,
    capture_time,
    find_url_duplicates,
    url_columns,
    url_duplicates,
)
from cleanpipe.io.urls import normalize_url
from tests.dedup.corpus import web_sample

URLS_ONLY = DedupConfig(exact=False, minhash=None, urls=True)
RE_PAGE = "https://docs.python.org/3.11/library/re.html"


def _sample_texts(n: int) -> list[str]:
    """The first ``n`` distinct pages of the web sample."""
    return list(dict.fromkeys(r["text"] for r in web_sample()))[:n]


TEXTS = _sample_texts(8)


def _doc(i: int, url: object = None, date: object = None, text: str | None = None) -> Document:
    meta = {} if url is None else {"url": url}
    if date is not None:
        meta["warc_date"] = date
    return Document(id=f"web-{i}", text=TEXTS[i] if text is None else text, source="web", meta=meta)


def _drops(tables: list[list[Document]], config: DedupConfig = URLS_ONLY) -> list[tuple]:
    result, _ = find_duplicates_in_tables([dedup_signatures(t, config) for t in tables], config)
    columns = ("id", "reason", "duplicate_of")
    return list(zip(*(result.drops.column(c).to_pylist() for c in columns), strict=True))


def test_newest_capture_is_kept_whichever_file_is_read_first() -> None:
    old = _doc(0, RE_PAGE, "2023-06-01T08:00:00Z")
    new = _doc(1, RE_PAGE, "2024-02-21T10:11:12Z")
    assert _drops([[old], [new]]) == [("web-0", "url", "web-1")]
    assert _drops([[new], [old]]) == [("web-0", "url", "web-1")]


def test_the_newest_of_three_snapshots_survives_and_names_itself_as_keeper() -> None:
    captures = [
        _doc(0, RE_PAGE, "2023-01-30T00:00:00Z"),
        _doc(1, RE_PAGE, "2024-04-12T09:30:00Z"),
        _doc(2, RE_PAGE, "2023-11-02T17:45:10Z"),
    ]
    assert _drops([captures]) == [("web-0", "url", "web-1"), ("web-2", "url", "web-1")]


def test_scheme_host_case_default_port_and_fragment_variants_are_one_url() -> None:
    variants = [
        _doc(0, "HTTPS://Docs.Python.ORG/3.11/library/re.html", "2024-01-01T00:00:00Z"),
        _doc(1, "https://docs.python.org:443/3.11/library/re.html#module-re", "2023-01-01"),
        _doc(2, "https://docs.python.org./3.11/library/re.html#re.sub", "2022-01-01T00:00:00Z"),
    ]
    assert _drops([variants]) == [("web-1", "url", "web-0"), ("web-2", "url", "web-0")]


def test_path_case_query_scheme_and_other_ports_stay_distinct() -> None:
    distinct = [
        _doc(0, RE_PAGE, "2024-01-01T00:00:00Z"),
        _doc(1, "https://docs.python.org/3.11/Library/re.html", "2023-01-01T00:00:00Z"),
        _doc(2, f"{RE_PAGE}?page=2", "2023-01-01T00:00:00Z"),
        _doc(3, "http://docs.python.org/3.11/library/re.html", "2023-01-01T00:00:00Z"),
        _doc(4, "https://docs.python.org:8443/3.11/library/re.html", "2023-01-01T00:00:00Z"),
        # the sample's mirrors of a page differ by host: near duplicates, never URL ones
        _doc(5, "https://mirror1.example.net/python-docs/library/re.html", "2023-01-01T00:00:00Z"),
    ]
    assert _drops([distinct]) == []


def test_documents_without_a_url_are_never_url_duplicates() -> None:
    same_text = TEXTS[0]
    docs = [
        _doc(0, None, "2024-01-01T00:00:00Z", text=same_text),
        _doc(1, "", "2023-01-01T00:00:00Z", text=same_text),
        _doc(2, "   ", None, text=same_text),
        _doc(3, 12345, None, text=same_text),
        _doc(4, None, None, text=same_text),
    ]
    table = dedup_signatures(docs, URLS_ONLY)
    assert table.column("url_hash").null_count == 5
    assert _drops([docs]) == []


def test_a_missing_or_unparsable_date_is_older_than_any_date() -> None:
    docs = [
        _doc(0, RE_PAGE, None),
        _doc(1, RE_PAGE, "last Tuesday"),
        _doc(2, RE_PAGE, "1996-12-31T23:59:59Z"),
    ]
    assert _drops([docs]) == [("web-0", "url", "web-2"), ("web-1", "url", "web-2")]


def test_equal_dates_go_to_input_order_whatever_their_notation() -> None:
    docs = [
        _doc(0, RE_PAGE, "2024-02-21T12:11:12+02:00"),
        _doc(1, RE_PAGE, "2024-02-21T10:11:12Z"),
        _doc(2, RE_PAGE, "2024-02-21T10:11:12.750Z"),  # fractions of a second are cut
    ]
    assert _drops([docs[:2], docs[2:]]) == [("web-1", "url", "web-0"), ("web-2", "url", "web-0")]
    assert _drops([docs[2:], docs[:2]]) == [("web-0", "url", "web-2"), ("web-1", "url", "web-2")]


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("2024-02-21T10:11:12Z", 1708510272),
        ("2024-02-21T10:11:12", 1708510272),  # no zone: UTC
        (" 2024-02-21T11:11:12+01:00 ", 1708510272),
        ("2024-02-21", 1708473600),
        ("1969-12-31T23:59:59Z", -1),
        ("", MISSING_DATE),
        ("2024-13-01T00:00:00Z", MISSING_DATE),
        (None, MISSING_DATE),
        (1708510272, MISSING_DATE),  # a bare number could be seconds or milliseconds
    ],
)
def test_capture_time_reads_warc_dates(value: object, seconds: int) -> None:
    assert capture_time(value) == seconds


def test_url_dedup_on_its_own_leaves_identical_texts_under_other_urls() -> None:
    docs = [
        _doc(0, RE_PAGE, "2023-01-01T00:00:00Z"),
        _doc(1, "https://docs.python.org/3.11/library/os.html", text=TEXTS[0]),
    ]
    assert _drops([docs]) == []
    content = DedupConfig(urls=False)
    assert _drops([docs], content) == [("web-1", "exact", "web-0")]


def test_content_dedup_never_keeps_a_capture_url_dedup_removed() -> None:
    # web-0, an old capture of re.html, has the text web-2 carries under another URL; its
    # newer capture web-1 has new text. Content dedup alone keeps web-0 (the first); with
    # URL dedup first, web-0 is gone and web-2 is the only copy of that text left.
    docs = [
        _doc(0, RE_PAGE, "2023-01-01T00:00:00Z"),
        _doc(1, RE_PAGE, "2024-01-01T00:00:00Z"),
        _doc(2, "https://archive.example.org/docs.python.org/library/re.html", text=TEXTS[0]),
    ]
    both = DedupConfig(urls=True)
    assert _drops([docs], DedupConfig()) == [("web-2", "exact", "web-0")]
    assert _drops([docs], both) == [("web-0", "url", "web-1")]


def test_near_duplicates_are_clustered_among_the_kept_captures_only() -> None:
    edited = TEXTS[3].replace("\n\n", "\n\n\n", 3) + "\n\nLast updated on Feb 21, 2024."
    docs = [
        _doc(0, RE_PAGE, "2023-01-01T00:00:00Z", text=TEXTS[3]),
        _doc(1, RE_PAGE, "2024-01-01T00:00:00Z", text=TEXTS[4]),
        _doc(2, "https://mirror1.example.net/python-docs/library/re.html", text=edited),
        _doc(3, "https://docs-mirror.example.com/py/library/re.html", text=edited + " Mirror."),
    ]
    drops = _drops([docs], DedupConfig(urls=True))
    assert drops[0] == ("web-0", "url", "web-1")
    assert drops[1:] == [("web-3", "near", "web-2")]


def _store(docs: list[Document]) -> SignatureStore:
    return SignatureStore.from_tables([dedup_signatures(docs, URLS_ONLY)])[0]


def test_a_64_bit_hash_collision_is_split_by_the_other_64_bits() -> None:
    docs = [
        _doc(0, RE_PAGE, "2023-01-01T00:00:00Z"),
        _doc(1, "https://docs.python.org/3.11/library/os.html", "2024-01-01T00:00:00Z"),
        _doc(2, RE_PAGE, "2022-01-01T00:00:00Z"),
    ]
    table = dedup_signatures(docs, URLS_ONLY)
    forced = pa.array(np.full(3, table.column("url_hash")[0].as_py(), dtype=np.uint64))
    table = table.set_column(table.schema.get_field_index("url_hash"), "url_hash", forced)
    dropped, keepers, stats = find_url_duplicates(SignatureStore.from_tables([table])[0])
    assert dropped.tolist() == [2] and keepers.tolist() == [0]
    assert stats["url_hash_collisions"] == 1
    assert stats["url_duplicates"] == 1


def test_hash_range_partitions_give_the_same_answer_as_one() -> None:
    urls = [RE_PAGE, f"{RE_PAGE}?page=2", "https://www.debian.org/doc/manuals/debian-reference/"]
    docs = [_doc(i, urls[i % 3], f"20{10 + i}-01-01T00:00:00Z") for i in range(8)]
    store = _store(docs)
    whole = find_url_duplicates(store, partitions=1)
    for parts in (2, 3, 7):
        split = find_url_duplicates(store, partitions=parts)
        assert split[0].tolist() == whole[0].tolist()
        assert split[1].tolist() == whole[1].tolist()
    assert whole[2]["url_groups"] == 3 and whole[2]["url_duplicates"] == 5


def test_url_duplicates_sorts_by_hash_then_newest_then_row() -> None:
    hashes = np.array([7, 3, 7, 3, 7], dtype=np.uint64)
    dates = np.array([5, MISSING_DATE, 9, MISSING_DATE, 9], dtype=np.int64)
    rows = np.array([10, 11, 12, 13, 14], dtype=np.int64)
    dropped, keepers = url_duplicates(hashes, dates, rows)
    assert dropped.tolist() == [10, 13, 14]
    assert keepers.tolist() == [12, 11, 12]


_PIECES = st.lists(
    st.sampled_from(list("aZ9-.") + ["/", "?", "#", ":", "@", " ", "%2F", "\t", "é", "..", ":80"]),
    max_size=12,
).map("".join)


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(["http://", "https://", "HTTP://", "ftp://", ""]), _PIECES, _PIECES)
def test_the_fast_path_hashes_exactly_what_normalize_url_gives(
    scheme: str, host: str, rest: str
) -> None:
    url = f"{scheme}{host}/{rest}"
    if _NORMAL.fullmatch(url):
        assert normalize_url(url) == url
    digest = xxhash.xxh3_128_intdigest(normalize_url(url).encode("utf-8", "surrogatepass"))
    column = url_columns([Document(id="u", text="", meta={"url": url})])[0]
    if url.strip():
        assert column[0].as_py() == digest & ((1 << 64) - 1)


def test_the_fast_path_takes_the_sample_urls_it_may_and_changes_none() -> None:
    urls = [r["url"] for r in web_sample()]
    fast = [u for u in urls if _NORMAL.fullmatch(u)]
    assert len(fast) > 0.95 * len(urls)  # crawl URLs are mostly in normal form already
    assert all(normalize_url(u) == u for u in fast)
    assert not _NORMAL.fullmatch("https://docs.python.org/3.11/library/colorsys.html#top")


def test_without_url_dedup_the_stats_have_no_url_entries() -> None:
    docs = [_doc(0, RE_PAGE, "2023-01-01"), _doc(1, RE_PAGE, "2024-01-01")]
    config = DedupConfig()
    result, _ = find_duplicates_in_tables([dedup_signatures(docs, config)], config)
    assert len(result) == 0
    assert not [key for key in result.stats if key.startswith(("url_", "removed_url"))]
