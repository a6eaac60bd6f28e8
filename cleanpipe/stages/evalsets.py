"""Evaluation sets for decontamination: their items, read from local files, and the n-gram
index the ``decontaminate`` stage looks every document up in.

An eval file is JSON Lines (plain, .gz or .zst), Parquet, or plain text with one item per
line. An item is named ``<file stem>:<its id field, else its 0-based line or row>``, and each
of its string fields (or the ones asked for) is a *unit* matched on its own: a question and
its answer are two units. A list of strings (the choices of a multiple-choice item) gives one
unit per string.

Units are folded exactly as the dedup shingles are (:func:`cleanpipe.dedup.signatures.
word_tokens`: lowercased, words are runs of Unicode letters, marks and numbers, everything
else separates), so case, punctuation and whitespace (line breaks included) never hide a
match. A unit of at least ``ngram`` words contributes each of its ``ngram``-word windows; a
shorter one of at least ``min_words`` words is one window of its own length, matched whole;
shorter ones are not matched (GPT-3, Brown et al. 2020, Appendix C: 13-grams, and never fewer
than 8 words, since shorter runs are common phrases).

The index keeps, per window length, the 64-bit hashes of the windows sorted in a numpy array
with the unit and first word of each (16 bytes a window), plus each unit's folded text (to
confirm a hash hit word by word, so that no hash collision can remove a document).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from cleanpipe.dedup.hashes import hash_spans
from cleanpipe.dedup.signatures import word_tokens
from cleanpipe.io import fs
from cleanpipe.io.readers import (
    COMPRESSION_SUFFIXES,
    JSONL_SUFFIXES,
    PARQUET_SUFFIXES,
    input_format,
    open_binary,
)

__all__ = ["EvalIndex", "Hit", "eval_stem", "read_eval_items"]

# Window hashes chain word hashes as h = h * _CHAIN + w (mod 2^64): a polynomial hash, so
# the windows of every length are computed in one pass, each from the one a word shorter.
_CHAIN = np.uint64(0x9E3779B97F4A7C15)
# Units tokenized and hashed at once while the index is built.
_BUILD_BATCH = 4096


def eval_stem(path: str) -> str:
    """The name of an eval set: its file name without the format and compression suffixes
    (``mmlu_test.jsonl.zst`` -> ``mmlu_test``)."""
    name = fs.display(path).replace("\\", "/").rsplit("/", 1)[-1]
    lower = name.lower()
    suffixes = [j + c for j in JSONL_SUFFIXES for c in COMPRESSION_SUFFIXES if c]
    suffixes += [*JSONL_SUFFIXES, *PARQUET_SUFFIXES, ".txt"]
    for suffix in sorted(suffixes, key=len, reverse=True):
        if lower.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return Path(name).stem or name


def _units_of(record: dict[str, Any], fields: Sequence[str] | None, id_field: str):
    """(field name, text) of each unit of a record, in field order."""
    names = list(fields) if fields is not None else [k for k in record if k != id_field]
    for name in names:
        value = record.get(name)
        if isinstance(value, str):
            yield name, value
        elif isinstance(value, list):
            for i, part in enumerate(value):
                if isinstance(part, str):
                    yield f"{name}[{i}]", part


def _records(path: str) -> Iterator[tuple[int, Any]]:
    """(0-based line or row, record) of an eval file; a line of a text file is ``{"text":
    line}``. Broken JSON is a ``ValueError`` naming the line: an eval set is curated input,
    and matching against half of one would be a silent gap."""
    fmt = input_format(path)
    if fmt == "parquet":
        row = 0
        for batch in fs.parquet_file(path).iter_batches(batch_size=1024):
            for record in batch.to_pylist():
                yield row, record
                row += 1
        return
    with open_binary(path) as fh:
        for line, raw in enumerate(fh):
            if line == 0:
                raw = raw.removeprefix(b"\xef\xbb\xbf")
            text = raw.decode("utf-8", "replace").rstrip("\r\n")
            if not text.strip():
                continue
            if fmt == "text":
                yield line, {"text": text}
                continue
            try:
                yield line, json.loads(text)
            except json.JSONDecodeError as err:
                raise ValueError(f"{fs.display(path)} line {line + 1}: not JSON ({err})") from None


def read_eval_items(
    path: str, fields: Sequence[str] | None = None, id_field: str = "id"
) -> Iterator[tuple[str, list[tuple[str, str]]]]:
    """``(item key, [(field, text), ...])`` of every item of one eval file, in file order.

    The key is ``<stem>:<id>`` with the record's ``id_field`` when it has one, else its
    0-based line (JSONL, text) or row (Parquet). ``fields=None``: every string field but the
    id (and the strings of list fields).
    """
    stem = eval_stem(path)
    for position, record in _records(path):
        if not isinstance(record, dict):
            record = {"text": record} if isinstance(record, str) else {}
        raw_id = record.get(id_field)
        item_id = raw_id if isinstance(raw_id, (str, int)) and raw_id != "" else position
        yield f"{stem}:{item_id}", list(_units_of(record, fields, id_field))


def _window_hashes(word_hashes: np.ndarray, lengths: set[int]) -> Iterator[tuple[int, np.ndarray]]:
    """For each ``k`` in ``lengths``, ascending: ``(k, hash of the k words starting at every
    word)`` (entry ``i`` covers words ``i .. i + k - 1``; ``len(word_hashes) - k + 1``
    entries). One buffer is chained in place, so each array is only valid until the next
    one is yielded (copy what you keep)."""
    total = len(word_hashes)
    if not lengths or not total:
        return
    chained = word_hashes.copy()
    for k in range(1, min(max(lengths), total) + 1):
        view = chained[: total - k + 1]
        if k > 1:  # h_k[i] = h_(k-1)[i] * C + w[i + k - 1]
            view *= _CHAIN
            view += word_hashes[k - 1 :]
        if k in lengths:
            yield k, view


def _decoded(data: bytes, tokens: Any, lo: int, n: int) -> list[str]:
    """Words ``lo .. lo + n - 1`` of a tokenized batch (``data``: its buffer's bytes)."""
    starts, sizes = tokens.start[lo : lo + n].tolist(), tokens.length[lo : lo + n].tolist()
    spans = zip(starts, sizes, strict=True)
    return [data[s : s + m].decode("utf-8", "surrogatepass") for s, m in spans]


@dataclass(frozen=True)
class Hit:
    """One confirmed match in a document: words ``word .. word + length - 1`` of the
    document (its folded words, 0-based) equal words ``pos ..`` of eval unit ``unit``."""

    word: int
    length: int
    unit: int
    pos: int


@dataclass
class _Table:
    """The windows of one length: sorted hashes, and the unit and first word of each."""

    hashes: np.ndarray  # uint64, sorted
    unit: np.ndarray  # int32
    pos: np.ndarray  # int32


@dataclass
class _Bitmap:
    """A one-hash Bloom filter over the window hashes, a byte per slot: the top bits of a
    hash pick the slot. With 16 slots per window it passes ~1/16 of the windows that are
    not indexed; every window it passes is then looked up exactly (it only saves work: a
    slot is one read, a binary search ~20 scattered ones)."""

    slots: np.ndarray  # bool
    shift: np.uint64

    @classmethod
    def of(cls, tables: Iterable[_Table]) -> _Bitmap:
        hashes = [t.hashes for t in tables]
        n = sum(map(len, hashes))
        bits = min(max((16 * n - 1).bit_length(), 10), 34)  # 1 kB .. 16 GB (1e9 windows)
        shift = np.uint64(64 - bits)
        slots = np.zeros(1 << bits, dtype=bool)
        for h in hashes:
            slots[h >> shift] = True
        return cls(slots, shift)

    def maybe(self, hashes: np.ndarray) -> np.ndarray:
        """False for hashes certainly not indexed."""
        return self.slots[hashes >> self.shift]


@dataclass
class EvalIndex:
    """The windows of every unit of some eval files, built once and looked up per batch.

    ``sets`` are the eval files (display paths) and their stems; ``items[i]`` the key of
    item ``i``; per unit: its item, field and folded text.
    """

    ngram: int
    min_words: int
    files: list[str] = field(default_factory=list)
    items: list[str] = field(default_factory=list)
    item_file: list[int] = field(default_factory=list)
    unit_item: list[int] = field(default_factory=list)
    unit_field: list[str] = field(default_factory=list)
    unit_text: list[str] = field(default_factory=list)
    tables: dict[int, _Table] = field(default_factory=dict)
    bits: _Bitmap = field(default_factory=lambda: _Bitmap.of([]))
    #: per eval file: items, units indexed, units too short to match.
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    build_seconds: float = 0.0
    _words: dict[int, list[str]] = field(default_factory=dict, repr=False)

    @classmethod
    def build(
        cls,
        paths: Sequence[str],
        *,
        fields: Sequence[str] | None = None,
        id_field: str = "id",
        ngram: int = 13,
        min_words: int = 8,
    ) -> EvalIndex:
        """Read every item of ``paths`` (eval files, not globs) and index its units."""
        started = time.perf_counter()
        index = cls(ngram, min_words)
        parts: dict[int, list[tuple[np.ndarray, np.ndarray, np.ndarray]]] = {}
        pending: list[str] = []
        for path in paths:
            name = fs.display(path)
            counts = index.counts.setdefault(name, {"items": 0, "units": 0, "too_short": 0})
            index.files.append(name)
            for key, units in read_eval_items(path, fields, id_field):
                counts["items"] += 1
                index.items.append(key)
                index.item_file.append(len(index.files) - 1)
                for field_name, text in units:
                    index.unit_item.append(len(index.items) - 1)
                    index.unit_field.append(field_name)
                    pending.append(text)
                    if len(pending) >= _BUILD_BATCH:
                        index._add_units(pending, parts)
                        pending = []
        index._add_units(pending, parts)
        for k, chunks in parts.items():
            hashes, unit, pos = (np.concatenate(c) for c in zip(*chunks, strict=True))
            if not len(hashes):
                continue
            order = np.argsort(hashes, kind="stable")
            index.tables[k] = _Table(hashes[order], unit[order], pos[order])
        index.bits = _Bitmap.of(index.tables.values())
        for u, text in enumerate(index.unit_text):
            n_words = text.count(" ") + 1 if text else 0
            counts = index.counts[index.files[index.item_file[index.unit_item[u]]]]
            counts["units" if n_words >= min_words else "too_short"] += 1
        index.build_seconds = time.perf_counter() - started
        return index

    def _add_units(self, texts: list[str], parts: dict[int, list[Any]]) -> None:
        """Fold and hash a batch of units (the last ``len(texts)`` ones added)."""
        if not texts:
            return
        base = len(self.unit_text)
        tokens = word_tokens(texts)
        word_hashes = hash_spans(tokens.buf, tokens.start, tokens.length)
        data = tokens.buf.tobytes()
        for lo, n in zip(tokens.first.tolist(), tokens.count.tolist(), strict=True):
            self.unit_text.append(" ".join(_decoded(data, tokens, lo, n)))
        count = tokens.count
        lengths = {self.ngram} | {int(c) for c in count if self.min_words <= c < self.ngram}
        for k, hashes in _window_hashes(word_hashes, lengths):
            # a unit of n >= ngram words has n - ngram + 1 windows; a shorter one (of at least
            # min_words) is one window of its own length
            mask = count >= k if k == self.ngram else count == k
            units = np.flatnonzero(mask)
            per = count[units] - k + 1
            unit = np.repeat(units, per)
            pos = np.arange(int(per.sum())) - np.repeat(np.cumsum(per) - per, per)
            starts = tokens.first[unit] + pos
            parts.setdefault(k, []).append(
                (hashes[starts], (unit + base).astype(np.int32), pos.astype(np.int32))
            )

    @property
    def windows(self) -> int:
        """Windows indexed, over all lengths."""
        return sum(len(t.hashes) for t in self.tables.values())

    def words_of(self, unit: int) -> list[str]:
        """The folded words of a unit (split on demand, kept for the units that hit)."""
        words = self._words.get(unit)
        if words is None:
            words = self._words[unit] = self.unit_text[unit].split(" ")
        return words

    def find(self, texts: Sequence[str]) -> list[list[Hit]]:
        """The confirmed hits in each text of a batch, in word order.

        Every window of every text is hashed at once; a window whose hash is in the index
        is a candidate, and a hit only if its words equal the unit's words there."""
        out: list[list[Hit]] = [[] for _ in texts]
        if not self.tables or not texts:
            return out
        tokens = word_tokens(texts)
        word_hashes = hash_spans(tokens.buf, tokens.start, tokens.length)
        total = len(word_hashes)
        doc_of = np.repeat(np.arange(len(texts)), tokens.count)
        # words left in its document from each word on: a window of k must fit in its text
        left = (tokens.first + tokens.count)[doc_of] - np.arange(total)
        data: bytes | None = None
        for k, hashes in _window_hashes(word_hashes, set(self.tables)):
            table = self.tables[k]
            # the bitmap passes ~1.5% of windows that are not in the index; only those and
            # the true ones are binary-searched (a search costs ~20 random reads, a bit one)
            where = np.flatnonzero((left[: len(hashes)] >= k) & self.bits.maybe(hashes))
            query = hashes[where]
            idx = np.searchsorted(table.hashes, query)
            found = table.hashes[np.minimum(idx, len(table.hashes) - 1)] == query
            if not found.any():
                continue
            data = tokens.buf.tobytes() if data is None else data
            for word, lo in zip(where[found].tolist(), idx[found].tolist(), strict=True):
                doc = int(doc_of[word])
                self._confirm(data, tokens, word, k, lo, doc, out[doc])
        for hits in out:
            hits.sort(key=lambda h: (h.word, h.length, h.unit))
        return out

    def _confirm(
        self, data: bytes, tokens: Any, word: int, k: int, lo: int, doc: int, hits: list[Hit]
    ) -> None:
        """Append a :class:`Hit` for every indexed window equal, word for word, to the
        document's window of ``k`` words at ``word`` (entries ``lo ..`` share its hash)."""
        table = self.tables[k]
        mine = _decoded(data, tokens, word, k)
        first = int(tokens.first[doc])
        value = table.hashes[lo]
        while lo < len(table.hashes) and table.hashes[lo] == value:
            unit, pos = int(table.unit[lo]), int(table.pos[lo])
            if self.words_of(unit)[pos : pos + k] == mine:
                hits.append(Hit(word - first, k, unit, pos))
            lo += 1
