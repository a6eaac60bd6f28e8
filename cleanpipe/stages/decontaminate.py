"""Benchmark decontamination: drop (or cut) documents that contain evaluation items.

GPT-3 (Brown et al. 2020, Appendix C) removed from its training data every 13-gram it shared
with a benchmark, with a 200-character window around it; a document split into more than 10
pieces was removed whole, and pieces under 200 characters were discarded (the same numbers as
lm-evaluation-harness's ``janitor.py``). Gopher's MassiveText (Rae et al. 2021) removed
documents that overlapped test sets. This stage does either: ``action: drop`` (the default,
as MassiveText: any overlap removes the document) or ``action: remove`` (GPT-3's cut).

The eval files are local; nothing is downloaded. Their index (:class:`~cleanpipe.stages.
evalsets.EvalIndex`) is built once per process and shared by every stage instance over the
same files and parameters; see ``docs/decontamination.md``.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np

from cleanpipe.dedup.signatures import word_tokens
from cleanpipe.document import Document
from cleanpipe.io import fs
from cleanpipe.io.readers import expand_paths
from cleanpipe.stages.base import Drop, Stage, Verdict, register
from cleanpipe.stages.evalsets import EvalIndex, Hit, eval_stem

__all__ = ["Decontaminate"]

#: indexes kept per process, by their files (path, size, mtime) and parameters; a worker
#: builds each once however many map tasks it runs. A few, so memory stays bounded.
_INDEX_CACHE: dict[tuple[Any, ...], EvalIndex] = {}
_INDEX_CACHE_SIZE = 4
_NGRAM_SHOWN = 200  # characters of the matched n-gram kept in meta and rejects


def _eval_files(paths: Sequence[str]) -> dict[str, int]:
    """The files the ``paths`` globs match, in order, each once, with the index of the glob
    that matched it; a glob that matches nothing or two files with one stem (items would
    share keys) is a ``ValueError``."""
    files: dict[str, int] = {}
    stems: dict[str, str] = {}
    for i, pattern in enumerate(paths):
        found = [f.path for f in expand_paths(str(pattern))]
        if not found:
            raise FileNotFoundError(
                f"paths[{i}]: no eval file matches {str(pattern)!r} (relative to the working "
                f"directory {os.getcwd()}; nothing is downloaded: point it at local files)"
            )
        for path in found:
            if path in files:
                continue
            stem = eval_stem(path)
            if stem in stems:
                raise ValueError(
                    f"paths[{i}]: eval files {stems[stem]} and {fs.display(path)} have the same "
                    f"name {stem!r}; their items would share keys: rename one"
                )
            stems[stem] = fs.display(path)
            files[path] = i
    return files


def _shared_index(files: list[str], **params: Any) -> EvalIndex:
    """The index of ``files``, built on first use in this process."""
    key = (tuple((f, os.stat(f).st_size, os.stat(f).st_mtime_ns) for f in files), repr(params))
    index = _INDEX_CACHE.get(key)
    if index is None:
        index = EvalIndex.build(files, **params)
        while len(_INDEX_CACHE) >= _INDEX_CACHE_SIZE:
            _INDEX_CACHE.pop(next(iter(_INDEX_CACHE)))
        _INDEX_CACHE[key] = index
    return index


@register("decontaminate")
class Decontaminate(Stage):
    """Drops documents that share a word n-gram (13 words, GPT-3) with an eval set item, or
    with ``action="remove"`` cuts the shared spans plus a 200-character margin (GPT-3) and
    drops what is split into more than ``max_pieces`` or left without a piece of
    ``min_piece_chars``.

    ``paths``: eval files or globs (JSONL plain/.gz/.zst, Parquet, or text with one item per
    line). ``fields``: which fields of an item to match (default every string field but
    ``id_field``); each is matched on its own. Items shorter than ``ngram`` words are matched
    whole if they have at least ``min_words`` (8, GPT-3's shortest n). Every hit is recorded
    in ``meta["decontaminate"]`` (first hit: eval file, item, n-gram; and counts) and in the
    rejects' detail; reasons: ``contaminated`` (drop), ``too_many_pieces``, ``too_short``.
    """

    def __init__(
        self,
        *,
        paths: list[str] | str,
        fields: list[str] | None = None,
        id_field: str = "id",
        ngram: int = 13,
        min_words: int = 8,
        action: Literal["drop", "remove"] = "drop",
        margin: int = 200,
        min_piece_chars: int = 200,
        max_pieces: int = 10,
        annotate_only: bool = False,
    ) -> None:
        super().__init__(annotate_only=annotate_only)
        _check_params(ngram, min_words, action, margin, min_piece_chars, max_pieces)
        patterns = [paths] if isinstance(paths, str) else list(paths)
        if not patterns:
            raise ValueError("paths: give at least one eval file")
        if fields is not None and (not fields or not all(isinstance(f, str) for f in fields)):
            raise ValueError(f"fields must be a non-empty list of field names, got {fields!r}")
        files = _eval_files(patterns)
        self.index = _shared_index(
            list(files), fields=fields, id_field=id_field, ngram=ngram, min_words=min_words
        )
        for (path, i), counts in zip(files.items(), self.index.counts.values(), strict=True):
            if not counts["units"]:
                raise ValueError(
                    f"paths[{i}]: eval file {fs.display(path)} has nothing to match "
                    f"({counts['items']} items, {counts['too_short']} fields under min_words "
                    f"{min_words}): {_empty_hint(fields)}"
                )
        self.action = action
        self.margin = margin
        self.min_piece_chars = min_piece_chars
        self.max_pieces = max_pieces
        #: per eval set (stem) and per item key: what the report's table shows.
        self.counts: Counter[str] = Counter()

    @classmethod
    def input_files(cls, params: dict[str, Any]) -> list[str]:
        """The eval files (an edited eval set makes a rerun redo the map tasks)."""
        paths = params.get("paths", [])
        return list(_eval_files([paths] if isinstance(paths, str) else paths))

    def report_extra(self) -> dict[str, int]:
        """Per eval set (file stem): ``dropped:<set>`` documents that hit it and were
        dropped, ``cut:<set>`` that were cut, ``chars:<set>`` characters removed (with
        ``annotate_only``: that would be); ``item:<key>`` documents that hit each item.
        Plain counts, so the tasks' add up (the report's table per eval set)."""
        return dict(sorted(self.counts.items()))

    def process_batch(self, docs: list[Document]) -> list[Verdict]:
        found = self.index.find([doc.text for doc in docs])
        return [
            self._decide(doc, hits) if hits else None for doc, hits in zip(docs, found, strict=True)
        ]

    def _decide(self, doc: Document, hits: list[Hit]) -> Verdict:
        """Record the hits in meta and the counts, then drop or cut."""
        index = self.index
        first = hits[0]
        item = index.unit_item[first.unit]
        words = index.words_of(first.unit)[first.pos : first.pos + first.length]
        ngram = " ".join(words)[:_NGRAM_SHOWN]
        items = sorted({index.unit_item[h.unit] for h in hits})
        sets = sorted({index.item_file[i] for i in items})
        record: dict[str, Any] = {
            "eval": index.files[index.item_file[item]],
            "item": index.items[item],
            "field": index.unit_field[first.unit],
            "ngram": ngram,
            "hits": len(hits),
            "items": len(items),
        }
        doc.meta[self.name] = record
        stems = [eval_stem(index.files[s]) for s in sets]
        self.counts.update(f"item:{index.items[i]}" for i in items)
        detail = (
            f"{len(hits)} {first.length}-gram hit(s) on {len(items)} eval item(s); first "
            f"{record['item']} ({record['eval']}) field {record['field']}: {ngram!r}"
        )
        if self.action == "drop":
            return self._removed(stems, "dropped", len(doc.text), Drop("contaminated", detail))
        pieces, n_pieces, chars_cut = self._cut(doc.text, hits)
        text = "\n\n".join(pieces)
        record["chars_removed"] = len(doc.text) - len(text)
        if n_pieces > self.max_pieces:
            reason = f"split into {n_pieces} pieces > max_pieces {self.max_pieces}; {detail}"
            return self._removed(stems, "dropped", len(doc.text), Drop("too_many_pieces", reason))
        if not pieces:
            reason = (
                f"{len(doc.text) - chars_cut} chars left in pieces under min_piece_chars "
                f"{self.min_piece_chars}; {detail}"
            )
            return self._removed(stems, "dropped", len(doc.text), Drop("too_short", reason))
        self._removed(stems, "cut", record["chars_removed"], None)
        if not self.annotate_only:
            doc.text = text
        return None

    def _removed(self, stems: list[str], what: str, chars: int, verdict: Verdict) -> Verdict:
        for stem in stems:
            self.counts[f"{what}:{stem}"] += 1
            self.counts[f"chars:{stem}"] += chars
        return verdict

    def _cut(self, text: str, hits: list[Hit]) -> tuple[list[str], int, int]:
        """GPT-3's cut: each hit's characters plus ``margin`` on both sides (widened to whole
        words) go; the pieces between are kept if they have ``min_piece_chars``. Returns
        (pieces kept, pieces the text was split into, characters cut)."""
        spans = _char_spans(text, hits)
        cuts: list[list[int]] = []
        for lo, hi in spans:
            lo, hi = _widen(text, max(lo - self.margin, 0), min(hi + self.margin, len(text)))
            if cuts and lo <= cuts[-1][1]:
                cuts[-1][1] = max(cuts[-1][1], hi)
            else:
                cuts.append([lo, hi])
        bounds = [0, *(x for cut in cuts for x in cut), len(text)]
        pieces = [text[a:b].strip() for a, b in zip(bounds[::2], bounds[1::2], strict=True)]
        pieces = [p for p in pieces if p]
        chars_cut = sum(hi - lo for lo, hi in cuts)
        return [p for p in pieces if len(p) >= self.min_piece_chars], len(pieces), chars_cut


def _widen(text: str, lo: int, hi: int) -> tuple[int, int]:
    """A cut moved outwards to word boundaries, so no piece starts or ends mid-word."""
    while lo > 0 and not text[lo - 1].isspace():
        lo -= 1
    while hi < len(text) and not text[hi].isspace():
        hi += 1
    return lo, hi


def _char_spans(text: str, hits: list[Hit]) -> list[tuple[int, int]]:
    """``(start, end)`` character offsets in ``text`` of each hit's words, sorted."""
    lowered = text.lower()
    tokens = word_tokens([text])
    start, length = tokens.start, tokens.length
    if lowered.isascii():
        begin, end = start, start + length
    else:
        raw = np.frombuffer(lowered.encode("utf-8", "surrogatepass"), dtype=np.uint8)
        char_of = np.cumsum((raw & 0xC0) != 0x80) - 1  # the character each byte belongs to
        begin, end = char_of[start], char_of[start + length - 1] + 1
        if len(lowered) != len(text):  # lower() lengthened a character ('İ' -> 'i̇')
            grown = np.cumsum([len(c.lower()) for c in text])
            begin = np.searchsorted(grown, begin, side="right")
            end = np.searchsorted(grown, end - 1, side="right") + 1
    spans = [(int(begin[h.word]), int(end[h.word + h.length - 1])) for h in hits]
    return sorted(spans)


def _check_params(
    ngram: int, min_words: int, action: str, margin: int, min_piece_chars: int, max_pieces: int
) -> None:
    if not isinstance(ngram, int) or ngram < 1:
        raise ValueError(f"ngram must be a positive number of words, got {ngram!r}")
    if not isinstance(min_words, int) or not 1 <= min_words <= ngram:
        raise ValueError(f"min_words must be between 1 and ngram ({ngram}), got {min_words!r}")
    if action not in ("drop", "remove"):
        raise ValueError(f"action must be drop or remove, got {action!r}")
    for name, value in (
        ("margin", margin),
        ("min_piece_chars", min_piece_chars),
        ("max_pieces", max_pieces),
    ):
        if not isinstance(value, int) or value < 0:
            raise ValueError(f"{name} must be a non-negative integer, got {value!r}")


def _empty_hint(fields: list[str] | None) -> str:
    if fields is None:
        return "is it empty, or are all its fields shorter than min_words?"
    return f"do its records have the fields {', '.join(fields)} (`fields`)?"
