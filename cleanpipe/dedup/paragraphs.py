"""Paragraph (or line) dedup across ALL sources: CCNet's first step (Wenzek et al. 2020,
section 3.1), as LLaMA's CommonCrawl went through it.

Cookie notices, navigation, footers and license boilerplate repeat over thousands of pages
whose other text differs, so document-level dedup keeps them. Here each unit (a line, or a
blank-line separated paragraph) is hashed, the repeats are found across the whole corpus,
and the repeated units are cut from the documents; the rest of each document is kept.

Map side, :func:`unit_table`: per staged document the ``(row, unit, hash, chars)`` of its
units of at least ``min_chars`` normalized characters (shorter ones are never cut, so never
written). Barrier side, :func:`find_repeats`: the units of one hash-prefix partition (a
unit's copies share a hash, so never span two), one stable ``argsort``; the ``(file, row,
unit)`` to cut come out in input order. Route side, :func:`cut_units`: the document rejoined
from its kept units, each with the separator it had before it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import xxhash

from cleanpipe.dedup.config import ParagraphConfig

__all__ = [
    "UNIT_SCHEMA",
    "CUT_SCHEMA",
    "cut_units",
    "find_repeats",
    "normalize_unit",
    "partition_of",
    "split_units",
    "unit_hash",
    "unit_table",
]

#: what the map step writes per unit that could be cut: staged row, unit index in the
#: document, 64-bit hash of the normalized unit, characters of the unit as written.
UNIT_SCHEMA = pa.schema(
    [
        pa.field("row", pa.int32()),
        pa.field("unit", pa.int32()),
        pa.field("hash", pa.uint64()),
        pa.field("chars", pa.int32()),
    ]
)
#: what a barrier partition writes: the units to cut, by staged file (its index in the
#: sorted list), row and unit index.
CUT_SCHEMA = pa.schema(
    [
        pa.field("file", pa.int32()),
        pa.field("row", pa.int32()),
        pa.field("unit", pa.int32()),
    ]
)
# A paragraph ends at a blank line (whitespace only); the separator is the whole run of
# line breaks and blanks, so rejoining with it gives the text back byte for byte.
_SEPARATORS = {"paragraph": re.compile(r"(\n[^\S\n]*\n\s*)"), "line": re.compile(r"(\n)")}
_DIGITS = re.compile(r"\d")


def split_units(text: str, unit: str) -> tuple[list[str], list[str]]:
    """``(units, separators)`` of a text: ``separators[i]`` stands between ``units[i]`` and
    ``units[i + 1]``, so interleaving them gives the text back."""
    parts = _SEPARATORS[unit].split(text)
    return parts[0::2], parts[1::2]


def normalize_unit(text: str, digits: bool = False) -> str:
    """Case and all whitespace folded (line breaks inside a paragraph too), digits to 0 with
    ``digits`` (CCNet's normalization, without its accent and punctuation folding)."""
    folded = " ".join(text.split()).casefold()
    return _DIGITS.sub("0", folded) if digits else folded


def unit_hash(normalized: str) -> int:
    """64-bit xxh3 of the normalized unit's UTF-8."""
    return xxhash.xxh3_64_intdigest(normalized.encode("utf-8", "surrogatepass"))


def unit_table(texts: Sequence[str], first_row: int, config: ParagraphConfig) -> pa.Table:
    """:data:`UNIT_SCHEMA` rows of a batch of staged texts (staged rows from ``first_row``):
    every unit of at least ``min_chars`` normalized characters."""
    rows: list[int] = []
    units: list[int] = []
    hashes: list[int] = []
    chars: list[int] = []
    for offset, text in enumerate(texts):
        for index, piece in enumerate(split_units(text, config.unit)[0]):
            normalized = normalize_unit(piece, config.digits)
            if len(normalized) < config.min_chars or not normalized:
                continue
            rows.append(first_row + offset)
            units.append(index)
            hashes.append(unit_hash(normalized))
            chars.append(len(piece))
    return pa.table(
        [
            pa.array(rows, pa.int32()),
            pa.array(units, pa.int32()),
            pa.array(hashes, pa.uint64()),
            pa.array(chars, pa.int32()),
        ],
        schema=UNIT_SCHEMA,
    )


def partition_of(hashes: np.ndarray, partitions: int) -> np.ndarray:
    """The hash-prefix partition of each hash: the top 32 bits scaled to ``partitions``."""
    top = (hashes >> np.uint64(32)).astype(np.uint64)
    return ((top * np.uint64(partitions)) >> np.uint64(32)).astype(np.int64)


def find_repeats(
    parts: Iterator[tuple[int, pa.RecordBatch]],
    partition: int,
    partitions: int,
    config: ParagraphConfig,
) -> dict[str, Any]:
    """The cuts of one partition from ``(file index, unit batch)`` in input order (sorted
    staged files, then row, then unit): ``cuts`` (a :data:`CUT_SCHEMA` table in that
    order), units and characters cut per file, and the most repeated hashes with the
    location of their first copy.

    Memory: 24 bytes per unit of the partition (hash, file, row, unit, chars), 8 for the
    ``argsort`` order, 8 for the sorted hashes (freed once runs are found) or the group ids,
    8 for a group's size per unit, 1-2 for masks: about 50 bytes (docs/dedup.md)."""
    columns: list[list[np.ndarray]] = [[], [], [], [], []]
    for file, batch in parts:
        hashes = batch.column(2).to_numpy()
        sel = np.flatnonzero(partition_of(hashes, partitions) == partition)
        columns[0].append(hashes[sel])
        columns[1].append(np.full(len(sel), file, np.int32))
        for k, name in ((2, 0), (3, 1), (4, 3)):
            columns[k].append(batch.column(name).to_numpy()[sel])
    empty = [np.empty(0, t) for t in (np.uint64, np.int32, np.int32, np.int32, np.int32)]
    whole = []
    while columns:  # each column's batches freed as soon as it is one array
        parts, kind = columns.pop(0), empty.pop(0)
        whole.append(np.concatenate(parts) if parts else kind)
        del parts
    hashes, files, rows, units, chars = whole
    del whole
    order = np.argsort(hashes, kind="stable")  # stable: copies stay in input order
    ranked = hashes[order]
    start = np.empty(len(ranked), bool)
    start[:1] = True
    np.not_equal(ranked[1:], ranked[:-1], out=start[1:])
    del ranked
    group = np.cumsum(start) - 1
    sizes = np.bincount(group) if len(group) else np.empty(0, np.int64)
    least = 2 if config.keep == "first" else config.min_copies
    cut_ranked = sizes[group] >= least
    if config.keep == "first":
        cut_ranked &= ~start
    cut = np.sort(order[cut_ranked])  # back in input order
    del cut_ranked
    # the most repeated, ties to the first in input order: the same whatever the partitions
    starts = np.flatnonzero(start)
    top = starts[np.lexsort((order[starts], -sizes))[: config.examples]]
    top = top[sizes[group[top]] >= 2]
    firsts = order[top]
    return {
        "cuts": pa.table(
            [pa.array(files[cut]), pa.array(rows[cut]), pa.array(units[cut])], schema=CUT_SCHEMA
        ),
        "units": len(hashes),
        "cut_files": files[cut],
        "cut_chars": chars[cut].astype(np.int64),
        "top": [
            {
                "copies": int(sizes[group[t]]),
                "file": int(files[f]),
                "row": int(rows[f]),
                "unit": int(units[f]),
                "chars": int(chars[f]),
            }
            for t, f in zip(top.tolist(), firsts.tolist(), strict=True)
        ],
    }


def cut_units(text: str, cut: set[int], unit: str) -> tuple[str, int, int]:
    """``(text without the units in cut, units cut, characters cut)``: each kept unit keeps
    the separator it had before it (a blank line between paragraphs), the first kept one
    none."""
    units, separators = split_units(text, unit)
    kept: list[str] = []
    removed = chars = 0
    for i, piece in enumerate(units):
        if i in cut:
            removed += 1
            chars += len(piece)
            continue
        if kept:
            kept.append(separators[i - 1])
        kept.append(piece)
    return "".join(kept), removed, chars
