"""The barrier side of dedup: determinism over signature files, the drops and report stats it
returns, band units, and the pure numpy steps (collisions, components, keepers)."""

from __future__ import annotations

import random

import numpy as np
import pytest

from cleanpipe.dedup import DedupConfig, DedupResult, MinHashConfig, band_pairs, find_duplicates
from cleanpipe.dedup.clusters import (
    band_collisions,
    band_keys,
    choose_keepers,
    connected_components,
)
from tests.dedup.corpus import edited_corpus, variants, write_signatures


def _same(a: DedupResult, b: DedupResult) -> bool:
    return a.drops.equals(b.drops) and a.stats == b.stats


def test_find_duplicates_is_deterministic_and_independent_of_path_order_and_batching(tmp_path):
    docs, _ = edited_corpus()
    docs = docs[:400]
    config = DedupConfig(keep="source_priority", source_priority=["books"])
    paths = write_signatures(tmp_path / "a", docs, config, 64)
    other = write_signatures(tmp_path / "b", docs, config, 500)
    result = find_duplicates(paths, config)
    assert len(result) > 0
    shuffled = paths[:]
    random.Random(3).shuffle(shuffled)
    assert _same(find_duplicates(shuffled, config), result)
    assert _same(find_duplicates(paths, config, partitions=3), result)
    # other files: the same drops and stats; only where each drop (and its keeper) is, file and
    # row, names the other files
    batched = find_duplicates(other, config)
    assert batched.stats == result.stats
    where = ["file", "row", "duplicate_of_file", "duplicate_of_row"]
    assert batched.drops.drop_columns(where).equals(result.drops.drop_columns(where))
    assert set(batched.drops.column("file").to_pylist()) <= set(other)


def test_rerun_with_a_workdir_reuses_band_units_and_names_keepers(tmp_path):
    docs = variants()
    config = DedupConfig()
    paths = write_signatures(tmp_path / "sig", docs, config, 10)
    result = find_duplicates(paths, config, workdir=str(tmp_path / "work"))
    cached = sorted(p.name for p in (tmp_path / "work").iterdir())
    assert len(cached) == 14 and cached[0].endswith("-band-000-part-0000-of-0001.npy")
    assert _same(find_duplicates(paths, config, workdir=str(tmp_path / "work")), result)
    # books sorts before web, so the books copy is "first seen".
    assert result.drops.to_pydict() == {
        "id": ["web-1", "web-2"],
        "source": ["web", "web"],
        "reason": ["exact", "exact"],
        "duplicate_of": ["books-1", "books-1"],
        "duplicate_of_source": ["books", "books"],
        "file": [str(tmp_path / "sig" / "web-00000.sig.parquet")] * 2,
        "row": [0, 1],  # where they are: the ids are the user's, these positions are ours
        "duplicate_of_file": [str(tmp_path / "sig" / "books-00000.sig.parquet")] * 2,
        "duplicate_of_row": [0, 0],
    }
    stats = result.stats
    assert stats["removed_per_source"] == {"web": 2}
    assert stats["removed_exact_per_source"] == {"web": 2}
    assert stats["cross_source"] == {"books\u00d7web": 2}
    assert result.summary()["clusters"] == 1 and "config" not in result.summary()
    example = stats["examples"][0]
    assert example["size"] == 3 and example["kept"] == "books-1"
    assert example["ids"] == ["books-1", "web-1", "web-2"]
    assert example["sources"] == ["books", "web", "web"]
    assert example["texts"][0] == " ".join(docs[1].text.split())[:80]


def test_signatures_made_with_other_parameters_are_refused(tmp_path):
    paths = write_signatures(tmp_path, variants(), DedupConfig(), 10)
    other = DedupConfig(minhash=MinHashConfig(bands=9, rows=13))
    with pytest.raises(ValueError, match="recompute the signatures"):
        find_duplicates(paths, other)


def test_band_pairs_is_a_unit_per_band_and_partition(tmp_path):
    docs, _ = edited_corpus()
    config = DedupConfig()
    paths = write_signatures(tmp_path, docs[:200], config, 50)
    whole = band_pairs(paths, config, band=3)
    parts = np.concatenate(
        [band_pairs(paths, config, 3, partition=p, partitions=4) for p in range(4)]
    )
    assert {tuple(p) for p in whole.tolist()} == {tuple(p) for p in parts.tolist()}


def test_band_collisions_pairs_every_member_with_the_first_of_its_bucket():
    values = np.array([[1, 2], [3, 4], [1, 2], [5, 6], [1, 2], [3, 4]], dtype=np.uint32)
    pairs = band_collisions(band_keys(values))
    assert sorted(map(tuple, pairs.tolist())) == [(0, 2), (0, 4), (1, 5)]
    ids = np.array([10, 11, 12, 13, 14, 15])
    assert sorted(map(tuple, band_collisions(band_keys(values), ids).tolist())) == [
        (10, 12),
        (10, 14),
        (11, 15),
    ]
    assert band_collisions(band_keys(values[[0, 1, 3]])).shape == (0, 2)


def test_connected_components_is_order_independent():
    pairs = np.array([[5, 9], [1, 2], [9, 2], [7, 8], [20, 30], [30, 40]])
    nodes, roots = connected_components(pairs)
    assert nodes.tolist() == [1, 2, 5, 7, 8, 9, 20, 30, 40]
    assert roots.tolist() == [1, 1, 1, 7, 7, 1, 20, 20, 20]
    rng = np.random.default_rng(0)
    for _ in range(5):
        shuffled = pairs[rng.permutation(len(pairs))][:, rng.permutation(2)]
        again = connected_components(shuffled)
        assert again[0].tolist() == nodes.tolist() and again[1].tolist() == roots.tolist()
    chain = np.stack([np.arange(999, 0, -1), np.arange(998, -1, -1)], axis=1)
    assert set(connected_components(chain)[1].tolist()) == {0}


def test_choose_keepers_policies():
    nodes = np.array([1, 2, 3, 4, 5])
    roots = np.array([1, 1, 1, 4, 4])
    assert choose_keepers(nodes, roots).tolist() == [1, 1, 1, 4, 4]
    n_chars = np.array([10, 30, 30, 5, 6])
    assert choose_keepers(nodes, roots, keep="longest", n_chars=n_chars).tolist() == [2, 2, 2, 5, 5]
    priority = np.array([1, 1, 0, 2, 2])
    got = choose_keepers(nodes, roots, keep="source_priority", priority=priority)
    assert got.tolist() == [3, 3, 3, 4, 4]
