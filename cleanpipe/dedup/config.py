"""Dedup parameters: the ``dedup:`` section (:class:`DedupConfig`) and its MinHash LSH part
(:class:`MinHashConfig`), frozen and validated once; derived values are properties.

Defaults are FineWeb's: word 5-grams, 112 permutations as 14 bands x 8 rows (similarity
threshold about 0.72). See ``docs/dedup.md``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from cleanpipe.dedup.hashes import fast_char_hash32, fast_word_hash32, sha1_hash32

__all__ = ["DedupConfig", "MinHashConfig", "ParagraphConfig", "coerce_minhash", "coerce_paragraphs"]

SHINGLES = ("word", "char")
HASHFUNCS = ("fast", "sha1")
SCHEMES = ("affine32", "legacy")
KEEP_POLICIES = ("first", "longest", "source_priority")
UNITS = ("line", "paragraph")
PARAGRAPH_KEEP = ("first", "none")


@dataclass(frozen=True)
class ParagraphConfig:
    """Line or paragraph dedup across ALL sources (CCNet, Wenzek et al. 2020, section 3.1, as
    LLaMA's CommonCrawl went through it): units repeated elsewhere are cut from documents.

    ``unit`` is ``"line"`` (CCNet's unit) or ``"paragraph"`` (blank-line separated). Units
    are compared by a 64-bit hash of their normalized text (case and all whitespace folded,
    digits to 0 with ``digits: true``, as CCNet does); units shorter than ``min_chars``
    normalized characters are never cut (CCNet keeps short lines too). ``keep: first`` keeps
    the first copy in input order (sorted staged files, then row, then unit: the documents'
    ``keep: first``); ``keep: none`` cuts every copy of a unit seen at least ``min_copies``
    times (CCNet's aggressive mode). A document left with fewer than ``min_doc_chars``
    characters is dropped (``dedup:paragraphs_emptied``). ``sources`` limits the cut to
    those sources (None: all); units of the other sources are neither cut nor counted.
    """

    unit: str = "paragraph"
    min_chars: int = 20
    keep: str = "first"
    min_copies: int = 2
    min_doc_chars: int = 200
    digits: bool = False
    sources: list[str] | None = None
    examples: int = 10

    def __post_init__(self) -> None:
        _check_choice("dedup.paragraphs.unit", self.unit, UNITS)
        _check_choice("dedup.paragraphs.keep", self.keep, PARAGRAPH_KEEP)
        for name, low in (("min_chars", 0), ("min_copies", 2), ("min_doc_chars", 0)):
            if int(getattr(self, name)) < low:
                raise ValueError(
                    f"dedup.paragraphs.{name} must be >= {low}, got {getattr(self, name)!r}"
                )
        if self.sources is not None:
            object.__setattr__(self, "sources", [str(s) for s in self.sources])

    def applies_to(self, source: str) -> bool:
        return self.sources is None or source in self.sources

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


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
            return sha1_hash32
        return fast_word_hash32 if self.shingle == "word" else fast_char_hash32

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class DedupConfig:
    """The top-level ``dedup:`` section: URL, exact and/or MinHash deduplication over ALL
    sources.

    ``urls`` keeps one capture per normalized URL, the newest by ``meta.warc_date``
    (:mod:`cleanpipe.dedup.urls`); it runs first, so exact and near dedup see only the
    captures it keeps. Off by default: only web sources carry urls.

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
    urls: bool = False
    keep: str = "first"
    source_priority: list[str] | None = None
    head_chars: int = 80
    paragraphs: ParagraphConfig | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "minhash", coerce_minhash(self.minhash))
        object.__setattr__(self, "paragraphs", coerce_paragraphs(self.paragraphs))
        _check_choice("dedup.keep", self.keep, KEEP_POLICIES)
        if self.source_priority is not None:
            object.__setattr__(self, "source_priority", [str(s) for s in self.source_priority])
        if self.keep == "source_priority" and not self.source_priority:
            raise ValueError("dedup.keep: source_priority needs a non-empty dedup.source_priority")
        if self.head_chars < 0:
            raise ValueError(f"dedup.head_chars must be >= 0, got {self.head_chars!r}")

    def to_dict(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["minhash"] = self.minhash.to_dict() if self.minhash is not None else None
        out["paragraphs"] = self.paragraphs.to_dict() if self.paragraphs is not None else None
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DedupConfig:
        return cls(**data)


def coerce_minhash(value: Any) -> MinHashConfig | None:
    """The one reading of ``dedup.minhash``: ``False``/``None`` is off, ``True`` the defaults,
    a mapping the parameters of a :class:`MinHashConfig`."""
    return _coerce_section(value, MinHashConfig, "dedup.minhash")


def coerce_paragraphs(value: Any) -> ParagraphConfig | None:
    """The one reading of ``dedup.paragraphs``: ``False``/``None`` is off, ``True`` the
    defaults, a mapping the parameters of a :class:`ParagraphConfig`."""
    return _coerce_section(value, ParagraphConfig, "dedup.paragraphs")


def _coerce_section(value: Any, cls: type, name: str) -> Any:
    if value is None or value is False:
        return None
    if value is True:
        return cls()
    if isinstance(value, dict):
        return cls(**value)
    if isinstance(value, cls):
        return value
    raise ValueError(f"{name} must be a mapping, true or false, got {value!r}")


def _check_choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(choices)}; got {value!r}")
