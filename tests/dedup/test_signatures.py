"""The map side of dedup: folding, exact hashes and MinHash signatures equal to datasketch's
for the same shingles, seed and hash function, and independent of batching."""

from __future__ import annotations

import unicodedata

import datasketch
import numpy as np
import pytest

from cleanpipe.dedup import (
    DedupConfig,
    MinHashConfig,
    dedup_signatures,
    exact_hash,
    fold_text,
    minhash_signatures,
    shingles,
    signature_matrix,
)
from cleanpipe.document import Document
from tests.dedup.corpus import TEXT, base_docs, docstrings


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


def test_fold_text_folds_case_whitespace_and_punctuation_like_the_reference():
    samples = [
        *docstrings()[:200],
        "Don\u2019t  STOP\t\u2014 naïve CAFÉ, 3.14!",
        "\u65e5\u672c\u8a9e\u306e\u30c6\u30ad\u30b9\u30c8\u3002\u3053\u308c\u306f",
        "emoji \U0001f600 and \U0001d518\U0001d52b math letters",
        "",
        "...",
    ]
    for text in samples:
        assert fold_text(text) == _reference_normalize(text)
    assert fold_text("Hello,   WORLD!!  It's\n\nme.") == "hello world it s me"


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
        *docstrings()[:40],
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
    text = docstrings()[0]
    ours, _ = minhash_signatures([text], MinHashConfig(hashfunc="sha1", bands=16, rows=8))
    reference = datasketch.MinHash(num_perm=128)  # seed 1, sha1_hash32, affine32
    for gram in shingles(text):
        reference.update(gram)
    np.testing.assert_array_equal(ours[0], reference.hashvalues)


def test_signatures_do_not_depend_on_the_batch():
    texts = list(docstrings()[:30])
    together, _ = minhash_signatures(texts)
    alone = np.vstack([minhash_signatures([t])[0] for t in texts])
    np.testing.assert_array_equal(together, alone)


def test_finished_run_loads_into_datasketch_lsh():
    """The interop example of docs/dedup.md."""
    config = MinHashConfig()
    docs = [Document(id=f"d{i}", text=t) for i, t in enumerate(base_docs()[:50])]
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


def test_exact_hash_equal_after_folding_only():
    assert exact_hash(TEXT) == exact_hash(TEXT.upper() + "!!")
    assert exact_hash(TEXT) != exact_hash(TEXT + " more")


@pytest.mark.parametrize("text", ["café", "Straße İ", "東京"])
def test_a_batch_ending_in_a_non_ascii_letter_is_tokenized(text):
    """The last character of a batch may be multi-byte: its continuation bytes are the last
    bytes of the buffer (this read past the end and raised IndexError)."""
    assert fold_text("Plain words and " + text) == "plain words and " + text.lower()
    signatures, counts = minhash_signatures(["An ordinary first text.", text])
    assert counts[1] == 1 and signatures.shape == (2, MinHashConfig().num_perm)
