"""URL dedup: one capture per normalized URL across ALL sources, the most recent one kept.

Several Common Crawl snapshots hold the same page; a corpus built from them would repeat it
once per snapshot. DCLM and RefinedWeb deduplicate on the URL before any content dedup
(RefinedWeb, Penedo et al. 2023, section 3.3: "URL deduplication" across dumps); we keep the
newest capture (the live version of the page), by ``meta.warc_date``.

Map side, :func:`url_columns`: per document the 128-bit xxh3 hash of
:func:`cleanpipe.io.urls.normalize_url` of ``meta.url`` split into ``url_hash`` (the low 64
bits, what the barrier sorts on; null without a url) and ``url_check`` (the high 64 bits),
and ``url_date``, the capture time in epoch seconds (:data:`MISSING_DATE`, the oldest
possible, when absent or unparsable).

Barrier side, :func:`url_duplicates`: one ``lexsort`` by (url hash, newest first, row); the
first row of each run of equal hashes is the keeper. No per-document Python objects: about
57 bytes per document with a url at the peak (measured), and a hash-range partition of the
rows is a unit on its own (:func:`find_url_duplicates`). Two different URLs share a 64-bit hash with
probability about n^2 / 2^65 over n URLs (2.7% for 10^9); the rows in groups are then
regrouped by the other 64 bits, so a collision costs nothing but is counted
(``url_hash_collisions``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import xxhash

from cleanpipe.document import Document
from cleanpipe.io.urls import normalize_url

if TYPE_CHECKING:
    from cleanpipe.dedup.store import SignatureStore

__all__ = [
    "MISSING_DATE",
    "URL_FIELDS",
    "capture_time",
    "find_url_duplicates",
    "url_columns",
    "url_duplicates",
]

#: the date of a capture without a parsable ``meta.warc_date``: older than any real one.
MISSING_DATE = int(np.iinfo(np.int64).min)
#: the signature-table columns URL dedup reads (written for every document, whatever the
#: config says, so turning ``dedup.urls`` on or off redoes only the barrier).
URL_FIELDS = (
    pa.field("url_hash", pa.uint64()),
    pa.field("url_check", pa.uint64()),
    pa.field("url_date", pa.int64()),
)
_EMPTY = np.empty(0, dtype=np.int64)
_LOW64 = (1 << 64) - 1
# A URL already in normal form (lower-case http(s) scheme and ASCII host, no port, user,
# fragment, trailing dot or empty query): normalize_url would return it unchanged, and
# this match costs ~0.5 us against its ~7 us (urlsplit + urlunsplit). Most crawl URLs are.
_NORMAL = re.compile(r"https?://[a-z0-9-]+(?:\.[a-z0-9-]+)*/[^#?\s]*(?:\?[^#\s]+)?")


def capture_time(value: Any) -> int:
    """Epoch seconds (UTC) of a capture date: an ISO 8601 string as WARC-Date writes it
    (``2024-02-21T10:11:12Z``; fractions of a second are cut, no zone means UTC) or a
    ``datetime`` (a Parquet timestamp column); anything else is :data:`MISSING_DATE`."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            return MISSING_DATE
    if not isinstance(value, datetime):
        return MISSING_DATE
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    try:
        return int(value.timestamp() // 1)
    except (OverflowError, OSError, ValueError):
        return MISSING_DATE


def url_columns(docs: Sequence[Document]) -> list[pa.Array]:
    """The map step's :data:`URL_FIELDS` for a batch: hash halves of the normalized
    ``meta.url`` (null for a document without a url, which is never a URL duplicate) and
    the capture time of ``meta.warc_date``."""
    low: list[int] = []
    high: list[int] = []
    dates: list[int] = []
    missing: list[bool] = []
    for doc in docs:
        url = doc.meta.get("url")
        if not isinstance(url, str) or not url.strip():
            low.append(0), high.append(0), dates.append(MISSING_DATE), missing.append(True)
            continue
        url = url if _NORMAL.fullmatch(url) else normalize_url(url)
        digest = xxhash.xxh3_128_intdigest(url.encode("utf-8", "surrogatepass"))
        low.append(digest & _LOW64), high.append(digest >> 64), missing.append(False)
        dates.append(capture_time(doc.meta.get("warc_date")))
    mask = np.array(missing, dtype=bool)
    return [
        pa.array(low, pa.uint64(), mask=mask),
        pa.array(high, pa.uint64(), mask=mask),
        pa.array(dates, pa.int64()),
    ]


def url_duplicates(
    hashes: np.ndarray, dates: np.ndarray, rows: np.ndarray, checks: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """``(dropped rows, their keepers)`` among captures given by url ``hashes``, capture
    ``dates`` and global ``rows`` (ascending): per hash (and ``checks``, when given) the
    newest capture is kept, ties to the smallest row. Dropped rows come out ascending."""
    if len(rows) < 2:
        return _EMPTY, _EMPTY
    # lexsort is stable and rows ascend, so equal (hash, date) stay in row order; ~date
    # orders newest first without the overflow of -MISSING_DATE
    newest = ~dates
    order = np.lexsort((newest, hashes) if checks is None else (newest, checks, hashes))
    del newest
    same = np.ones(len(order) - 1, dtype=bool)  # same url as the capture before (in order)
    for key in (hashes,) if checks is None else (hashes, checks):
        ranked = key[order]
        same &= ranked[1:] == ranked[:-1]
        del ranked
    first = np.concatenate(([True], ~same))
    del same
    ranked_rows = rows[order]
    del order
    keeper = ranked_rows[first][np.cumsum(first) - 1]
    dropped, keeper = ranked_rows[~first], keeper[~first]
    ascending = np.argsort(dropped, kind="stable")
    return dropped[ascending].astype(np.int64), keeper[ascending].astype(np.int64)


def _captures(
    store: SignatureStore, partition: int, partitions: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(hash, date, row) of the captures with a url whose hash falls in ``partition``, rows
    ascending. One partition is filled in place (24 bytes per document); more are gathered
    per batch (their parts are small)."""
    size = store.num_rows if partitions == 1 else 0
    out = np.empty(size, np.uint64), np.empty(size, np.int64), np.empty(size, np.int64)
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    filled = 0
    for offset, batch in store.batches(["url_hash", "url_date"]):
        column = batch.column(0)
        hashes = column.fill_null(0).to_numpy()
        keep = column.is_valid().to_numpy(zero_copy_only=False)
        if partitions > 1:
            keep &= hashes % np.uint64(partitions) == partition
        sel = np.flatnonzero(keep)
        found = (hashes[sel], batch.column(1).to_numpy()[sel], sel + offset)
        if partitions > 1:
            parts.append(found)
            continue
        for whole, values in zip(out, found, strict=True):
            whole[filled : filled + len(sel)] = values
        filled += len(sel)
    if partitions == 1:
        return out[0][:filled], out[1][:filled], out[2][:filled]
    if not parts:
        return np.empty(0, np.uint64), np.empty(0, np.int64), _EMPTY
    return tuple(np.concatenate(p) for p in zip(*parts, strict=True))  # type: ignore[return-value]


def find_url_duplicates(
    store: SignatureStore, partitions: int = 1
) -> tuple[np.ndarray, np.ndarray, dict[str, int]]:
    """The URL-dedup barrier over a store: ``(dropped rows ascending, their keepers, stats)``.

    Each of ``partitions`` hash ranges is resolved alone (a URL's captures share a hash, so
    never span two): peak memory is about 57 bytes per capture of the largest partition
    (24 for hash, date and row, the rest ``lexsort``'s and the ranked copies).
    The 64-bit groups are confirmed with the other 64 bits of the hash.
    """
    drops, keepers = [_EMPTY], [_EMPTY]
    with_url = collisions = 0
    for part in range(partitions):
        hashes, dates, rows = _captures(store, part, partitions)
        with_url += len(rows)
        dropped, keeper = url_duplicates(hashes, dates, rows)
        if len(dropped):  # confirm with the other 64 bits, reading only the rows in groups
            grouped = np.union1d(dropped, keeper)
            at = np.searchsorted(rows, grouped)
            checks = store.take(["url_check"], grouped).column(0).to_numpy()
            before = len(dropped)
            dropped, keeper = url_duplicates(hashes[at], dates[at], grouped, checks)
            collisions += before - len(dropped)
        drops.append(dropped)
        keepers.append(keeper)
    dropped, keeper = np.concatenate(drops), np.concatenate(keepers)
    order = np.argsort(dropped, kind="stable")
    stats = {
        "url_docs": with_url,
        "url_groups": int(len(np.unique(keeper))),
        "url_duplicates": int(len(dropped)),
        "url_hash_collisions": collisions,
    }
    return dropped[order], keeper[order], stats
