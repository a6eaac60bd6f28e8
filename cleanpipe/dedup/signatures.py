"""The map side of dedup: what each document contributes, computed per batch, per file.

Exact duplicates share a 128-bit hash (xxh3-128) of their folded text (:func:`fold_text`:
lowercased words joined by single spaces). Near duplicates are found with MinHash (Broder
1997, "On the resemblance and containment of documents") over word (or character) n-gram
shingles; :mod:`cleanpipe.dedup.clusters` bands the signatures (LSH) at the barrier.

Signatures equal those of ``datasketch.MinHash(num_perm, seed, hashfunc)`` for the same
shingles, seed and hash function (:meth:`MinHashConfig.datasketch_hashfunc`), so a finished run
can be loaded into ``datasketch.MinHashLSH`` to check new documents against it. The default
``hashfunc="fast"`` hashes every shingle of a batch at once with numpy
(:mod:`cleanpipe.dedup.hashes`); ``hashfunc="sha1"`` is datasketch's default ``sha1_hash32``
over the UTF-8 shingle bytes: exactly equal, slower.

The hot functions (:func:`minhash_signatures`, :func:`dedup_signatures`) are pure functions
over a batch. See ``docs/dedup.md``.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise

import numpy as np
import pyarrow as pa
import xxhash

from cleanpipe.dedup.config import DedupConfig, MinHashConfig
from cleanpipe.dedup.hashes import MASK32, WORD_CHAIN32, fmix32, hash_spans, sha1_hash32
from cleanpipe.dedup.urls import URL_FIELDS, url_columns
from cleanpipe.document import Document

__all__ = [
    "SCHEMA_KEY",
    "band_columns",
    "dedup_signatures",
    "exact_hash",
    "fixed_binary_to_numpy",
    "fold_text",
    "minhash_signatures",
    "permutations",
    "shingles",
    "signature_matrix",
    "signature_schema",
]

#: Schema metadata key under which the signature tables record their MinHash parameters.
SCHEMA_KEY = b"cleanpipe.dedup"

_MAX_HASH32 = np.uint32(MASK32)
_MERSENNE = np.uint64((1 << 61) - 1)  # datasketch's legacy permutation modulus
# Shingles hashed into one buffer before the permutation loop: small enough to stay in L2.
_CHUNK_SHINGLES = 1 << 16


def band_columns(config: MinHashConfig) -> list[str]:
    """Names of the signature-table columns, one per band (``mh_00`` ...)."""
    return [f"mh_{band:02d}" for band in range(config.bands)]


# -- normalization and tokens ----------------------------------------------------------------


_BLOCK_BITS = 8  # the word table is filled 256 code points at a time, as blocks are met
_WORD_TABLE = np.zeros(0x110000, dtype=bool)
_FILLED = np.zeros(0x110000 >> _BLOCK_BITS, dtype=bool)


def _word_class(cp: np.ndarray) -> np.ndarray:
    """True for code points (``cp``, each ≤ 0x10FFFF) that belong to words: Unicode letters,
    marks and numbers. All other characters (whitespace, punctuation, symbols, controls)
    separate words."""
    # The table is filled per process only for the 256-code-point blocks a text has used
    # (a few for most text, ~30 µs each): building all 1.1M entries up front took ~0.2 s,
    # which was most of a small MinHashDedup call.
    blocks = cp >> _BLOCK_BITS
    seen = np.zeros(len(_FILLED), dtype=bool)
    seen[blocks] = True
    for block in np.flatnonzero(seen & ~_FILLED).tolist():
        lo = block << _BLOCK_BITS
        chars = map(chr, range(lo, lo + (1 << _BLOCK_BITS)))
        categories = "".join(map(unicodedata.category, chars))
        first = np.frombuffer(categories[0::2].encode("ascii"), dtype=np.uint8)
        _WORD_TABLE[lo : lo + len(first)] = (
            (first == ord("L")) | (first == ord("M")) | (first == ord("N"))
        )
        _FILLED[block] = True
    return _WORD_TABLE[cp]


def _word_bytes(buf: np.ndarray, lo: np.ndarray, size: np.ndarray) -> np.ndarray:
    """Which bytes of UTF-8 ``buf`` belong to word characters (all bytes of a character).
    Non-ASCII characters occur only in the spans ``buf[lo:lo + size]``."""
    folded = buf | np.uint8(0x20)
    word = (folded - np.uint8(97) < 26) | (buf - np.uint8(48) < 10)
    if not len(lo):
        return word
    spans = zip(lo.tolist(), (lo + size).tolist(), strict=True)
    lead = np.concatenate([np.flatnonzero(buf[a:b] >= 0xC0) + a for a, b in spans])
    b0 = buf[lead].astype(np.uint32)
    # continuation bytes past the end of the buffer (a text ending in 'é') are never used
    # (``width`` picks the code point), but must not be read out of bounds
    last = len(buf) - 1
    b1, b2, b3 = (buf[np.minimum(lead + k, last)].astype(np.uint32) & 0x3F for k in (1, 2, 3))
    width = 2 + (b0 >= 0xE0) + (b0 >= 0xF0)
    cp3 = (b0 & 0x0F) << 12 | b1 << 6 | b2
    cp4 = (b0 & 0x07) << 18 | b1 << 12 | b2 << 6 | b3
    cp = np.where(width == 2, (b0 & 0x1F) << 6 | b1, np.where(width == 3, cp3, cp4))
    cls = _word_class(np.minimum(cp, 0x10FFFF))
    word[lead] = cls
    for k in (1, 2, 3):
        more = width > k
        word[lead[more] + k] = cls[more]
    return word


@dataclass
class _Tokens:
    """The words of a batch: spans in the UTF-8 bytes of the lowercased, NUL-joined texts."""

    buf: np.ndarray  # uint8, followed by 8 padding bytes
    start: np.ndarray  # int64 byte offset of each token
    length: np.ndarray  # int64 bytes of each token
    first: np.ndarray  # per document: index of its first token
    count: np.ndarray  # per document: number of tokens


def _tokenize(texts: Sequence[str]) -> _Tokens:
    """Lowercase and split into words (runs of Unicode letters, marks and numbers), vectorized
    over the whole batch; everything else (whitespace, punctuation, symbols) separates."""
    # Encode per document (a memcpy for ASCII ones) rather than the joined string.
    encoded = [text.lower().encode("utf-8", "surrogatepass") for text in texts]
    # A separator after every document, then 8 zero bytes so 8-byte reads never run off.
    padded = b"\x00".join([*encoded, bytes(8)])
    size = len(padded) - 8
    buf = np.frombuffer(padded, dtype=np.uint8)
    doc_start = np.zeros(len(encoded), dtype=np.int64)
    sizes = np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded))
    np.cumsum(sizes[:-1] + 1, out=doc_start[1:])
    word = np.zeros(size + 1, dtype=bool)
    other = [i for i, data in enumerate(encoded) if not data.isascii()]
    word[1:] = _word_bytes(buf[:size], doc_start[other], sizes[other])
    # Word starts and ends alternate (the buffer ends with a separator).
    edges = np.flatnonzero(word[1:] != word[:-1]).reshape(-1, 2)
    start = edges[:, 0].copy()
    length = edges[:, 1] - start
    first = np.searchsorted(start, doc_start)
    count = np.diff(first, append=len(start))
    return _Tokens(buf, start, length, first, count)


def _stream(tokens: _Tokens) -> tuple[np.ndarray, np.ndarray]:
    """UTF-8 bytes of every document's folded text (tokens joined by single spaces) and
    the per-document offsets into them."""
    start, length, first, count = tokens.start, tokens.length, tokens.first, tokens.count
    not_first = np.ones(len(start), dtype=bool)
    not_first[first[count > 0]] = False
    keep = np.zeros(len(tokens.buf), dtype=np.int8)
    keep[start] = 1  # +1 where a word starts, -1 after it ends: the running sum marks words
    keep[start + length] = -1
    keep = np.cumsum(keep, dtype=np.int8).view(bool)
    chars = tokens.buf.copy()
    spaces = start[not_first] - 1
    keep[spaces] = True
    chars[spaces] = 32
    stream = chars[keep]
    # Offsets: a document's text is its tokens' bytes plus one space between tokens.
    lens = np.zeros(len(first), dtype=np.int64)
    has = count > 0
    cum = np.concatenate(([0], np.cumsum(length)))
    lens[has] = cum[first[has] + count[has]] - cum[first[has]] + count[has] - 1
    bounds = np.zeros(len(first) + 1, dtype=np.int64)
    np.cumsum(lens, out=bounds[1:])
    return stream, bounds


def _folded_texts(tokens: _Tokens) -> list[str]:
    stream, bounds = _stream(tokens)
    data, edges = stream.tobytes(), bounds.tolist()
    return [data[lo:hi].decode("utf-8", "surrogatepass") for lo, hi in pairwise(edges)]


def fold_text(text: str) -> str:
    """The text exact and near deduplication compare: lowercased, words (runs of Unicode
    letters, marks and numbers) joined by single spaces, everything else dropped."""
    return _folded_texts(_tokenize([text]))[0]


def word_tokens(texts: Sequence[str]) -> _Tokens:
    """The folded words of a batch as byte spans (``buf``, ``start``, ``length``; per text
    ``first`` and ``count``): the words :func:`fold_text`, shingles and exact hashes are made
    of, for other matchers of folded text (decontamination) to share one normalization."""
    return _tokenize(texts)


def exact_hash(text: str) -> bytes:
    """16-byte xxh3-128 digest of the 64-bit hashes of the words of ``fold_text(text)``
    (little-endian, in order): equal for texts that are equal after folding."""
    tokens = _tokenize([text])
    return _exact_hashes(tokens, hash_spans(tokens.buf, tokens.start, tokens.length))


def shingles(text: str, config: MinHashConfig | None = None) -> list[bytes]:
    """The shingles of ``text`` as UTF-8 bytes, in document order (duplicates kept).

    Word shingles are ``ngram`` consecutive folded words joined by a space; character
    shingles are ``ngram`` consecutive characters of the folded text. A document shorter
    than one shingle is a single shingle; an empty one has none. This is the reference path:
    feed these to ``datasketch.MinHash.update_batch`` to reproduce our signatures.
    """
    return _shingles_of(fold_text(text), config or MinHashConfig())


def _shingles_of(norm: str, config: MinHashConfig) -> list[bytes]:
    if not norm:
        return []
    n = config.ngram
    if config.shingle == "word":
        words = norm.split(" ")
        if len(words) <= n:
            return [norm.encode()]
        return [" ".join(words[i : i + n]).encode() for i in range(len(words) - n + 1)]
    if len(norm) <= n:
        return [norm.encode("utf-8", "surrogatepass")]
    return [norm[i : i + n].encode("utf-8", "surrogatepass") for i in range(len(norm) - n + 1)]


def _exact_hashes(tokens: _Tokens, token_hashes: np.ndarray) -> bytes:
    """Concatenated 16-byte :func:`exact_hash` digests of the batch's documents."""
    data = token_hashes.astype("<u8", copy=False).tobytes()
    lo = (tokens.first * 8).tolist()
    hi = ((tokens.first + tokens.count) * 8).tolist()
    return b"".join(xxhash.xxh3_128_digest(data[a:b]) for a, b in zip(lo, hi, strict=True))


def _windows(first: np.ndarray, count: np.ndarray, n: int) -> tuple[np.ndarray, ...]:
    """For units (tokens or characters) grouped by document: the first unit of every window of
    ``n`` units inside a document, its size (``n``, or the whole document when shorter), and
    the number of windows per document."""
    per_doc = np.where(count >= n, count - n + 1, np.minimum(count, 1))
    total = int(per_doc.sum())
    doc_of = np.repeat(np.arange(len(count)), per_doc)
    offset = np.arange(total) - np.repeat(np.cumsum(per_doc) - per_doc, per_doc)
    size = np.minimum(count[doc_of], n)
    return first[doc_of] + offset, size, per_doc


def _fast_shingle_hashes(
    tokens: _Tokens, token_hashes: np.ndarray, config: MinHashConfig
) -> tuple[np.ndarray, np.ndarray]:
    """32-bit hashes of every shingle of the batch, grouped by document, and counts per doc."""
    n = config.ngram
    if config.shingle == "word":
        first, count = tokens.first, tokens.count
        # Chain n consecutive word hashes, h = ((t0 * M + t1) * M + t2) ... mod 2^32, for
        # every word at once (contiguous slices), then keep the windows inside a document.
        units = token_hashes.astype(np.uint32)
        if len(units) < n:  # fewer words in the whole batch than in one shingle
            units = np.concatenate((units, np.zeros(n - len(units), dtype=np.uint32)))
        m = len(units) - n + 1
        chained = units[:m].copy()
        for j in range(1, n):
            chained *= WORD_CHAIN32
            chained += units[j : m + j]
        if not ((count > 0) & (count < n)).any():
            per_doc = np.maximum(count - n + 1, 0)
            starts = np.ones(len(token_hashes) + 1, dtype=bool)
            ends = (first + count)[count >= n]
            for j in range(1, n):  # the last n - 1 words of a document start no window
                starts[ends - j] = False
            hashes = chained[starts[:m]] if len(token_hashes) >= n else chained[:0]
        else:
            begin, size, per_doc = _windows(first, count, n)
            hashes = chained[np.minimum(begin, m - 1)]
            short = np.flatnonzero(size < n)  # a document shorter than one shingle
            part = units[begin[short]]
            for j in range(1, n - 1):
                more = np.flatnonzero(size[short] > j)
                part[more] = part[more] * WORD_CHAIN32 + units[begin[short][more] + j]
            hashes[short] = part
        return hashes, per_doc
    stream, bounds = _stream(tokens)
    char_start = np.flatnonzero((stream & 0xC0) != 0x80)
    chars_before = np.searchsorted(char_start, bounds)
    begin, size, per_doc = _windows(chars_before[:-1], np.diff(chars_before), n)
    char_start = np.append(char_start, len(stream))
    lo = char_start[begin]
    padded = np.concatenate((stream, np.zeros(8, dtype=np.uint8)))
    return hash_spans(padded, lo, char_start[begin + size] - lo).astype(np.uint32), per_doc


def _sha1_shingle_hashes(
    normalized: Sequence[str], config: MinHashConfig
) -> tuple[np.ndarray, np.ndarray]:
    per_doc = [[sha1_hash32(s) for s in _shingles_of(text, config)] for text in normalized]
    counts = np.fromiter(map(len, per_doc), dtype=np.int64, count=len(per_doc))
    flat = np.fromiter((h for doc in per_doc for h in doc), dtype=np.uint32, count=counts.sum())
    return flat, counts


@lru_cache(maxsize=16)
def permutations(num_perm: int, seed: int, scheme: str = "affine32") -> tuple[np.ndarray, ...]:
    """The permutation parameters ``(a, b)`` datasketch's ``MinHash`` draws for this seed."""
    gen = np.random.RandomState(seed)
    if scheme == "legacy":
        pairs = [
            (gen.randint(1, _MERSENNE, dtype=np.uint64), gen.randint(0, _MERSENNE, dtype=np.uint64))
            for _ in range(num_perm)
        ]
        a, b = np.array(pairs, dtype=np.uint64).reshape(num_perm, 2).T
        return a.copy(), b.copy()
    a = gen.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, num_perm, dtype=np.uint32)
    return a, b


def _min_permuted(hashes: np.ndarray, counts: np.ndarray, config: MinHashConfig) -> np.ndarray:
    """``min over shingles of perm_k(h)`` per permutation and document, ``(num_perm, docs)``."""
    a, b = permutations(config.num_perm, config.seed, config.scheme)
    out = np.full((config.num_perm, len(counts)), _MAX_HASH32, dtype=np.uint32)
    docs = np.flatnonzero(counts > 0)
    if not len(docs):
        return out
    sizes = counts[docs]
    ends = np.cumsum(sizes)
    legacy = config.scheme == "legacy"
    values = hashes.astype(np.uint64) if legacy else fmix32(hashes)
    part = np.empty((config.num_perm, len(docs)), dtype=np.uint32)
    lo_doc = 0
    while lo_doc < len(docs):
        # Enough documents to fill about _CHUNK_SHINGLES shingles (at least one document).
        lo = int(ends[lo_doc - 1]) if lo_doc else 0
        hi_doc = max(int(np.searchsorted(ends, lo + _CHUNK_SHINGLES, side="right")), lo_doc + 1)
        chunk = values[lo : int(ends[hi_doc - 1])]
        starts = ends[lo_doc:hi_doc] - sizes[lo_doc:hi_doc] - lo
        tmp = np.empty_like(chunk)
        for k in range(config.num_perm):
            np.multiply(chunk, a[k], out=tmp)
            tmp += b[k]
            if legacy:  # datasketch < 2.0: ((a * h + b) mod 2^64) mod (2^61 - 1), low 32 bits
                tmp %= _MERSENNE
                tmp &= np.uint64(MASK32)
                part[k, lo_doc:hi_doc] = np.minimum.reduceat(tmp, starts)
            else:  # affine32: a * fmix32(h) + b mod 2^32
                np.minimum.reduceat(tmp, starts, out=part[k, lo_doc:hi_doc])
        lo_doc = hi_doc
    if len(docs) == len(counts):
        return part
    out[:, docs] = part
    return out


def _signatures(
    texts: Sequence[str], tokens: _Tokens, token_hashes: np.ndarray, config: MinHashConfig
) -> tuple[np.ndarray, np.ndarray]:
    if config.hashfunc == "sha1":
        hashes, counts = _sha1_shingle_hashes(_folded_texts(tokens), config)
    else:
        hashes, counts = _fast_shingle_hashes(tokens, token_hashes, config)
    return _min_permuted(hashes, counts, config), counts.astype(np.int32)  # (num_perm, docs)


def minhash_signatures(
    texts: Sequence[str], config: MinHashConfig | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """MinHash signatures of a batch: ``(signatures uint32 (n, num_perm), shingles per doc)``.

    Row ``i`` equals ``datasketch.MinHash(num_perm, seed, config.datasketch_hashfunc(),
    scheme=config.scheme)`` updated with ``shingles(texts[i], config)``. A text without words
    has no shingles and the empty signature (all ``2^32 - 1``).
    """
    config = config or MinHashConfig()
    tokens = _tokenize(texts)
    token_hashes = hash_spans(tokens.buf, tokens.start, tokens.length)
    signatures, counts = _signatures(texts, tokens, token_hashes, config)
    return np.ascontiguousarray(signatures.T), counts


# -- the map step ------------------------------------------------------------------------------


def signature_schema(config: DedupConfig) -> pa.Schema:
    """Schema of the tables :func:`dedup_signatures` returns."""
    columns = [
        pa.field("id", pa.string()),
        pa.field("source", pa.string()),
        pa.field("n_chars", pa.int32()),
        pa.field("n_shingles", pa.int32()),
        pa.field("head", pa.string()),
        pa.field("exact", pa.binary(16)),
        *URL_FIELDS,
    ]
    if config.minhash is not None:
        width = 4 * config.minhash.rows
        columns += [pa.field(name, pa.binary(width)) for name in band_columns(config.minhash)]
    meta = {"minhash": config.minhash.to_dict() if config.minhash else None, "version": 2}
    return pa.schema(columns, metadata={SCHEMA_KEY: json.dumps(meta).encode()})


def _head(text: str, size: int) -> str:
    return " ".join(text[: size * 4].split())[:size]


def dedup_signatures(docs: Sequence[Document], config: DedupConfig | None = None) -> pa.Table:
    """The map step: one row per document with what the dedup barrier needs.

    Columns: ``id``, ``source``, ``n_chars`` (characters of the text), ``n_shingles``,
    ``head`` (first ``head_chars`` characters, whitespace collapsed), ``exact`` (16-byte
    :func:`exact_hash`), the URL-dedup columns of
    :func:`cleanpipe.dedup.urls.url_columns` (``url_hash``, ``url_check``, ``url_date``) and,
    with MinHash on, one ``fixed_size_binary(4 * rows)`` column per
    band (``mh_00`` ...: that band's hash values as little-endian uint32), so the barrier reads
    one band at a time. The MinHash parameters are in the schema metadata.
    """
    config = config or DedupConfig()
    texts = [doc.text for doc in docs]
    tokens = _tokenize(texts)
    token_hashes = hash_spans(tokens.buf, tokens.start, tokens.length)
    n = len(texts)
    arrays: list[pa.Array] = [
        pa.array([doc.id for doc in docs], pa.string()),
        pa.array([doc.source for doc in docs], pa.string()),
        pa.array(np.fromiter(map(len, texts), dtype=np.int32, count=n)),
        pa.array(np.zeros(n, dtype=np.int32)),
        pa.array([_head(text, config.head_chars) for text in texts], pa.string()),
        pa.Array.from_buffers(
            pa.binary(16), n, [None, pa.py_buffer(_exact_hashes(tokens, token_hashes))]
        ),
        *url_columns(docs),
    ]
    mh = config.minhash
    if mh is not None:
        sig, counts = _signatures(texts, tokens, token_hashes, mh)
        arrays[3] = pa.array(counts)
        for band in range(mh.bands):
            values = sig[band * mh.rows : (band + 1) * mh.rows].T.astype("<u4", order="C")
            data = pa.py_buffer(values.tobytes())
            arrays.append(pa.Array.from_buffers(pa.binary(4 * mh.rows), n, [None, data]))
    return pa.Table.from_arrays(arrays, schema=signature_schema(config))


def signature_matrix(table: pa.Table, config: MinHashConfig) -> np.ndarray:
    """Reassemble full signatures ``(rows, num_perm) uint32`` from a signature table, e.g. to
    build ``datasketch.LeanMinHash(seed=..., hashvalues=...)`` objects."""
    parts = [fixed_binary_to_numpy(table.column(c), config.rows) for c in band_columns(config)]
    return np.hstack(parts) if parts else np.empty((table.num_rows, 0), dtype=np.uint32)


def fixed_binary_to_numpy(column: pa.Array | pa.ChunkedArray, width: int) -> np.ndarray:
    """A ``fixed_size_binary(4 * width)`` column as a ``(rows, width)`` uint32 array."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    if len(column) == 0:
        return np.empty((0, width), dtype=np.uint32)
    raw = np.frombuffer(column.buffers()[1], dtype="<u4")
    start = column.offset * width
    return raw[start : start + len(column) * width].reshape(-1, width).astype(np.uint32)
