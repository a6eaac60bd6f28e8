"""Data files shipped with the stages (package data: see pyproject's
``[tool.setuptools.package-data]``) and their loaders.

``stop_words/<lang>.txt``: per-language stop-word lists for GopherQuality's stop-word rule
(Rae et al. 2021, appendix A.1.1, extended to other languages as FineWeb-2 does); written
for cleanpipe, provenance in this folder's README.md.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

__all__ = ["stop_word_languages", "stop_words_for"]

_STOP_WORDS = "stop_words"


@cache
def stop_word_languages() -> frozenset[str]:
    """The languages (lid.176 codes) that have a stop-word file."""
    folder = resources.files(__name__).joinpath(_STOP_WORDS)
    return frozenset(p.name[:-4] for p in folder.iterdir() if p.name.endswith(".txt"))


@cache
def stop_words_for(lang: str) -> frozenset[str] | None:
    """The stop words of ``lang`` (lower case), or ``None`` when it has no list."""
    if lang not in stop_word_languages():
        return None
    text = resources.files(__name__).joinpath(_STOP_WORDS, f"{lang}.txt").read_text("utf-8")
    words = (line.strip().lower() for line in text.splitlines())
    return frozenset(w for w in words if w and not w.startswith("#"))
