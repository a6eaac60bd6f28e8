"""Text measurements shared by the quality filters: split once, measure many times.

A :class:`TextView` splits one text into lines, paragraphs and words lazily, each at most
once, so that a dozen rules reading the same document share one tokenisation (peer
implementations re-split inside every rule). :func:`text_view` hands the same view to
every stage that looks at an unchanged text, so GopherRepetition and GopherQuality in a row
split a document once between them.

Words are what Rae et al. (2021) mean by words: whitespace-separated tokens. Where a rule
compares a word to a list or measures its length, surrounding punctuation is ignored, and a
token made only of punctuation (``-``, ``...``, ``#``) is not a word.
"""

from __future__ import annotations

import operator
import re
import sys
import unicodedata
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import cached_property
from itertools import accumulate, filterfalse, repeat
from typing import Any


def _unicode_punctuation() -> str:
    """Every Unicode punctuation character (categories P*) plus ASCII symbols, for strip()."""
    chars = {
        chr(cp) for cp in range(sys.maxunicode + 1) if unicodedata.category(chr(cp)).startswith("P")
    }
    chars.update("$%&*+<=>@^`|~")  # ASCII symbols string.punctuation also treats as such
    # Order by frequency in text so str.strip finds the common marks early.
    common = ".,;:!?\"'()[]-…“”‘’«»—–/"
    return common + "".join(sorted(chars - set(common)))


#: characters ignored around a word (Unicode punctuation and ASCII symbols).
PUNCTUATION = _unicode_punctuation()

#: sentence-final marks of the scripts we know (FineWeb counts lines ending in one of these).
TERMINAL_PUNCTUATION: tuple[str, ...] = (
    ".", "!", "?", "。", "！", "？", "．", "｡", "।", "॥", "؟", "۔", "።", "፧", "։",
    "။", "។", "៕", "‼", "‽", "⁇", "⁈", "⁉", "﹒", "﹖", "﹗", "܂", "؞",
)  # fmt: skip

#: closing quotes and brackets that may follow a sentence-final mark (``He said "no."``).
CLOSERS = "\"'”’»)]}」』）】"

#: lid.176 codes of languages written without spaces between words.
NO_SPACE_LANGUAGES = frozenset({"zh", "ja", "th", "lo", "km", "my", "bo", "dz", "yue", "wuu"})

_NO_SPACE_SCRIPT = re.compile(
    "[\u0e00-\u0e7f"  # Thai
    "\u0e80-\u0eff"  # Lao
    "\u0f00-\u0fff"  # Tibetan
    "\u1000-\u109f"  # Myanmar
    "\u1780-\u17ff"  # Khmer
    "\u3040-\u30ff"  # Hiragana, Katakana
    "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]"  # CJK ideographs
)
_SCRIPT_RANGES: tuple[tuple[int, int, str], ...] = (
    (0x0E00, 0x0E7F, "th"),
    (0x0E80, 0x0EFF, "lo"),
    (0x0F00, 0x0FFF, "bo"),
    (0x1000, 0x109F, "my"),
    (0x1780, 0x17FF, "km"),
    (0x3040, 0x30FF, "ja"),  # kana
)
#: share of non-space characters in a no-space script above which a text counts as such.
NO_SPACE_SCRIPT_RATIO = 0.3
_SCRIPT_SAMPLE = 4000

_PARAGRAPH_BREAK = re.compile(r"\n[^\S\n]*\n\s*")


def no_space_language(text: str, meta: Mapping[str, Any]) -> str | None:
    """Language code if ``text`` is in a language written without spaces, else ``None``.

    Trusts ``meta["lang"]`` (set by LanguageID) when present; otherwise a cheap Unicode
    script check over the first few thousand characters: Han/kana/Thai/Lao/Khmer/Myanmar/
    Tibetan letters making up at least 30% of the non-space characters.
    """
    lang = meta.get("lang")
    if isinstance(lang, str) and lang:
        base = lang.replace("_", "-").split("-")[0].lower()
        return base if base in NO_SPACE_LANGUAGES else None
    sample = text[:_SCRIPT_SAMPLE]
    if sample.isascii():
        return None
    hits = _NO_SPACE_SCRIPT.findall(sample)
    visible = len(sample) - sum(map(len, re.findall(r"\s+", sample)))
    if not hits or len(hits) < NO_SPACE_SCRIPT_RATIO * visible:
        return None
    return _dominant_script(hits)


def _dominant_script(chars: Iterable[str]) -> str:
    scripts: Counter[str] = Counter()
    for ch in chars:
        cp = ord(ch)
        for lo, hi, code in _SCRIPT_RANGES:
            if lo <= cp <= hi:
                scripts[code] += 1
                break
        else:
            scripts["zh"] += 1
    total = sum(scripts.values())
    if scripts["ja"] >= 0.05 * total:  # any real share of kana means Japanese
        return "ja"
    return scripts.most_common(1)[0][0]


class TextView:
    """Splits of one text, each computed on first use and then shared by every rule."""

    def __init__(self, text: str) -> None:
        self.text = text

    @cached_property
    def raw_lines(self) -> list[str]:
        """``str.splitlines()``, blank lines included (C4 works line by line on these)."""
        return self.text.splitlines()

    @cached_property
    def lines(self) -> list[str]:
        """Non-blank lines, stripped of surrounding whitespace."""
        return [line for line in map(str.strip, self.raw_lines) if line]

    @cached_property
    def line_lengths(self) -> list[int]:
        return list(map(len, self.lines))

    @cached_property
    def paragraphs(self) -> list[str]:
        """Blocks separated by at least one blank line, stripped, empty ones dropped."""
        return [p for p in map(str.strip, _PARAGRAPH_BREAK.split(self.text)) if p]

    @cached_property
    def tokens(self) -> list[str]:
        """Whitespace-separated tokens, punctuation included."""
        return self.text.split()

    @cached_property
    def words(self) -> list[str]:
        """Tokens without surrounding punctuation; punctuation-only tokens are dropped."""
        tokens = self.tokens
        return list(filter(None, map(str.strip, tokens, repeat(PUNCTUATION, len(tokens)))))

    @cached_property
    def word_lengths(self) -> list[int]:
        return list(map(len, self.words))

    @cached_property
    def lower_words(self) -> list[str]:
        """:attr:`words` lower-cased (one ``lower()`` over the joined text, not per word)."""
        return " ".join(self.words).lower().split(" ") if self.words else []


# A few hundred views: enough for one batch to travel through several stages in a row.
_VIEW_CACHE_SIZE = 512
_views: OrderedDict[int, TextView] = OrderedDict()


def text_view(text: str) -> TextView:
    """The shared :class:`TextView` of ``text``.

    Views are cached by the identity of the string (and checked against it), so stages that
    see the same unmodified document reuse one split; a modified text is a new string and
    gets a new view. The cache is small and per process.
    """
    key = id(text)
    view = _views.get(key)
    if view is not None and view.text is text:
        return view
    view = TextView(text)
    _views[key] = view
    if len(_views) > _VIEW_CACHE_SIZE:
        _views.popitem(last=False)
    return view


# -- small measurements ------------------------------------------------------------------


def duplicate_stats(items: Sequence[str]) -> tuple[int, int]:
    """(number of items, characters in them) that repeat an earlier item.

    The first occurrence is not a duplicate: a document made of two copies of the same
    line has half its lines duplicated.
    """
    if len(set(items)) == len(items):
        return 0, 0
    seen: set[str] = set()
    count = chars = 0
    for item in items:
        if item in seen:
            count += 1
            chars += len(item)
        else:
            seen.add(item)
    return count, chars


def ends_with_terminal(line: str) -> bool:
    """True if a stripped line ends in sentence-final punctuation, allowing closing quotes."""
    return line.rstrip(CLOSERS).endswith(TERMINAL_PUNCTUATION)


def ratio(part: float, whole: float) -> float:
    """``part / whole`` rounded to 4 decimals (0 when ``whole`` is 0) for doc.meta."""
    return round(part / whole, 4) if whole else 0.0


def _covered(starts: Iterable[int], n: int, cum: Sequence[int]) -> int:
    """Characters in the union of the word spans ``[start, start + n)``, each counted once.

    ``starts`` must be increasing; ``cum`` is the prefix sum of word lengths.
    """
    chars = 0
    end = 0
    for start in starts:
        lo = start if start > end else end
        end = start + n
        chars += cum[end] - cum[lo]
    return chars


def ngram_char_fractions(
    words: Sequence[str], lengths: Sequence[int], top: Iterable[int], dup: Iterable[int]
) -> dict[str, float]:
    """Gopher's n-gram repetition signals (Rae et al. 2021, appendix A.1.1).

    ``top_{n}gram``: share of word characters covered by the most frequent n-gram (0 when
    no n-gram occurs twice). ``dup_{n}gram``: share of word characters covered by any
    n-gram that occurs more than once, characters in overlapping n-grams counted once.

    The n-grams are never built as strings. Each n-gram is a hash of the (n-1)-gram key and
    the next word, and only positions that can start a repeated n-gram are visited: an
    n-gram occurs twice only if both (n-1)-grams inside it do, so the candidates shrink
    from one n to the next and most clean text leaves none after n = 3 or 4.
    """
    top, dup = set(top), set(dup)
    result = {f"top_{n}gram": 0.0 for n in sorted(top)}
    result.update({f"dup_{n}gram": 0.0 for n in sorted(dup)})
    max_n = max(top | dup, default=0)
    cum = [0, *accumulate(lengths)]
    total = cum[-1]
    if not total or max_n < 2:
        return result
    counts = Counter(words)
    keys: dict[int, Any] = {i: w for i, w in enumerate(words) if counts[w] > 1}
    for n in range(2, max_n + 1):
        if len(keys) < 2:
            break
        grams = {i: hash((k, words[i + n - 1])) for i, k in keys.items() if i + 1 in keys}
        counts = Counter(grams.values())
        if n in top and counts:
            best, count = counts.most_common(1)[0]
            if count > 1:
                starts = [i for i, k in grams.items() if k == best]
                result[f"top_{n}gram"] = ratio(_covered(starts, n, cum), total)
        keys = {i: k for i, k in grams.items() if counts[k] > 1}
        if n in dup:
            result[f"dup_{n}gram"] = ratio(_covered(keys, n, cum), total)
    return result


# -- thresholds --------------------------------------------------------------------------

Comparison = Callable[[float, float], bool]
#: fail when the signal is above / at or above / below / at or below the limit.
ABOVE: Comparison = operator.gt
AT_OR_ABOVE: Comparison = operator.ge
BELOW: Comparison = operator.lt
AT_OR_BELOW: Comparison = operator.le


class Rules:
    """Ordered thresholds over named signals: ``(rule, fails_when, limit)``.

    A rule whose limit is ``None`` is disabled and left out. :meth:`first_failure` returns
    the first rule whose signal crosses its limit; signals missing from the measurement
    (a rule skipped for a document) never fail.
    """

    def __init__(self, rules: Iterable[tuple[str, Comparison, float | None]]) -> None:
        self.rules = [(name, fails, limit) for name, fails, limit in rules if limit is not None]
        self.names = frozenset(name for name, _, _ in self.rules)

    def first_failure(self, signals: Mapping[str, Any]) -> str | None:
        for name, fails, limit in self.rules:
            value = signals.get(name)
            if value is not None and fails(value, limit):
                return name
        return None


__all__ = [
    "ABOVE",
    "AT_OR_ABOVE",
    "AT_OR_BELOW",
    "BELOW",
    "NO_SPACE_LANGUAGES",
    "PUNCTUATION",
    "TERMINAL_PUNCTUATION",
    "Rules",
    "TextView",
    "duplicate_stats",
    "ends_with_terminal",
    "filterfalse",
    "ngram_char_fractions",
    "no_space_language",
    "ratio",
    "text_view",
]
