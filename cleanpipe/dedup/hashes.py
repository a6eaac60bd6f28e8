"""Shingle hashes: the vectorized ones the map step runs and their pure-Python twins.

:func:`hash_spans` hashes every word (or character shingle) of a batch at once with numpy:
a word's UTF-8 bytes read as little-endian 8-byte chunks, chained through the MurmurHash3
64-bit finalizer (a bijection, so words of up to 8 bytes never collide); spans longer than
64 bytes use xxh3-64. Word shingles chain their words' hashes as ``h * M + t`` mod 2^32.
:func:`fast_word_hash32`, :func:`fast_char_hash32` and :func:`sha1_hash32` hash one shingle
the same way, for ``datasketch.MinHash(hashfunc=...)``
(:meth:`cleanpipe.dedup.config.MinHashConfig.datasketch_hashfunc`).
"""

from __future__ import annotations

import hashlib

import numpy as np
import xxhash

MASK32 = (1 << 32) - 1
_MASK64 = (1 << 64) - 1
# Multipliers that chain 8-byte chunks into a word hash (_K) and word hashes into a word-shingle
# hash (_M); spans longer than _LONG bytes are hashed with xxh3-64 instead.
_K = 0x9E3779B97F4A7C15
_M = 0xC2B2AE3D27D4EB4F
_U64_K = np.uint64(_K)
WORD_CHAIN32 = np.uint32(_M & 0xFFFFFFFF)
_LONG = 64
_LONG_TAG = 0x27D4EB2F165667C5
_TAIL_MASKS = np.array([(1 << (8 * k)) - 1 for k in range(8)] + [_MASK64], dtype=np.uint64)
# MurmurHash3 finalizers (the same constants datasketch uses for its affine schemes).
_F64 = (np.uint64(33), np.uint64(0xFF51AFD7ED558CCD), np.uint64(0xC4CEB9FE1A85EC53))
_F32 = (np.uint32(16), np.uint32(0x85EBCA6B), np.uint32(13), np.uint32(0xC2B2AE35))


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


def fmix32(h: np.ndarray) -> np.ndarray:
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


def fast_word_hash32(shingle: bytes) -> int:
    """Pure-Python twin of the vectorized word-shingle hash (for datasketch interop): the
    word hashes chained as ``h * M + t`` mod 2^32."""
    h = 0
    for word in shingle.split(b" "):
        h = (h * _M + _bytes_hash_int(word)) & MASK32
    return h


def fast_char_hash32(shingle: bytes) -> int:
    """Pure-Python twin of the vectorized character-shingle hash (for datasketch interop)."""
    return _bytes_hash_int(shingle) & MASK32


def sha1_hash32(data: bytes) -> int:
    """datasketch's default ``sha1_hash32``: the first 4 bytes of SHA-1, little-endian."""
    return int.from_bytes(hashlib.sha1(data).digest()[:4], "little")


def hash_spans(buf: np.ndarray, start: np.ndarray, length: np.ndarray) -> np.ndarray:
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
