"""Seeded, stable hashes: every random choice of a run derives from the seed through these,
so results do not depend on worker count, input order or Python's hash randomisation."""

from __future__ import annotations

import xxhash


def stable_hash(seed: int, *parts: str | int) -> int:
    """64-bit xxh3 of the parts, keyed by the seed."""
    key = "\x1f".join(str(p) for p in parts)
    return xxhash.xxh3_64_intdigest(key.encode("utf-8", "surrogatepass"), seed=seed & (2**64 - 1))


def unit_interval(seed: int, *parts: str | int) -> float:
    """A reproducible number in [0, 1) for the parts."""
    return stable_hash(seed, *parts) / 2**64
