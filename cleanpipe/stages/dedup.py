"""Exact and MinHash near-duplicate removal across all sources.

Exact duplicates share a 128-bit hash (xxh3-128) of their normalized text. Near duplicates are
found with MinHash (Broder 1997, "On the resemblance and containment of documents") over word
(or character) n-gram shingles and LSH banding, with FineWeb's parameters by default: 5-gram
word shingles, 112 permutations as 14 bands x 8 rows (similarity threshold about 0.72).

Signatures equal those of ``datasketch.MinHash(num_perm, seed, hashfunc)`` for the same
shingles, seed and hash function (:meth:`MinHashConfig.datasketch_hashfunc`), so a finished run
can be loaded into ``datasketch.MinHashLSH`` to check new documents against it. The default
``hashfunc="fast"`` hashes every shingle of a batch at once with numpy (a polynomial hash over
code points, avalanched with the MurmurHash3 finalizer); ``hashfunc="sha1"`` is datasketch's
default ``sha1_hash32`` over the UTF-8 shingle bytes: exactly equal, slower.

The hot functions (:func:`minhash_signatures`, :func:`dedup_signatures`) are pure functions over
a batch; clustering lives in :mod:`cleanpipe.dedup_index`. See ``docs/dedup.md``.
"""

from __future__ import annotations

import hashlib
import json
import time
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, fields
from functools import lru_cache
from itertools import pairwise
from typing import Any

import numpy as np
import pyarrow as pa
import xxhash

from cleanpipe.document import Document
from cleanpipe.stages.base import Stage, batched, register

__all__ = [
    "DedupConfig",
    "ExactDedup",
    "MinHashConfig",
    "MinHashDedup",
    "band_columns",
    "dedup_signatures",
    "exact_hash",
    "minhash_signatures",
    "normalize",
    "permutations",
    "shingles",
]

SHINGLES = ("word", "char")
HASHFUNCS = ("fast", "sha1")
SCHEMES = ("affine32", "legacy")
KEEP_POLICIES = ("first", "longest", "source_priority")

#: Schema metadata key under which the signature tables record their MinHash parameters.
SCHEMA_KEY = b"cleanpipe.dedup"

_MASK32 = (1 << 32) - 1
_MASK64 = (1 << 64) - 1
_MAX_HASH32 = np.uint32(_MASK32)
_MERSENNE = np.uint64((1 << 61) - 1)  # datasketch's legacy permutation modulus
# Multipliers that chain 8-byte chunks into a word hash (_K) and word hashes into a word-shingle
# hash (_M); spans longer than _LONG bytes are hashed with xxh3-64 instead.
_K = 0x9E3779B97F4A7C15
_M = 0xC2B2AE3D27D4EB4F
_U64_K = np.uint64(_K)
_U32_M = np.uint32(_M & 0xFFFFFFFF)
_LONG = 64
_LONG_TAG = 0x27D4EB2F165667C5
_TAIL_MASKS = np.array([(1 << (8 * k)) - 1 for k in range(8)] + [_MASK64], dtype=np.uint64)
# MurmurHash3 finalizers (the same constants datasketch uses for its affine schemes).
_F64 = (np.uint64(33), np.uint64(0xFF51AFD7ED558CCD), np.uint64(0xC4CEB9FE1A85EC53))
_F32 = (np.uint32(16), np.uint32(0x85EBCA6B), np.uint32(13), np.uint32(0xC2B2AE35))
# Shingles hashed into one buffer before the permutation loop: small enough to stay in L2.
_CHUNK_SHINGLES = 1 << 16


# -- configuration ---------------------------------------------------------------------------


@dataclass(frozen=True)
class MinHashConfig:
    """MinHash LSH parameters (datatrove's ``MinhashConfig``; defaults from FineWeb).

    ``shingle`` is ``"word"`` (word n-grams) or ``"char"`` (character n-grams, for CJK and
    code). ``hashfunc`` is ``"fast"`` (vectorized) or ``"sha1"`` (datasketch's default
    ``sha1_hash32``); ``scheme`` is datasketch's permutation scheme, ``"affine32"`` (the
    default since datasketch 2.0) or ``"legacy"`` (``(a*h + b) mod (2^61 - 1)``, datasketch
    < 2.0). ``verify_threshold`` drops LSH candidate pairs whose estimated Jaccard similarity
    is below it; ``None`` keeps every candidate.
    """

    ngram: int = 5
    bands: int = 14
    rows: int = 8
    seed: int = 1
    shingle: str = "word"
    hashfunc: str = "fast"
    scheme: str = "affine32"
    verify_threshold: float | None = None

    def __post_init__(self) -> None:
        for name in ("ngram", "bands", "rows"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"minhash.{name} must be >= 1, got {getattr(self, name)!r}")
        if self.num_perm > 1 << 16:
            raise ValueError(f"minhash: bands x rows = {self.num_perm} permutations is too many")
        _check_choice("minhash.shingle", self.shingle, SHINGLES)
        _check_choice("minhash.hashfunc", self.hashfunc, HASHFUNCS)
        _check_choice("minhash.scheme", self.scheme, SCHEMES)
        if self.verify_threshold is not None and not 0.0 < self.verify_threshold <= 1.0:
            raise ValueError(
                f"minhash.verify_threshold must be in (0, 1], got {self.verify_threshold!r}"
            )

    @property
    def num_perm(self) -> int:
        """Number of permutations (hash values per signature): ``bands * rows``."""
        return self.bands * self.rows

    @property
    def threshold(self) -> float:
        """Jaccard similarity at which the S-curve is steepest, about ``(1/b)^(1/r)``."""
        return (1.0 / self.bands) ** (1.0 / self.rows)

    def probability(self, similarity: float) -> float:
        """Probability that two documents of this Jaccard similarity become candidates:
        ``1 - (1 - s^r)^b`` (Leskovec, Rajaraman & Ullman, Mining of Massive Datasets, 3.4)."""
        return 1.0 - (1.0 - similarity**self.rows) ** self.bands

    def datasketch_hashfunc(self) -> Callable[[bytes], int]:
        """The ``hashfunc`` to give ``datasketch.MinHash`` so that it reproduces our signatures
        from the shingles of :func:`shingles`."""
        if self.hashfunc == "sha1":
            return _sha1_hash32
        return _fast_word_hash32 if self.shingle == "word" else _fast_char_hash32

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class DedupConfig:
    """The top-level ``dedup:`` section: exact and/or MinHash deduplication over ALL sources.

    ``keep`` decides which member of a duplicate cluster survives: ``"first"`` (first in the
    deterministic order of the sorted signature files, then row), ``"longest"`` (most
    characters, ties to the first) or ``"source_priority"`` (earliest source in
    ``source_priority``, unlisted sources last, ties to the first). ``minhash: None`` (or
    ``False`` in YAML) turns near-deduplication off; a dict is turned into a
    :class:`MinHashConfig`. ``head_chars`` is how much text the signature table keeps for the
    example clusters of the report.
    """

    exact: bool = True
    minhash: MinHashConfig | None = field(default_factory=MinHashConfig)
    keep: str = "first"
    source_priority: list[str] | None = None
    head_chars: int = 80

    def __post_init__(self) -> None:
        minhash: Any = self.minhash
        if minhash is False:
            minhash = None
        elif minhash is True:
            minhash = MinHashConfig()
        elif isinstance(minhash, dict):
            minhash = MinHashConfig(**minhash)
        if minhash is not None and not isinstance(minhash, MinHashConfig):
            raise ValueError(f"dedup.minhash must be a mapping or false, got {minhash!r}")
        object.__setattr__(self, "minhash", minhash)
        _check_choice("dedup.keep", self.keep, KEEP_POLICIES)
        if self.source_priority is not None:
            object.__setattr__(self, "source_priority", [str(s) for s in self.source_priority])
        if self.keep == "source_priority" and not self.source_priority:
            raise ValueError("dedup.keep: source_priority needs a non-empty dedup.source_priority")
        if self.head_chars < 0:
            raise ValueError(f"dedup.head_chars must be >= 0, got {self.head_chars!r}")

    @property
    def enabled(self) -> bool:
        return self.exact or self.minhash is not None

    def to_dict(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["minhash"] = self.minhash.to_dict() if self.minhash is not None else None
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DedupConfig:
        return cls(**data)


def _check_choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(choices)}; got {value!r}")


def band_columns(config: MinHashConfig) -> list[str]:
    """Names of the signature-table columns, one per band (``mh_00`` ...)."""
    return [f"mh_{band:02d}" for band in range(config.bands)]


# -- normalization and tokens ----------------------------------------------------------------


@lru_cache(maxsize=1)
def _word_table() -> np.ndarray:
    """True for code points that belong to words: Unicode letters, marks and numbers. All
    other characters (whitespace, punctuation, symbols, controls) separate words."""
    # Built once per process (each worker): joining the two-letter categories and keeping
    # every other byte runs the 1.1M lookups in C, 0.2 s instead of 0.34 s for a generator.
    categories = "".join(map(unicodedata.category, map(chr, range(0x110000))))
    first = np.frombuffer(categories[0::2].encode("ascii"), dtype=np.uint8)
    return (first == ord("L")) | (first == ord("M")) | (first == ord("N"))


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
    b1, b2, b3 = (buf[lead + k].astype(np.uint32) & 0x3F for k in (1, 2, 3))
    width = 2 + (b0 >= 0xE0) + (b0 >= 0xF0)
    cp3 = (b0 & 0x0F) << 12 | b1 << 6 | b2
    cp4 = (b0 & 0x07) << 18 | b1 << 12 | b2 << 6 | b3
    cp = np.where(width == 2, (b0 & 0x1F) << 6 | b1, np.where(width == 3, cp3, cp4))
    cls = _word_table()[np.minimum(cp, 0x10FFFF)]
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
    """UTF-8 bytes of every document's normalized text (tokens joined by single spaces) and
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


def _normalized_texts(tokens: _Tokens) -> list[str]:
    stream, bounds = _stream(tokens)
    data, edges = stream.tobytes(), bounds.tolist()
    return [data[lo:hi].decode("utf-8", "surrogatepass") for lo, hi in pairwise(edges)]


def normalize(text: str) -> str:
    """The text exact and near deduplication compare: lowercased, words (runs of Unicode
    letters, marks and numbers) joined by single spaces, everything else dropped."""
    return _normalized_texts(_tokenize([text]))[0]


def exact_hash(text: str) -> bytes:
    """16-byte xxh3-128 digest of the 64-bit hashes of the words of ``normalize(text)``
    (little-endian, in order): equal for texts that are equal after normalization."""
    tokens = _tokenize([text])
    return _exact_hashes(tokens, _token_hashes(tokens.buf, tokens.start, tokens.length))


def shingles(text: str, config: MinHashConfig | None = None) -> list[bytes]:
    """The shingles of ``text`` as UTF-8 bytes, in document order (duplicates kept).

    Word shingles are ``ngram`` consecutive normalized words joined by a space; character
    shingles are ``ngram`` consecutive characters of the normalized text. A document shorter
    than one shingle is a single shingle; an empty one has none. This is the reference path:
    feed these to ``datasketch.MinHash.update_batch`` to reproduce our signatures.
    """
    return _shingles_of(normalize(text), config or MinHashConfig())


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


# -- hashing -----------------------------------------------------------------------------------


def _fmix64(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's 64-bit finalizer, a bijection (into a new array)."""
    shift, m1, m2 = _F64
    tmp = h >> shift
    h = h ^ tmp
    h *= m1
    np.right_shift(h, shift, out=tmp)
    h ^= tmp
    h *= m2
    np.right_shift(h, shift, out=tmp)
    h ^= tmp
    return h


def _fmix32(h: np.ndarray) -> np.ndarray:
    s1, m1, s2, m2 = _F32
    h = h ^ (h >> s1)
    h *= m1
    h ^= h >> s2
    h *= m2
    h ^= h >> s1
    return h


def _fmix64_int(h: int) -> int:
    h ^= h >> 33
    h = (h * 0xFF51AFD7ED558CCD) & _MASK64
    h ^= h >> 33
    h = (h * 0xC4CEB9FE1A85EC53) & _MASK64
    return h ^ (h >> 33)


def _bytes_hash_int(data: bytes) -> int:
    """64-bit hash of a word or character shingle: its UTF-8 bytes read as little-endian
    8-byte chunks, chained with the MurmurHash3 finalizer (a bijection, so words of up to 8
    bytes never collide); spans longer than 64 bytes use xxh3-64."""
    if len(data) > _LONG:
        return _fmix64_int(xxhash.xxh3_64_intdigest(data) ^ _LONG_TAG)
    h = 0
    for i in range(0, len(data), 8):
        h = _fmix64_int((h * _K + int.from_bytes(data[i : i + 8], "little")) & _MASK64)
    return h


def _fast_word_hash32(shingle: bytes) -> int:
    """Pure-Python twin of the vectorized word-shingle hash (for datasketch interop): the
    word hashes chained as ``h * M + t`` mod 2^32."""
    h = 0
    for word in shingle.split(b" "):
        h = (h * _M + _bytes_hash_int(word)) & _MASK32
    return h


def _fast_char_hash32(shingle: bytes) -> int:
    """Pure-Python twin of the vectorized character-shingle hash (for datasketch interop)."""
    return _bytes_hash_int(shingle) & _MASK32


def _sha1_hash32(data: bytes) -> int:
    """datasketch's default ``sha1_hash32``: the first 4 bytes of SHA-1, little-endian."""
    return int.from_bytes(hashlib.sha1(data).digest()[:4], "little")


def _token_hashes(buf: np.ndarray, start: np.ndarray, length: np.ndarray) -> np.ndarray:
    """Vectorized :func:`_bytes_hash_int` of the spans ``buf[start:start + length]`` (``buf``
    must be followed by 8 readable bytes)."""
    # Every byte offset read as a little-endian uint64 (an unaligned view, no copy).
    words = np.ndarray((max(len(buf) - 7, 0),), dtype="<u8", buffer=buf, strides=(1,))
    hashes = _fmix64(words[start] & _TAIL_MASKS[np.minimum(length, 8)])
    todo = np.flatnonzero((length > 8) & (length <= _LONG))
    pos, rem = start[todo] + 8, length[todo] - 8
    while len(todo):
        chunk = words[pos] & _TAIL_MASKS[np.minimum(rem, 8)]
        hashes[todo] = _fmix64(hashes[todo] * _U64_K + chunk)
        more = rem > 8
        todo, pos, rem = todo[more], pos[more] + 8, rem[more] - 8
    for i in np.flatnonzero(length > _LONG).tolist():
        lo = int(start[i])
        hashes[i] = _bytes_hash_int(buf[lo : lo + int(length[i])].tobytes())
    return hashes


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
            chained *= _U32_M
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
                part[more] = part[more] * _U32_M + units[begin[short][more] + j]
            hashes[short] = part
        return hashes, per_doc
    stream, bounds = _stream(tokens)
    char_start = np.flatnonzero((stream & 0xC0) != 0x80)
    chars_before = np.searchsorted(char_start, bounds)
    begin, size, per_doc = _windows(chars_before[:-1], np.diff(chars_before), n)
    char_start = np.append(char_start, len(stream))
    lo = char_start[begin]
    padded = np.concatenate((stream, np.zeros(8, dtype=np.uint8)))
    return _token_hashes(padded, lo, char_start[begin + size] - lo).astype(np.uint32), per_doc


def _sha1_shingle_hashes(
    normalized: Sequence[str], config: MinHashConfig
) -> tuple[np.ndarray, np.ndarray]:
    per_doc = [[_sha1_hash32(s) for s in _shingles_of(text, config)] for text in normalized]
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
    values = hashes.astype(np.uint64) if legacy else _fmix32(hashes)
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
                tmp &= np.uint64(_MASK32)
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
        hashes, counts = _sha1_shingle_hashes(_normalized_texts(tokens), config)
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
    token_hashes = _token_hashes(tokens.buf, tokens.start, tokens.length)
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
    ]
    if config.minhash is not None:
        width = 4 * config.minhash.rows
        columns += [pa.field(name, pa.binary(width)) for name in band_columns(config.minhash)]
    meta = {"minhash": config.minhash.to_dict() if config.minhash else None, "version": 1}
    return pa.schema(columns, metadata={SCHEMA_KEY: json.dumps(meta).encode()})


def _head(text: str, size: int) -> str:
    return " ".join(text[: size * 4].split())[:size]


def dedup_signatures(docs: Sequence[Document], config: DedupConfig | None = None) -> pa.Table:
    """The map step: one row per document with what the dedup barrier needs.

    Columns: ``id``, ``source``, ``n_chars`` (characters of the text), ``n_shingles``,
    ``head`` (first ``head_chars`` characters, whitespace collapsed), ``exact`` (16-byte
    :func:`exact_hash`) and, with MinHash on, one ``fixed_size_binary(4 * rows)`` column per
    band (``mh_00`` ...: that band's hash values as little-endian uint32), so the barrier reads
    one band at a time. The MinHash parameters are in the schema metadata.
    """
    config = config or DedupConfig()
    texts = [doc.text for doc in docs]
    tokens = _tokenize(texts)
    token_hashes = _token_hashes(tokens.buf, tokens.start, tokens.length)
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


# -- library stages ----------------------------------------------------------------------------


class _GlobalDedup(Stage):
    """Deduplicates an iterable in memory with the same map and barrier functions the runner
    uses. It must see every document before it yields one: it keeps the signature tables
    (about 100 bytes + 4 x num_perm bytes per document) and, when the input is a one-shot
    iterator rather than a sequence, the documents too."""

    is_global = True
    batch_size = 1024

    config: DedupConfig

    def __call__(self, docs: Iterable[Document]) -> Iterator[Document]:
        from cleanpipe.dedup_index import find_duplicates_in_tables

        started = time.perf_counter()
        items = docs if isinstance(docs, Sequence) else list(docs)
        tables = [dedup_signatures(batch, self.config) for batch in batched(items, 1024)]
        result, drop_rows = find_duplicates_in_tables(tables, self.config)
        self.stats.seconds += time.perf_counter() - started
        #: the barrier's result of the last call: clusters, drops and report stats.
        self.result = result
        rows = drop_rows.tolist()
        reasons = dict(zip(rows, result.drops.column("reason").to_pylist(), strict=True))
        keeper_of = dict(zip(rows, result.drops.column("duplicate_of").to_pylist(), strict=True))
        stats = self.stats
        for row, doc in enumerate(items):
            stats.docs_in += 1
            stats.chars_in += len(doc.text)
            reason = reasons.get(row)
            if reason is not None:
                full = f"dedup:{reason}"
                if self.annotate_only:
                    doc.meta["duplicate_of"] = keeper_of[row]
                    stats.would_drop[full] += 1
                else:
                    stats.dropped[full] += 1
                    stats.dropped_chars[full] += len(doc.text)
                    if self.on_drop is not None:
                        self.on_drop(doc, full)
                    continue
            stats.docs_out += 1
            stats.chars_out += len(doc.text)
            yield doc


@register("exact_dedup")
class ExactDedup(_GlobalDedup):
    """Keeps one document per group of identical normalized texts (:func:`normalize`), across
    all sources. Dropped documents get reason ``dedup:exact``."""

    def __init__(
        self,
        *,
        keep: str = "first",
        source_priority: list[str] | None = None,
        annotate_only: bool = False,
    ) -> None:
        super().__init__(annotate_only=annotate_only)
        self.config = DedupConfig(
            exact=True, minhash=None, keep=keep, source_priority=source_priority
        )


@register("minhash_dedup")
class MinHashDedup(_GlobalDedup):
    """Keeps one document per near-duplicate cluster (MinHash LSH, Broder 1997; FineWeb's
    14 x 8 bands by default). With ``exact=True`` copies with identical normalized text are
    reported as ``dedup:exact``, the rest of each cluster as ``dedup:near``."""

    def __init__(
        self,
        *,
        ngram: int = 5,
        bands: int = 14,
        rows: int = 8,
        seed: int = 1,
        shingle: str = "word",
        hashfunc: str = "fast",
        scheme: str = "affine32",
        verify_threshold: float | None = None,
        keep: str = "first",
        source_priority: list[str] | None = None,
        exact: bool = True,
        annotate_only: bool = False,
    ) -> None:
        super().__init__(annotate_only=annotate_only)
        minhash = MinHashConfig(
            ngram=ngram,
            bands=bands,
            rows=rows,
            seed=seed,
            shingle=shingle,
            hashfunc=hashfunc,
            scheme=scheme,
            verify_threshold=verify_threshold,
        )
        self.config = DedupConfig(
            exact=exact, minhash=minhash, keep=keep, source_priority=source_priority
        )
