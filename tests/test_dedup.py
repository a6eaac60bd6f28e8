"""Exact and MinHash deduplication: datasketch equality, quality on real text with controlled
edits, keeper policies, determinism, and the barrier's contracts."""

from __future__ import annotations

import ast
import json
import random
import sysconfig
import unicodedata
from collections import Counter, defaultdict
from functools import lru_cache
from pathlib import Path

import datasketch
import numpy as np
import pyarrow.parquet as pq
import pytest

from cleanpipe.dedup_index import (
    DedupResult,
    band_collisions,
    band_keys,
    band_pairs,
    choose_keepers,
    connected_components,
    find_duplicates,
)
from cleanpipe.document import Document
from cleanpipe.stages.dedup import (
    DedupConfig,
    ExactDedup,
    MinHashConfig,
    MinHashDedup,
    dedup_signatures,
    exact_hash,
    minhash_signatures,
    normalize,
    shingles,
    signature_matrix,
)

# -- real text ---------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _docstrings() -> tuple[str, ...]:
    """Docstrings of the standard library, whitespace collapsed: real English prose."""
    root = Path(sysconfig.get_paths()["stdlib"])
    found = []
    for path in sorted(root.glob("*.py")):
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (SyntaxError, UnicodeDecodeError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef):
                doc = ast.get_docstring(node)
                if doc and len(doc.split()) >= 20:
                    found.append(doc)
    return tuple(found)


def _shingle_set(text: str, n: int = 5) -> set[tuple[str, ...]]:
    words = normalize(text).split(" ")
    return {tuple(words[i : i + n]) for i in range(max(len(words) - n + 1, 1))}


def _jaccard(a: set, b: set) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0


@lru_cache(maxsize=1)
def _base_docs() -> tuple[str, ...]:
    """Documents of >= 120 words of consecutive docstrings, none sharing more than 0.3
    Jaccard (5-word shingles) with another."""
    docs, current = [], []
    for doc in _docstrings():
        current.append(doc)
        if sum(len(d.split()) for d in current) >= 120:
            docs.append("\n\n".join(current))
            current = []
    kept: list[str] = []
    index: dict[tuple[str, ...], list[int]] = defaultdict(list)
    sets: list[set] = []
    for text in docs:
        s = _shingle_set(text)
        shared = Counter(j for sh in s for j in index.get(sh, ()))
        if any(c / len(s | sets[j]) > 0.3 for j, c in shared.items()):
            continue
        for sh in s:
            index[sh].append(len(kept))
        kept.append(text)
        sets.append(s)
    return tuple(kept)


def _edit(text: str, rate: float, rng: random.Random, vocab: list[str]) -> str:
    """Substitute, delete or insert words, each word with probability ``rate``."""
    out = []
    for word in text.split():
        r = rng.random()
        if r < rate / 3:
            out.append(rng.choice(vocab))
        elif r < 2 * rate / 3:
            continue
        elif r < rate:
            out.extend([word, rng.choice(vocab)])
        else:
            out.append(word)
    return " ".join(out)


@lru_cache(maxsize=1)
def _edited_corpus() -> tuple[list[Document], list[tuple[str, str, float]]]:
    """Base documents in "books" or "web", and for 60% of them an edited copy in the other
    source, with exact Jaccard from 0.3 to 1. Returns the documents (shuffled) and the
    (original id, copy id, Jaccard) of every pair."""
    rng = random.Random(5)
    base = _base_docs()
    vocab = sorted({w for text in base[:50] for w in text.split()})
    docs, pairs = [], []
    for i, text in enumerate(base):
        source = "books" if i % 2 else "web"
        docs.append(Document(id=f"{source}-{i}", text=text, source=source))
        if rng.random() < 0.6:
            rate = rng.choice([0.0, 0.0, 0.01, 0.02, 0.03, 0.05, 0.08, 0.12])
            copy = _edit(text, rate, rng, vocab)
            if rate == 0.0:  # a copy that differs in case, punctuation and spacing only
                copy = copy.upper().replace(". ", " ... ")
            other = "web" if source == "books" else "books"
            docs.append(Document(id=f"{other}-copy-{i}", text=copy, source=other))
            sim = _jaccard(_shingle_set(text), _shingle_set(copy))
            pairs.append((docs[-2].id, docs[-1].id, sim))
    rng.shuffle(docs)
    return docs, pairs


def _max_partner_similarity(docs: list[Document]) -> dict[str, float]:
    """Exact max Jaccard of every document with any other (inverted index over shingles)."""
    sets = [_shingle_set(d.text) for d in docs]
    index: dict[tuple[str, ...], list[int]] = defaultdict(list)
    for i, s in enumerate(sets):
        for sh in s:
            index[sh].append(i)
    best = {}
    for i, s in enumerate(sets):
        shared = Counter(j for sh in s for j in index[sh] if j != i)
        best[docs[i].id] = max(
            (c / (len(s) + len(sets[j]) - c) for j, c in shared.items()), default=0.0
        )
    return best


# -- normalization and datasketch equality ------------------------------------------------------


def _reference_normalize(text: str) -> str:
    """Character by character: lowercase, words are runs of letters, marks and numbers."""
    words, current = [], []
    for ch in text.lower():
        if unicodedata.category(ch)[0] in "LMN":
            current.append(ch)
        elif current:
            words.append("".join(current))
            current = []
    if current:
        words.append("".join(current))
    return " ".join(words)


def test_normalize_folds_case_whitespace_and_punctuation_like_the_reference():
    samples = [
        *_docstrings()[:200],
        "Don\u2019t  STOP\t\u2014 naïve CAFÉ, 3.14!",
        "\u65e5\u672c\u8a9e\u306e\u30c6\u30ad\u30b9\u30c8\u3002\u3053\u308c\u306f",
        "emoji \U0001f600 and \U0001d518\U0001d52b math letters",
        "",
        "...",
    ]
    for text in samples:
        assert normalize(text) == _reference_normalize(text)
    assert normalize("Hello,   WORLD!!  It's\n\nme.") == "hello world it s me"


@pytest.mark.parametrize(
    "config",
    [
        MinHashConfig(),
        MinHashConfig(shingle="char", ngram=5),
        MinHashConfig(hashfunc="sha1"),
        MinHashConfig(scheme="legacy", seed=42),
        MinHashConfig(shingle="char", ngram=3, hashfunc="sha1", scheme="legacy", bands=9, rows=13),
    ],
    ids=["fast-word", "fast-char", "sha1-word", "legacy", "sha1-char-legacy"],
)
def test_signatures_equal_datasketch_for_the_same_shingles_seed_and_hashfunc(config):
    texts = [
        *_docstrings()[:40],
        "short text",
        "",
        "\u65e5\u672c\u8a9e\u306e\u30c6\u30ad\u30b9\u30c8\u3067\u3059",
        "x" * 200 + " tokens longer than sixty-four bytes take another path",
    ]
    signatures, counts = minhash_signatures(texts, config)
    for text, signature, count in zip(texts, signatures, counts, strict=True):
        reference = datasketch.MinHash(
            num_perm=config.num_perm,
            seed=config.seed,
            hashfunc=config.datasketch_hashfunc(),
            scheme=config.scheme,
        )
        grams = shingles(text, config)
        if grams:
            reference.update_batch(grams)
        assert count == len(grams)
        np.testing.assert_array_equal(signature, reference.hashvalues)


@pytest.mark.parametrize("texts", [["one"], ["a b", "c"], ["", "!!!"], ["ab cd", "ab, CD!"]])
def test_batches_with_fewer_words_than_a_shingle(texts):
    for config in (MinHashConfig(), MinHashConfig(shingle="char", ngram=9)):
        signatures, _ = minhash_signatures(texts, config)
        for text, signature in zip(texts, signatures, strict=True):
            reference = datasketch.MinHash(num_perm=112, hashfunc=config.datasketch_hashfunc())
            if grams := shingles(text, config):
                reference.update_batch(grams)
            np.testing.assert_array_equal(signature, reference.hashvalues)


def test_sha1_mode_equals_datasketch_defaults():
    text = _docstrings()[0]
    ours, _ = minhash_signatures([text], MinHashConfig(hashfunc="sha1", bands=16, rows=8))
    reference = datasketch.MinHash(num_perm=128)  # seed 1, sha1_hash32, affine32
    for gram in shingles(text):
        reference.update(gram)
    np.testing.assert_array_equal(ours[0], reference.hashvalues)


def test_signatures_do_not_depend_on_the_batch():
    texts = list(_docstrings()[:30])
    together, _ = minhash_signatures(texts)
    alone = np.vstack([minhash_signatures([t])[0] for t in texts])
    np.testing.assert_array_equal(together, alone)


def test_finished_run_loads_into_datasketch_lsh():
    """The interop example of docs/dedup.md."""
    config = MinHashConfig()
    docs = [Document(id=f"d{i}", text=t) for i, t in enumerate(_base_docs()[:50])]
    table = dedup_signatures(docs, DedupConfig(minhash=config))
    lsh = datasketch.MinHashLSH(num_perm=config.num_perm, params=(config.bands, config.rows))
    ids, signatures = table.column("id").to_pylist(), signature_matrix(table, config)
    for doc_id, values in zip(ids, signatures, strict=True):
        sketch = datasketch.LeanMinHash(seed=config.seed, hashvalues=values, scheme=config.scheme)
        lsh.insert(doc_id, sketch)
    new = datasketch.MinHash(
        num_perm=config.num_perm, seed=config.seed, hashfunc=config.datasketch_hashfunc()
    )
    new.update_batch(shingles(docs[7].text + " Two more words.", config))
    assert lsh.query(new) == ["d7"]


# -- quality -----------------------------------------------------------------------------------


def test_near_duplicates_are_found_and_unique_documents_kept():
    docs, pairs = _edited_corpus()
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

    best = _max_partner_similarity(docs)
    lonely = [doc_id for doc_id, sim in best.items() if sim <= 0.5]
    removed = sum(doc_id not in kept for doc_id in lonely)
    assert len(lonely) >= 300
    assert removed / len(lonely) <= 0.005, f"{removed} of {len(lonely)} removed"

    # No cluster loses all its members: every drop points at a kept document.
    assert set(drops["duplicate_of"]) <= kept
    assert len(kept) + len(drops["id"]) == len(docs)


def test_verification_rejects_low_similarity_candidates():
    docs, pairs = _edited_corpus()
    plain = MinHashDedup(bands=20, rows=3)  # a permissive S-curve (threshold ~0.37)
    list(plain(docs))
    checked = MinHashDedup(bands=20, rows=3, verify_threshold=0.7)
    list(checked(docs))
    assert checked.result.stats["rejected_pairs"] > 0
    assert len(checked.result) < len(plain.result)
    low = {b for _, b, sim in pairs if sim < 0.5}
    assert not low & set(checked.result.drops.column("id").to_pylist())


def test_s_curve_matches_fineweb():
    config = MinHashConfig()
    assert config.num_perm == 112
    assert config.threshold == pytest.approx(0.719, abs=0.001)
    assert config.probability(0.7) == pytest.approx(0.56, abs=0.01)
    assert config.probability(0.8) == pytest.approx(0.92, abs=0.01)


# -- exact dedup and keeper policies -------------------------------------------------------------

TEXT = _docstrings()[3] if _docstrings() else "The text."


def _variants() -> list[Document]:
    return [
        Document(id="web-1", text=TEXT, source="web"),
        Document(id="books-1", text=TEXT.upper() + "  !!", source="books"),
        Document(id="code-1", text="Different text: " + _docstrings()[4], source="code"),
        Document(id="web-2", text=" ".join(TEXT.split()) + ". ...\n", source="web"),
    ]


def test_exact_dedup_keeps_one_copy_across_sources():
    stage = ExactDedup()
    kept = [d.id for d in stage(_variants())]
    assert kept == ["web-1", "code-1"]
    assert stage.stats.dropped == Counter({"dedup:exact": 2})
    assert stage.result.stats["cross_source"] == {"books\u00d7web": 1}
    assert exact_hash(TEXT) == exact_hash(TEXT.upper() + "!!")
    assert exact_hash(TEXT) != exact_hash(TEXT + " more")


def test_keep_longest():
    kept = [d.id for d in ExactDedup(keep="longest")(_variants())]
    assert kept == ["books-1", "code-1"]


def test_keep_by_source_priority():
    stage = MinHashDedup(keep="source_priority", source_priority=["books", "web"])
    kept = [d.id for d in stage(_variants())]
    assert kept == ["books-1", "code-1"]
    drops = stage.result.drops.to_pydict()
    assert drops["duplicate_of"] == ["books-1", "books-1"]
    assert drops["reason"] == ["exact", "exact"]


def test_near_copy_is_reported_as_near():
    near = Document(id="web-3", text=TEXT.replace(TEXT.split()[10], "changed", 1), source="web")
    stage = MinHashDedup()
    kept = [d.id for d in stage([*_variants(), near])]
    assert kept == ["web-1", "code-1"]
    assert stage.stats.dropped == Counter({"dedup:exact": 2, "dedup:near": 1})


def test_annotate_only_drops_nothing():
    stage = ExactDedup(annotate_only=True)
    out = list(stage(_variants()))
    assert len(out) == 4
    assert out[1].meta["duplicate_of"] == "web-1"
    assert stage.stats.would_drop == Counter({"dedup:exact": 2})


def test_stage_takes_one_shot_iterators_and_shuffled_input_gives_the_same_clusters():
    docs, _ = _edited_corpus()
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


# -- the barrier over signature files -----------------------------------------------------------


def _write_signatures(tmp_path: Path, docs: list[Document], config: DedupConfig, size: int):
    tmp_path.mkdir(parents=True, exist_ok=True)
    paths = []
    for source in sorted({d.source for d in docs}):
        of_source = [d for d in docs if d.source == source]
        for k in range(0, len(of_source), size):
            path = tmp_path / f"{source}-{k // size:05d}.sig.parquet"
            pq.write_table(dedup_signatures(of_source[k : k + size], config), path)
            paths.append(str(path))
    return paths


def test_find_duplicates_is_deterministic_and_independent_of_path_order_and_batching(tmp_path):
    docs, _ = _edited_corpus()
    docs = docs[:400]
    config = DedupConfig(keep="source_priority", source_priority=["books"])
    paths = _write_signatures(tmp_path / "a", docs, config, 64)
    other = _write_signatures(tmp_path / "b", docs, config, 500)
    result = find_duplicates(paths, config)
    assert len(result) > 0
    shuffled = paths[:]
    random.Random(3).shuffle(shuffled)
    assert find_duplicates(shuffled, config).to_json() == result.to_json()
    assert find_duplicates(paths, config, partitions=3).to_json() == result.to_json()
    # other files: the same drops and stats; only where each drop (and its keeper) is, file and
    # row, names the other files
    batched = find_duplicates(other, config)
    assert batched.stats == result.stats
    where = ["file", "row", "duplicate_of_file", "duplicate_of_row"]
    assert batched.drops.drop_columns(where).equals(result.drops.drop_columns(where))
    assert set(batched.drops.column("file").to_pylist()) <= set(other)


def test_result_round_trips_and_names_keepers(tmp_path):
    docs = _variants()
    config = DedupConfig()
    paths = _write_signatures(tmp_path / "sig", docs, config, 10)
    result = find_duplicates(paths, config, workdir=str(tmp_path / "work"))
    cached = sorted(p.name for p in (tmp_path / "work").iterdir())
    assert len(cached) == 14 and cached[0].endswith("-band-000-part-0000-of-0001.npy")
    assert (
        find_duplicates(paths, config, workdir=str(tmp_path / "work")).to_json() == result.to_json()
    )
    assert DedupResult.from_json(result.to_json()).to_json() == result.to_json()
    result.write_parquet(str(tmp_path / "dedup.parquet"))
    again = DedupResult.read_parquet(str(tmp_path / "dedup.parquet"))
    assert again.to_json() == result.to_json()
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
    assert result.drop_ids("web") == {"web-1", "web-2"}
    assert result.drop_ids("books") == set()
    stats = json.loads(result.to_json())["stats"]
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
    paths = _write_signatures(tmp_path, _variants(), DedupConfig(), 10)
    other = DedupConfig(minhash=MinHashConfig(bands=9, rows=13))
    with pytest.raises(ValueError, match="recompute the signatures"):
        find_duplicates(paths, other)


def test_band_pairs_is_a_unit_per_band_and_partition(tmp_path):
    docs, _ = _edited_corpus()
    config = DedupConfig()
    paths = _write_signatures(tmp_path, docs[:200], config, 50)
    whole = band_pairs(paths, config, band=3)
    parts = np.concatenate(
        [band_pairs(paths, config, 3, partition=p, partitions=4) for p in range(4)]
    )
    assert {tuple(p) for p in whole.tolist()} == {tuple(p) for p in parts.tolist()}


# -- pure numpy steps ----------------------------------------------------------------------------


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


# -- config --------------------------------------------------------------------------------------


def test_config_builds_from_yaml_shapes_and_rejects_mistakes():
    assert DedupConfig(minhash=False).minhash is None
    assert DedupConfig(minhash={"ngram": 3}).minhash == MinHashConfig(ngram=3)
    assert DedupConfig.from_dict(DedupConfig().to_dict()) == DedupConfig()
    with pytest.raises(ValueError, match="shingle"):
        MinHashConfig(shingle="line")
    with pytest.raises(ValueError, match="source_priority"):
        DedupConfig(keep="source_priority")
    with pytest.raises(ValueError, match="keep"):
        DedupConfig(keep="random")
