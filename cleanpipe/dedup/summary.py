"""The barrier's numbers for the report: clusters and their sizes, removals per source and
reason (url, exact, near), cross-source pairs, and a few example clusters for people to read."""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cleanpipe.dedup.store import SignatureStore

_EXAMPLES = 5
_EXAMPLE_MEMBERS = 5


def report_stats(
    store: SignatureStore,
    drops: pa.Table,
    nodes: np.ndarray,
    roots: np.ndarray,
    keeper_at: np.ndarray,
    codes: np.ndarray,
    names: list[str],
) -> dict[str, Any]:
    """Report data: clusters, removals per source and reason, cross-source pairs, examples."""
    per_source: Counter[str] = Counter()
    for _, batch in store.batches(["source"]):
        counted = pc.value_counts(batch.column(0))
        per_source.update(
            dict(zip(*(counted.field(f).to_pylist() for f in ("values", "counts")), strict=True))
        )
    removed: dict[str, Counter[str]] = {"url": Counter(), "exact": Counter(), "near": Counter()}
    counts = drops.group_by(["source", "reason"]).aggregate([("id", "count")])
    for src, reason, count in zip(*(counts.column(c).to_pylist() for c in range(3)), strict=True):
        removed[reason][src] = count
    cross: Counter[str] = Counter()
    elsewhere = pc.not_equal(drops.column("source"), drops.column("duplicate_of_source"))
    counts = drops.filter(elsewhere).group_by(["source", "duplicate_of_source"])
    counts = counts.aggregate([("id", "count")])
    for src, other, count in zip(*(counts.column(c).to_pylist() for c in range(3)), strict=True):
        cross["\u00d7".join(sorted((src, other)))] += count
    cluster_roots, sizes = np.unique(roots, return_counts=True)
    edges = np.array([2, 3, 4, 5, 10, 100, 1000])
    labels = ["2", "3", "4", "5-9", "10-99", "100-999", "1000-"]
    hist = np.bincount(np.searchsorted(edges, sizes, side="right") - 1, minlength=len(edges))
    return {
        "docs_per_source": dict(sorted(per_source.items())),
        "clusters": int(len(cluster_roots)),
        "removed": drops.num_rows,
        "removed_per_source": dict(sorted(sum(removed.values(), Counter()).items())),
        "removed_url_per_source": dict(sorted(removed["url"].items())),
        "removed_exact_per_source": dict(sorted(removed["exact"].items())),
        "removed_near_per_source": dict(sorted(removed["near"].items())),
        "cross_source": dict(sorted(cross.items())),
        "largest_cluster": int(sizes.max()) if len(sizes) else 0,
        "cluster_sizes": {lab: int(c) for lab, c in zip(labels, hist.tolist(), strict=True) if c},
        "examples": _examples(store, nodes, roots, keeper_at, codes, names, sizes),
    }


def _examples(
    store: SignatureStore,
    nodes: np.ndarray,
    roots: np.ndarray,
    keeper_at: np.ndarray,
    codes: np.ndarray,
    names: list[str],
    sizes: np.ndarray,
) -> list[dict[str, Any]]:
    """A few clusters for people: those spanning sources first, then the largest, then the
    first. Members are listed keeper first, with the first ``head_chars`` of their text.

    ``size`` is the cluster's true size (at most ``_EXAMPLE_MEMBERS`` members are listed);
    ``kept_member`` is the index of the kept member in the lists (always 0, the keeper) and
    ``kept`` its id (ids may repeat, so the index is what marks it)."""
    if not len(sizes):
        return []
    by_root = np.argsort(roots, kind="stable")  # members grouped by cluster, in row order
    first_at = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    grouped = codes[by_root]
    spans = np.minimum.reduceat(grouped, first_at) != np.maximum.reduceat(grouped, first_at)
    chosen = np.lexsort((np.arange(len(sizes)), -sizes, ~spans))[:_EXAMPLES]
    picked = []
    for c in chosen.tolist():
        members = by_root[first_at[c] : first_at[c] + sizes[c]]
        keeper = int(keeper_at[members[0]])
        rest = [int(i) for i in members[:_EXAMPLE_MEMBERS].tolist() if i != keeper]
        picked.append((c, [keeper, *rest][:_EXAMPLE_MEMBERS]))
    rows = np.unique(np.array([nodes[i] for _, m in picked for i in m], dtype=np.int64))
    heads = store.take(["id", "head", "n_chars"], rows)
    found = {
        int(r): (i, h, k)
        for r, i, h, k in zip(
            rows.tolist(),
            heads.column("id").to_pylist(),
            heads.column("head").to_pylist(),
            heads.column("n_chars").to_pylist(),
            strict=True,
        )
    }
    out = []
    for c, members in picked:
        found_rows = [found[int(nodes[i])] for i in members]
        out.append(
            {
                "size": int(sizes[c]),
                "kept": found_rows[0][0],
                "kept_member": 0,
                "ids": [doc_id for doc_id, _, _ in found_rows],
                "sources": [names[codes[i]] for i in members],
                "n_chars": [n_chars for _, _, n_chars in found_rows],
                "texts": [head for _, head, _ in found_rows],
            }
        )
    return out
