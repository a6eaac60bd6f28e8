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
import string
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from itertools import accumulate, chain, filterfalse, pairwise
from typing import Any


def _char_range(first: int, last: int) -> str:
    return "".join(map(chr, range(first, last + 1)))


#: characters ignored around a word: ASCII punctuation and symbols, Latin-1 marks (¡ § « ¶ ·
#: » ¿), General Punctuation (dashes, curly quotes, …), CJK and full-width punctuation. Kept
#: to the marks that occur in text: ``str.strip`` pays for every character listed here.
PUNCTUATION = (
    string.punctuation
    + "¡§«¶·»¿"
    + _char_range(0x2010, 0x2027)
    + _char_range(0x2030, 0x205E)
    + _char_range(0x3001, 0x3003)
    + _char_range(0x3008, 0x301F)
    + "！＂＃％＆＇（）＊，－．／：；？＠［＼］＿｛｝｡｢｣､･"
)

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
    Tibetan letters making up at least 30% of the non-space characters. The script check is
    done once per text and shared through :func:`text_view`.
    """
    lang = meta.get("lang")
    if isinstance(lang, str) and lang:
        base = lang.replace("_", "-").split("-")[0].lower()
        return base if base in NO_SPACE_LANGUAGES else None
    return text_view(text).script_language


def script_language(text: str) -> str | None:
    """The no-space language suggested by the scripts of ``text``'s first characters."""
    sample = text[:_SCRIPT_SAMPLE]
    if sample.isascii():
        return None
    hits = _NO_SPACE_SCRIPT.findall(sample)
    if not hits or len(hits) < NO_SPACE_SCRIPT_RATIO * len("".join(sample.split())):
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


class _lazy:
    """``functools.cached_property`` without its per-access lock (Python < 3.12): the value
    is computed on first access and stored on the instance, which then shadows this."""

    def __init__(self, func: Callable[[Any], Any]) -> None:
        self.func = func
        self.name = func.__name__
        self.__doc__ = func.__doc__

    def __get__(self, obj: Any, cls: Any = None) -> Any:
        if obj is None:
            return self
        value = obj.__dict__[self.name] = self.func(obj)
        return value


class TextView:
    """Splits of one text, each computed on first use and then shared by every rule."""

    def __init__(self, text: str) -> None:
        self.text = text

    @_lazy
    def raw_lines(self) -> list[str]:
        """``str.splitlines()``, blank lines included (C4 works line by line on these)."""
        return self.text.splitlines()

    @_lazy
    def lines(self) -> list[str]:
        """Non-blank lines, stripped of surrounding whitespace."""
        return [line for line in map(str.strip, self.raw_lines) if line]

    @_lazy
    def line_lengths(self) -> list[int]:
        return list(map(len, self.lines))

    @_lazy
    def paragraphs(self) -> list[str]:
        """Blocks separated by at least one blank line, stripped, empty ones dropped."""
        return [p for p in map(str.strip, _PARAGRAPH_BREAK.split(self.text)) if p]

    @_lazy
    def script_language(self) -> str | None:
        """See :func:`no_space_language` (without LanguageID's ``meta["lang"]``)."""
        return script_language(self.text)

    @_lazy
    def words(self) -> list[str]:
        """Lower-cased whitespace tokens without surrounding punctuation; tokens made only
        of punctuation are dropped.

        The text is lower-cased once, not word by word (the only character whose lower case
        is longer is U+0130, so word lengths are those of the text).
        """
        tokens = self.text.lower().split()
        # Most tokens are all letters or digits: strip only the others, once per distinct one.
        stripped = {t: t.strip(PUNCTUATION) for t in set(filterfalse(str.isalnum, tokens))}
        words = map(stripped.get, tokens, tokens)
        return list(filter(None, words) if "" in stripped.values() else words)

    @_lazy
    def word_lengths(self) -> list[int]:
        return list(map(len, self.words))


#: Views kept per process, by number and by characters of text (a view's lists take ~10x
#: its text): enough for a batch of 256 web pages to travel through several stages in a row.
_VIEW_CACHE_SIZE = 1024
_VIEW_CACHE_CHARS = 2_000_000
_views: OrderedDict[int, TextView] = OrderedDict()
_cached_chars = 0


def text_view(text: str) -> TextView:
    """The shared :class:`TextView` of ``text``.

    Views are cached by the identity of the string, so stages that see the same unmodified
    document reuse one split; a modified text is a new string and gets a new view. The
    cache is small, bounded and per process; it only saves work.
    """
    global _cached_chars
    key = id(text)  # unique among live strings, and a cached view keeps its text alive
    view = _views.get(key)
    if view is not None:
        return view
    view = _views[key] = TextView(text)
    _cached_chars += len(text)
    while len(_views) > _VIEW_CACHE_SIZE or (_cached_chars > _VIEW_CACHE_CHARS and _views):
        _cached_chars -= len(_views.popitem(last=False)[1].text)
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

    ``top_{n}gram``: share of word characters covered by the most frequent n-gram (the
    first to occur among equals; 0 when no n-gram occurs twice). ``dup_{n}gram``: share of
    word characters covered by n-grams that occur more than once, characters inside
    overlapping n-grams counted once.

    No n-gram is built as a string and no n is counted on its own. Bigrams are hashed and
    counted at every position in C (``map``/``pairwise``/``Counter``). Every repeated
    n-gram starts with a repeated bigram, so only those positions go on to
    :func:`_repeats`, which settles all longer n at once.
    """
    top, dup = set(top), set(dup)
    result = {f"top_{n}gram": 0.0 for n in sorted(top)}
    result.update({f"dup_{n}gram": 0.0 for n in sorted(dup)})
    max_n = max(top | dup, default=0)
    cum = [0, *accumulate(lengths)]
    total = cum[-1]
    if not total or max_n < 2 or len(words) < 2:
        return result
    keys = list(map(hash, pairwise(words)))
    counts = Counter(keys)
    if len(counts) == len(keys):  # no bigram repeats, so no longer n-gram does either
        return result
    # repeated bigram -> its starts, in order of first occurrence
    groups: dict[int, list[int]] = {key: [] for key, count in counts.items() if count > 1}
    for start, key in enumerate(keys):
        if key in groups:
            groups[key].append(start)
    if 2 in top:
        result["top_2gram"] = ratio(_covered(max(groups.values(), key=len), 2, cum), total)
    if 2 in dup:
        result["dup_2gram"] = ratio(_covered(sorted(chain(*groups.values())), 2, cum), total)
    if max_n > 2:
        reach, most = _repeats(words, groups.values(), 2, max_n, top)
        for n, starts in most.items():
            result[f"top_{n}gram"] = ratio(_covered(starts, n, cum), total)
        deepest = max(reach.values(), default=0)
        starts = sorted(reach.items())
        for n in sorted(d for d in dup if 2 < d <= deepest):
            at = [start for start, length in starts if length >= n]
            result[f"dup_{n}gram"] = ratio(_covered(at, n, cum), total)
    return result


def _repeats(
    words: Sequence[str], groups: Iterable[list[int]], base: int, cap: int, top: set[int]
) -> tuple[dict[int, int], dict[int, list[int]]]:
    """Longer repeats, from groups of the starts of one repeated ``base``-gram each.

    Returns ``reach``: for each start that repeats beyond ``base`` words, the length (up to
    ``cap``) of the longest word sequence from there that also occurs elsewhere, so the
    n-gram at ``p`` repeats iff ``reach[p] >= n``; and for each n > ``base`` in ``top``,
    the sorted starts of the most frequent n-gram (the earliest among equals).

    A group of copies of one n-gram splits by the word that follows into the groups of
    copies of (n+1)-grams; splitting stops when no two copies go on alike. Each copy is
    touched once per extra word it shares, and most groups are a pair, which takes a
    short path.
    """
    last = len(words)
    reach: dict[int, int] = {}
    best: dict[int, tuple[int, int, list[int]]] = {}  # n -> (copies, -first start, starts)
    longer = sorted(n for n in top if n > base)
    stack = [(group, base) for group in groups]
    while stack:
        group, length = stack.pop()
        if len(group) == 2:
            a, b = group
            limit = cap if cap < last - b else last - b
            while length < limit and words[a + length] == words[b + length]:
                length += 1
            if length > base:
                reach[a] = reach[b] = length
            for n in longer:
                if n > length:
                    break
                held = best.get(n)
                if held is None or held[0] < 2 or (held[0] == 2 and held[1] < -a):
                    best[n] = (2, -a, group)
            continue
        if length > base:
            reach.update(dict.fromkeys(group, length))
        if length > base and length in top:
            candidate = (len(group), -group[0], group)
            held = best.get(length)
            if held is None or candidate[:2] > held[:2]:
                best[length] = candidate
        if length == cap:
            continue
        following: dict[str, list[int]] = {}
        for start in group:
            if start + length < last:
                word = words[start + length]
                if word in following:
                    following[word].append(start)
                else:
                    following[word] = [start]
        for copies in following.values():
            if len(copies) > 1:
                stack.append((copies, length + 1))
    return reach, {n: sorted(copies) for n, (_, _, copies) in sorted(best.items())}


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
    "ngram_char_fractions",
    "no_space_language",
    "ratio",
    "text_view",
]
