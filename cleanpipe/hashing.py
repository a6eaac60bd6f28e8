"""Stable hashes: the same input gives the same value on every machine, worker and run.

- :func:`stable_hash`: seeded 64-bit hash of a few parts; every random choice of a run
  (sampling, routing, shuffling) derives from the seed through it, so results do not depend
  on worker count, input order or Python's hash randomisation.
- :func:`fingerprint`: what identifies a piece of configuration or a set of inputs (a
  config, a step's arguments for resume, a signature store); canonical JSON, then sha256.
- :func:`digest`: sha256 of raw bytes (a stage's source code), the same hex as fingerprint.
- :func:`folder_digest`: of every file below a folder (a package's code and data), so that
  resume notices an edit to any module a stage imports or any data file it reads.
"""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path
from typing import Any

import xxhash


def stable_hash(seed: int, *parts: str | int) -> int:
    """64-bit xxh3 of the parts, keyed by the seed."""
    key = "\x1f".join(str(p) for p in parts)
    return xxhash.xxh3_64_intdigest(key.encode("utf-8", "surrogatepass"), seed=seed & (2**64 - 1))


def digest(blob: bytes, length: int | None = 16) -> str:
    """The first ``length`` hex digits of the sha256 of ``blob`` (all 64 with ``None``)."""
    return hashlib.sha256(blob).hexdigest()[:length]


def fingerprint(data: Any, length: int | None = 16) -> str:
    """:func:`digest` of ``data`` as canonical JSON (keys sorted; non-JSON values by ``str``).

    Equal data gives equal fingerprints whatever the order of its dict keys. The full digest
    (``length=None``) of a config is written into every shard's footer, so this encoding
    must not change.
    """
    return digest(json.dumps(data, sort_keys=True, default=str).encode(), length)


@functools.lru_cache(maxsize=16)
def folder_digest(folder: str) -> str:
    """:func:`digest` of every file below ``folder`` (names and contents, sorted; compiled
    ``__pycache__`` files left out). Cached: code does not change while a process runs."""
    root = Path(folder)
    files = sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    return digest(
        b"\0".join(str(f.relative_to(root)).encode() + b"\0" + f.read_bytes() for f in files)
    )


def package_digest() -> str:
    """:func:`folder_digest` of the installed ``cleanpipe`` package: its code and data."""
    return folder_digest(str(Path(__file__).resolve().parent))
