"""ExactDedup and MinHashDedup over an iterable: quality on real text with controlled edits,
keeper policies, annotate_only and the stage bookkeeping."""

from __future__ import annotations

import random
from collections import Counter, defaultdict

from cleanpipe.document import Document
from cleanpipe.stages import ExactDedup, MinHashDedup
from tests.dedup.corpus import TEXT, edited_corpus, max_partner_similarity, variants


def test_near_duplicates_are_found_and_unique_documents_kept():
    docs, pairs = edited_corpus()
    stage = MinHashDedup()
    kept = {d.id for d in stage(docs)}
    drops = stage.result.drops.to_pydict()
    keeper = dict(zip(drops["id"], drops["duplicate_of"], strict=True))
    cluster = {doc_id: keeper.get(doc_id, doc_id) for doc_id in (d.id for d in docs)}

    high = [(a, b) for a, b, sim in pairs if sim >= 0.85]
    merged = sum(cluster[a] == cluster[b] for a, b in high)
    recall = merged / len(high)
    assert len(high) >= 100
    assert recall >= 0.95, f"recall {recall:.3f} on {len(high)} pairs with Jaccard >= 0.85"

    best = max_partner_similarity(docs)
    lonely = [doc_id for doc_id, sim in best.items() if sim <= 0.5]
    removed = sum(doc_id not in kept for doc_id in lonely)
    assert len(lonely) >= 300
    assert removed / len(lonely) <= 0.005, f"{removed} of {len(lonely)} removed"

    # No cluster loses all its members: every drop points at a kept document.
    assert set(drops["duplicate_of"]) <= kept
    assert len(kept) + len(drops["id"]) == len(docs)


def test_verification_rejects_low_similarity_candidates():
    docs, pairs = edited_corpus()
    plain = MinHashDedup(bands=20, rows=3)  # a permissive S-curve (threshold ~0.37)
    list(plain(docs))
    checked = MinHashDedup(bands=20, rows=3, verify_threshold=0.7)
    list(checked(docs))
    assert checked.result.stats["rejected_pairs"] > 0
    assert len(checked.result) < len(plain.result)
    low = {b for _, b, sim in pairs if sim < 0.5}
    assert not low & set(checked.result.drops.column("id").to_pylist())


def test_exact_dedup_keeps_one_copy_across_sources():
    stage = ExactDedup()
    kept = [d.id for d in stage(variants())]
    assert kept == ["web-1", "code-1"]
    assert stage.stats.dropped == Counter({"dedup:exact": 2})
    assert stage.result.stats["cross_source"] == {"books\u00d7web": 1}


def test_keep_longest():
    kept = [d.id for d in ExactDedup(keep="longest")(variants())]
    assert kept == ["books-1", "code-1"]


def test_keep_by_source_priority():
    stage = MinHashDedup(keep="source_priority", source_priority=["books", "web"])
    kept = [d.id for d in stage(variants())]
    assert kept == ["books-1", "code-1"]
    drops = stage.result.drops.to_pydict()
    assert drops["duplicate_of"] == ["books-1", "books-1"]
    assert drops["reason"] == ["exact", "exact"]


def test_near_copy_is_reported_as_near():
    near = Document(id="web-3", text=TEXT.replace(TEXT.split()[10], "changed", 1), source="web")
    stage = MinHashDedup()
    kept = [d.id for d in stage([*variants(), near])]
    assert kept == ["web-1", "code-1"]
    assert stage.stats.dropped == Counter({"dedup:exact": 2, "dedup:near": 1})


def test_annotate_only_drops_nothing():
    stage = ExactDedup(annotate_only=True)
    out = list(stage(variants()))
    assert len(out) == 4
    assert out[1].meta["duplicate_of"] == "web-1"
    assert stage.stats.would_drop == Counter({"dedup:exact": 2})


def test_stage_takes_one_shot_iterators_and_shuffled_input_gives_the_same_clusters():
    docs, _ = edited_corpus()
    docs = docs[:300]

    def clusters(stage: MinHashDedup, items) -> set[frozenset[str]]:
        list(stage(items))
        groups = defaultdict(set)
        for drop, keeper in zip(
            stage.result.drops.column("id").to_pylist(),
            stage.result.drops.column("duplicate_of").to_pylist(),
            strict=True,
        ):
            groups[keeper] |= {drop, keeper}
        return {frozenset(g) for g in groups.values()}

    shuffled = docs[:]
    random.Random(1).shuffle(shuffled)
    first = MinHashDedup(keep="longest")
    second = MinHashDedup(keep="longest")
    assert clusters(first, iter(docs)) == clusters(second, iter(shuffled))
    assert clusters(first, iter(docs))  # there are clusters at all


def test_drops_are_counted_and_handed_to_on_drop_like_any_stage_s():
    docs = variants()
    stage = ExactDedup()
    seen = []
    stage.on_drop = lambda doc, reason, detail="": seen.append((doc.id, reason, detail))
    kept = list(stage(docs))
    assert seen == [("books-1", "dedup:exact", ""), ("web-2", "dedup:exact", "")]
    stats = stage.stats
    assert (stats.docs_in, stats.docs_out) == (4, 2)
    assert stats.chars_in == sum(len(d.text) for d in docs)
    assert stats.chars_out == sum(len(d.text) for d in kept)
    assert stats.dropped_chars["dedup:exact"] == len(docs[1].text) + len(docs[3].text)
