"""The barrier side of dedup: which documents of ALL sources to drop as URL, exact or near
duplicates.

The map step (:func:`cleanpipe.dedup.signatures.dedup_signatures`) writes one signature table
per input file. Here, once, over all of them:

0. url (with ``dedup.urls``, :mod:`cleanpipe.dedup.urls`): one capture per normalized URL,
   the newest; the steps below see only the captures it keeps;
1. exact: documents with the same 128-bit hash of their normalized text are one group;
2. near: for each LSH band (Broder 1997; datasketch's ``MinHashLSH``; FineWeb's 14 x 8), the
   band's values are hashed to one uint64 key per document and equal keys are found by sorting
   (:func:`band_collisions`), never with dicts of Python objects: memory is about
   16 bytes x documents per band, and a band (or a slice of its key range) is a unit a
   distributed executor can run (:func:`band_pairs`);
3. candidate pairs are optionally verified by estimated Jaccard similarity;
4. union-find over all pairs (:func:`connected_components`, numpy) gives clusters, and one
   document per cluster is kept (:func:`choose_keepers`).

Row order is the order of the sorted signature paths, then row: "first" is deterministic and
independent of worker count.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from cleanpipe.dedup.config import DedupConfig, MinHashConfig
from cleanpipe.dedup.signatures import band_columns, fixed_binary_to_numpy
from cleanpipe.dedup.store import BATCH_ROWS, SignatureStore, check_meta
from cleanpipe.dedup.summary import report_stats
from cleanpipe.dedup.urls import find_url_duplicates
from cleanpipe.io import fs

__all__ = [
    "DedupResult",
    "band_collisions",
    "band_keys",
    "band_pairs",
    "choose_keepers",
    "connected_components",
    "find_duplicates",
    "find_duplicates_in_tables",
    "spanning_pairs",
]

DROP_SCHEMA = pa.schema(
    [
        pa.field("id", pa.string()),
        pa.field("source", pa.string()),
        pa.field("reason", pa.string()),
        pa.field("duplicate_of", pa.string()),
        pa.field("duplicate_of_source", pa.string()),
        pa.field("file", pa.string()),
        # the row identity: position in ``file`` (user ids repeat; rows never do)
        pa.field("row", pa.int64()),
        pa.field("duplicate_of_file", pa.string()),
        pa.field("duplicate_of_row", pa.int64()),
    ]
)
_EMPTY_PAIRS = np.empty((0, 2), dtype=np.int64)
#: the ``reason`` of a drop: URL dedup, then exact and near content dedup.
REASONS = ("url", "exact", "near")
# Documents per band unit before find_duplicates splits a band by key range (16 B each: 8 GiB).
_UNIT_DOCS = 1 << 29
# Captures per URL-dedup unit before it is split by hash range (about 57 B each: 7.6 GB).
_URL_UNIT_DOCS = 1 << 27
_FILTER_BITS = 1 << 24


# -- pure numpy steps (the units a distributed executor runs) ---------------------------------


def band_keys(values: np.ndarray) -> np.ndarray:
    """One uint64 key per row of a band's hash values ``(docs, rows)``: equal rows give equal
    keys; different rows collide with probability about 2^-64."""
    values = np.asarray(values)
    keys = np.zeros(len(values), dtype=np.uint64)
    mult = np.uint64(0x9E3779B97F4A7C15)
    for col in range(values.shape[1]):
        keys *= mult
        keys += values[:, col].astype(np.uint64)
    keys ^= keys >> np.uint64(33)
    keys *= np.uint64(0xFF51AFD7ED558CCD)
    keys ^= keys >> np.uint64(33)
    return keys


def _member_of(keys: np.ndarray, values: np.ndarray) -> np.ndarray:
    """``np.isin(keys, values)`` for sorted ``values``: a 2^24-bit table of the values' low
    bits rules most keys out at once; binary search only for the rest."""
    mask = np.zeros(len(keys), dtype=bool)
    if not len(values):
        return mask
    low = np.uint64(_FILTER_BITS - 1)
    table = np.zeros(_FILTER_BITS, dtype=bool)
    table[values & low] = True
    for lo in range(0, len(keys), BATCH_ROWS * 16):
        part = keys[lo : lo + BATCH_ROWS * 16]
        maybe = np.flatnonzero(table[part & low])
        idx = np.minimum(np.searchsorted(values, part[maybe]), len(values) - 1)
        mask[lo + maybe] = values[idx] == part[maybe]
    return mask


def band_collisions(keys: np.ndarray, row_ids: np.ndarray | None = None) -> np.ndarray:
    """Candidate pairs of one band: ``(m, 2)`` int64 ``(leader, member)`` for every document
    whose key equals an earlier one's; the leader is the bucket's first row (a star, so a
    bucket of k documents gives k - 1 pairs).

    ``row_ids`` (ascending) names the rows; by default ``arange(len(keys))``. Sort-based: peak
    memory is the keys plus one sorted copy, 16 bytes per document.
    """
    if len(keys) < 2:
        return _EMPTY_PAIRS
    ordered = np.sort(keys)
    repeated = ordered[1:] == ordered[:-1]
    if not repeated.any():
        return _EMPTY_PAIRS
    shared = np.unique(ordered[1:][repeated])
    del ordered, repeated
    rows = np.flatnonzero(_member_of(keys, shared))
    order = np.argsort(keys[rows], kind="stable")
    rows = rows[order]
    bucket = keys[rows]
    new = np.empty(len(rows), dtype=bool)
    new[0] = True
    new[1:] = bucket[1:] != bucket[:-1]
    leaders = rows[new][np.cumsum(new) - 1]
    pairs = np.stack([leaders[~new], rows[~new]], axis=1).astype(np.int64)
    if row_ids is not None:
        pairs = np.asarray(row_ids, dtype=np.int64)[pairs]
    return pairs


def connected_components(pairs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Union-find over ``(m, 2)`` pairs with numpy (hooking and pointer jumping).

    Returns ``(nodes, roots)``: every row that appears in a pair, ascending, and the smallest
    row of its component. Deterministic and independent of pair order.
    """
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    if not len(pairs):
        empty = np.empty(0, dtype=np.int64)
        return empty, empty
    nodes, inverse = np.unique(pairs.ravel(), return_inverse=True)
    inverse = inverse.reshape(-1, 2)
    u, v = inverse[:, 0], inverse[:, 1]
    parent = np.arange(len(nodes))
    while True:
        pu, pv = parent[u], parent[v]
        open_ = pu != pv
        if not open_.any():
            break
        u, v, pu, pv = u[open_], v[open_], pu[open_], pv[open_]
        # Hook the larger root under the smaller one, then flatten every path.
        np.minimum.at(parent, np.maximum(pu, pv), np.minimum(pu, pv))
        while True:
            grand = parent[parent]
            if np.array_equal(grand, parent):
                break
            parent = grand
    return nodes, nodes[parent]


def spanning_pairs(pairs: np.ndarray) -> np.ndarray:
    """The same components as ``pairs`` with at most one pair per member: ``(root, member)``."""
    nodes, roots = connected_components(pairs)
    other = nodes != roots
    return np.stack([roots[other], nodes[other]], axis=1)


def choose_keepers(
    nodes: np.ndarray,
    roots: np.ndarray,
    *,
    keep: str = "first",
    n_chars: np.ndarray | None = None,
    priority: np.ndarray | None = None,
) -> np.ndarray:
    """The row each member of a cluster is kept as (its keeper; the keeper maps to itself).

    ``keep="first"``: the smallest row; ``"longest"``: the most ``n_chars``, ties to the first;
    ``"source_priority"``: the smallest ``priority``, ties to the first.
    """
    if keep == "longest":
        assert n_chars is not None
        secondary = -np.asarray(n_chars, dtype=np.int64)
    elif keep == "source_priority":
        assert priority is not None
        secondary = np.asarray(priority, dtype=np.int64)
    else:
        secondary = np.zeros(len(nodes), dtype=np.int64)
    order = np.lexsort((nodes, secondary, roots))
    sorted_roots = roots[order]
    new = np.empty(len(order), dtype=bool)
    new[:1] = True
    new[1:] = sorted_roots[1:] != sorted_roots[:-1]
    best = nodes[order][new]  # one per cluster, clusters in ascending root order
    cluster_roots = sorted_roots[new]
    return best[np.searchsorted(cluster_roots, roots)]


# -- the result ------------------------------------------------------------------------------


@dataclass
class DedupResult:
    """What the barrier decided: one row per dropped document in ``drops`` (columns ``id``,
    ``source``, ``reason`` ("url", "exact" or "near"), ``duplicate_of`` (the keeper's id),
    ``duplicate_of_source`` and ``file``, the signature file (as given) or ``table i`` the
    drop comes from), ordered by row, and report data in ``stats``."""

    drops: pa.Table = field(default_factory=lambda: DROP_SCHEMA.empty_table())
    stats: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return self.drops.num_rows

    def summary(self) -> dict[str, Any]:
        """The stats for the report (without the config, which the manifest has)."""
        return {k: v for k, v in self.stats.items() if k != "config"}


# -- the barrier -------------------------------------------------------------------------------


def _exact_halves(column: pa.Array) -> np.ndarray:
    return fixed_binary_to_numpy(column, 4).view("<u8").reshape(-1, 2)


def _n_shingles(column: pa.Array) -> np.ndarray:
    return column.to_numpy(zero_copy_only=False) > 0


def _read_keys(
    store: SignatureStore,
    column: str,
    to_keys: Callable[[pa.Array], np.ndarray],
    partition: int = 0,
    partitions: int = 1,
    alive: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Keys of one column for all rows (or for the rows whose key falls in ``partition``, or
    that are ``alive``: then with their row ids), filled batch by batch."""
    if partitions == 1:
        keys = np.empty(store.num_rows, dtype=np.uint64)
        for offset, batch in store.batches([column]):
            keys[offset : offset + batch.num_rows] = to_keys(batch.column(0))
        if alive is None:
            return keys, None
        # filled whole, then compacted: 24 bytes per document at the peak, not the 32 of
        # concatenating per-batch parts
        rows = np.flatnonzero(alive)
        return keys[rows], rows
    parts_k, parts_r = [], []
    for offset, batch in store.batches([column]):
        k = to_keys(batch.column(0))
        keep = k % np.uint64(partitions) == partition
        if alive is not None:
            keep &= alive[offset : offset + batch.num_rows]
        sel = np.flatnonzero(keep)
        parts_k.append(k[sel])
        parts_r.append(sel + offset)
    empty_k, empty_r = np.empty(0, np.uint64), np.empty(0, np.int64)
    return np.concatenate(parts_k or [empty_k]), np.concatenate(parts_r or [empty_r])


def _band_pairs(
    store: SignatureStore,
    config: MinHashConfig,
    band: int,
    partition: int,
    partitions: int,
    alive: np.ndarray | None = None,
) -> np.ndarray:
    def to_keys(column: pa.Array) -> np.ndarray:
        return band_keys(fixed_binary_to_numpy(column, config.rows))

    column = band_columns(config)[band]
    keys, rows = _read_keys(store, column, to_keys, partition, partitions, alive)
    return band_collisions(keys, rows)


def band_pairs(
    signature_paths: Sequence[str],
    config: DedupConfig,
    band: int,
    *,
    partition: int = 0,
    partitions: int = 1,
) -> np.ndarray:
    """One unit of the near-dedup barrier, for a distributed executor: the candidate pairs of
    ``band`` among the documents whose band key falls in ``partition`` of ``partitions``, as
    global rows of the sorted ``signature_paths``. Memory: 16 bytes per document of the unit
    (24 when ``partitions > 1``: the row ids). With ``config.urls`` the captures URL dedup
    removes take no part (it is resolved here first)."""
    assert config.minhash is not None
    store, metas = SignatureStore.from_paths(sorted(signature_paths))
    check_meta(metas, config, sorted(signature_paths))
    alive = _url_survivors(store, config, None)[1] if config.urls else None
    return _band_pairs(store, config.minhash, band, partition, partitions, alive)


def _unique_pairs(pairs: np.ndarray) -> np.ndarray:
    if not len(pairs):
        return _EMPTY_PAIRS
    return np.unique(pairs, axis=0)


def _verify(store: SignatureStore, config: MinHashConfig, pairs: np.ndarray) -> np.ndarray:
    """Estimated Jaccard similarity (share of equal hash values) of every pair, reading one
    band column at a time for the rows involved only."""
    rows = np.unique(pairs)
    iu, iv = np.searchsorted(rows, pairs[:, 0]), np.searchsorted(rows, pairs[:, 1])
    equal = np.zeros(len(pairs), dtype=np.int64)
    for name in band_columns(config):
        values = fixed_binary_to_numpy(store.take([name], rows).column(0), config.rows)
        for lo in range(0, len(pairs), BATCH_ROWS):
            a, b = iu[lo : lo + BATCH_ROWS], iv[lo : lo + BATCH_ROWS]
            equal[lo : lo + len(a)] += (values[a] == values[b]).sum(axis=1)
    return equal / config.num_perm


def _units(n: int, partitions: int | None, unit_docs: int = _UNIT_DOCS) -> int:
    return partitions or max(1, -(-n // unit_docs))


def _url_survivors(
    store: SignatureStore, config: DedupConfig, partitions: int | None
) -> tuple[tuple[np.ndarray, np.ndarray, dict[str, int]], np.ndarray | None]:
    """URL dedup, which runs first: ``((dropped rows, keepers, stats), alive)``, ``alive``
    marking the rows content dedup may see (None: all of them)."""
    found = find_url_duplicates(store, _units(store.num_rows, partitions, _URL_UNIT_DOCS))
    if not len(found[0]):
        return found, None
    alive = np.ones(store.num_rows, dtype=bool)
    alive[found[0]] = False
    return found, alive


def _exact_pairs(store: SignatureStore, alive: np.ndarray | None) -> np.ndarray:
    """Pairs of rows with the same 128-bit exact hash (a star per group), among ``alive``."""
    keys, rows = _read_keys(store, "exact", lambda col: _exact_halves(col)[:, 0], alive=alive)
    pairs = band_collisions(keys, rows)
    del keys, rows
    if len(pairs):  # confirm all 128 bits
        rows = np.unique(pairs)
        full = _exact_halves(store.take(["exact"], rows).column(0))
        iu, iv = np.searchsorted(rows, pairs[:, 0]), np.searchsorted(rows, pairs[:, 1])
        pairs = pairs[(full[iu] == full[iv]).all(axis=1)]
    return pairs


def _near_pairs(
    store: SignatureStore,
    mh: MinHashConfig,
    workdir: str | None,
    partitions: int | None,
    alive: np.ndarray | None,
    stats: dict[str, Any],
) -> np.ndarray:
    """Near-duplicate pairs over every band (a spanning forest unless verified)."""
    valid = store.column_numpy("n_shingles", _n_shingles).astype(bool)
    units = _units(store.num_rows, partitions)
    near = _EMPTY_PAIRS
    candidates = 0
    for band in range(mh.bands):
        for part in range(units):
            pairs = _cached_pairs(workdir, band, part, units, store, mh, alive)
            pairs = pairs[valid[pairs[:, 0]] & valid[pairs[:, 1]]]
            candidates += len(pairs)
            near = np.concatenate((near, pairs))
            # Without verification only connectivity matters: keep a spanning forest.
            near = _unique_pairs(near) if mh.verify_threshold else spanning_pairs(near)
    stats["candidate_pairs"] = candidates
    if mh.verify_threshold is not None and len(near):
        similarity = _verify(store, mh, near)
        stats["verified_pairs"] = int((similarity >= mh.verify_threshold).sum())
        stats["rejected_pairs"] = int((similarity < mh.verify_threshold).sum())
        near = near[similarity >= mh.verify_threshold]
    return near


def _run(
    store: SignatureStore, config: DedupConfig, workdir: str | None, partitions: int | None
) -> tuple[DedupResult, np.ndarray]:
    """The barrier over a store; also returns the global rows of the dropped documents.

    URL dedup goes first and content dedup runs over the captures it keeps, so a content
    cluster never keeps (nor is joined through) a row URL dedup removed."""
    stats: dict[str, Any] = {"docs": store.num_rows, "config": config.to_dict()}
    url_rows = url_keepers = np.empty(0, dtype=np.int64)
    alive = None
    if config.urls:
        (url_rows, url_keepers, url_stats), alive = _url_survivors(store, config, partitions)
        stats.update(url_stats)
    edges: list[np.ndarray] = []
    if config.exact:
        pairs = _exact_pairs(store, alive)
        stats["exact_groups"] = int(len(np.unique(pairs[:, 0])))
        stats["exact_duplicates"] = int(len(pairs))
        edges.append(pairs)
    if config.minhash is not None:
        edges.append(_near_pairs(store, config.minhash, workdir, partitions, alive, stats))
    nodes, roots = connected_components(np.concatenate(edges or [_EMPTY_PAIRS]))
    info = store.take(["id", "source", "n_chars", "exact"], nodes)
    codes, names = _codes(info.column("source"))
    priority = None
    if config.keep == "source_priority":
        rank = {name: i for i, name in enumerate(config.source_priority or [])}
        priority = np.array([rank.get(name, len(rank)) for name in names], dtype=np.int64)[codes]
    keepers = choose_keepers(
        nodes, roots, keep=config.keep, n_chars=info.column("n_chars").to_numpy(), priority=priority
    )
    at = np.searchsorted(nodes, keepers)
    dropped = np.flatnonzero(keepers != nodes)
    if config.exact:
        exact = _exact_halves(info.column("exact").combine_chunks())
        same_text = (exact[dropped] == exact[at[dropped]]).all(axis=1)
    else:
        same_text = np.zeros(len(dropped), dtype=bool)
    reasons = np.concatenate(
        (np.zeros(len(url_rows), np.int8), np.where(same_text, 1, 2).astype(np.int8))
    )
    rows = np.concatenate((url_rows, nodes[dropped]))
    drops = _drop_table(store, rows, np.concatenate((url_keepers, keepers[dropped])), reasons)
    stats.update(report_stats(store, drops, nodes, roots, at, codes, names))
    if not config.urls:  # no empty url table in the reports of runs without URL dedup
        del stats["removed_url_per_source"]
    return DedupResult(drops, stats), np.sort(rows)


def _drop_table(
    store: SignatureStore, rows: np.ndarray, keepers: np.ndarray, reasons: np.ndarray
) -> pa.Table:
    """The drops (``reasons`` as indexes of :data:`REASONS`) in row order, with their ids,
    sources and keepers; each row and keeper named by file and position in it, so a consumer
    of one file reads only its own drops, and finds them by position, never by the user's id."""
    order = np.argsort(rows, kind="stable")
    rows, keepers, reasons = rows[order], keepers[order], reasons[order]
    involved = np.union1d(rows, keepers)
    info = store.take(["id", "source"], involved)
    at, keeper_at = np.searchsorted(involved, rows), np.searchsorted(involved, keepers)
    ids, sources = info.column("id"), info.column("source")
    file, row = store.locate(rows)
    keeper_file, keeper_row = store.locate(keepers)
    reason = pa.DictionaryArray.from_arrays(pa.array(reasons, pa.int8()), pa.array(REASONS))
    return pa.table(
        {
            "id": ids.take(at),
            "source": sources.take(at),
            "reason": reason.cast(pa.string()),
            "duplicate_of": ids.take(keeper_at),
            "duplicate_of_source": sources.take(keeper_at),
            "file": file,
            "row": row,
            "duplicate_of_file": keeper_file,
            "duplicate_of_row": keeper_row,
        },
        schema=DROP_SCHEMA,
    )


def _codes(column: pa.ChunkedArray) -> tuple[np.ndarray, list[str]]:
    """A string column as integer codes and the names they stand for."""
    encoded = column.combine_chunks().dictionary_encode()
    codes = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    return codes, encoded.dictionary.to_pylist()


def _cached_pairs(
    workdir: str | None,
    band: int,
    part: int,
    parts: int,
    store: SignatureStore,
    mh: MinHashConfig,
    alive: np.ndarray | None = None,
) -> np.ndarray:
    """A band unit's pairs, saved in ``workdir`` (if given) under a fingerprint of the inputs,
    so a rerun over the same signature files skips finished units. The cache is local only:
    with a URI ``workdir`` (an object store) nothing is cached. ``alive`` (the rows URL
    dedup kept) follows from the same files, so it is named by whether it is there."""
    if workdir is None or fs.is_uri(workdir):
        return _band_pairs(store, mh, band, part, parts, alive)
    urls = "" if alive is None else "-urls"
    name = f"pairs-{store.fingerprint(mh)}{urls}-band-{band:03d}-part-{part:04d}-of-{parts:04d}.npy"
    path = os.path.join(workdir, name)
    if os.path.exists(path):
        return np.load(path)
    pairs = _band_pairs(store, mh, band, part, parts, alive)
    os.makedirs(workdir, exist_ok=True)
    tmp = f"{path}.tmp.npy"
    np.save(tmp, pairs)
    os.replace(tmp, path)
    return pairs


def find_duplicates(
    signature_paths: Sequence[str],
    config: DedupConfig,
    workdir: str | None = None,
    *,
    partitions: int | None = None,
) -> DedupResult:
    """The barrier over the signature Parquet files of ALL sources.

    Paths are sorted first, so the result does not depend on their order. ``workdir`` keeps
    each band unit's pairs (``pairs-<fingerprint>-band-BBB-part-PPPP-of-NNNN.npy``; the
    fingerprint covers the files and parameters) so a rerun skips finished units.
    ``partitions`` splits each band by key range (default: one unit per 2^29 documents).
    """
    paths = sorted(signature_paths)
    store, metas = SignatureStore.from_paths(paths)
    check_meta(metas, config, paths)
    return _run(store, config, workdir, partitions)[0]


def find_duplicates_in_tables(
    tables: Sequence[pa.Table], config: DedupConfig
) -> tuple[DedupResult, np.ndarray]:
    """The barrier over in-memory signature tables, in the given order (the library stages
    use it). Also returns the rows (over the concatenated tables) of the dropped documents."""
    store, metas = SignatureStore.from_tables(tables)
    check_meta(metas, config, [f"table {i}" for i in range(len(tables))])
    return _run(store, config, None, None)
