"""Text measurements shared by the quality filters: split once, measure many times.

A :class:`TextView` splits one text into lines, paragraphs and words lazily, each at most
once, so that a dozen rules reading the same document share one tokenisation (peer
implementations re-split inside every rule). :func:`text_view` hands the same view to
every stage that looks at an unchanged text, so GopherRepetition and GopherQuality in a row
split a document once between them.

Words are what Rae et al. (2021) mean by words: whitespace-separated tokens. Where a rule
compares a word to a list or measures its length, surrounding punctuation is ignored, and a
token made only of punctuation (``-``, ``...``, ``#``) is not a word. The repetition
n-grams are over :attr:`TextView.ngram_tokens` instead, in which punctuation marks count.
"""

from __future__ import annotations

import re
import string
import struct
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from itertools import compress, repeat
from operator import is_not
from typing import Any

import numpy as np


def _char_range(first: int, last: int) -> str:
    return "".join(map(chr, range(first, last + 1)))


#: characters ignored around a word: ASCII punctuation and symbols, Latin-1 marks (¡ § « ¶ ·
#: » ¿), the Devanagari danda (। ॥, Hindi's full stop), General Punctuation (dashes, curly
#: quotes, …), CJK and full-width punctuation. Kept to the marks that occur in text:
#: ``str.strip`` pays for every character listed here.
PUNCTUATION = (
    string.punctuation
    + "¡§«¶·»¿।॥"
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
    base = language_code(meta)
    if base is not None:
        return base if base in NO_SPACE_LANGUAGES else None
    return text_view(text).script_language


def language_code(meta: Mapping[str, Any]) -> str | None:
    """The base language code of ``meta["lang"]`` (``pt`` for ``pt-BR`` or ``pt_br``), or
    ``None`` when LanguageID has not set one."""
    lang = meta.get("lang")
    if isinstance(lang, str) and lang:
        return lang.replace("_", "-").split("-")[0].lower()
    return None


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
    def _split(self) -> tuple[list[str], list[str]]:
        """The lower-cased whitespace tokens, and each stripped of surrounding punctuation
        (``""`` for a token of punctuation only): words and n-gram tokens are made of both.

        The text is lower-cased once, not token by token (the only character whose lower
        case is longer is U+0130, so word lengths are those of the text).
        """
        text = self.text
        # str.strip pays for every character it is given, and an ASCII text can only hold
        # the ASCII marks. Stripping every token in C is cheaper than picking out the few
        # that need it in Python (a token with nothing to strip is returned as it is).
        marks = string.punctuation if text.isascii() else PUNCTUATION
        tokens = text.lower().split()
        return tokens, list(map(str.strip, tokens, repeat(marks)))

    @_lazy
    def words(self) -> list[str]:
        """Lower-cased whitespace tokens without surrounding punctuation; tokens made only
        of punctuation are dropped."""
        return list(filter(None, self._split[1]))

    @_lazy
    def word_lengths(self) -> list[int]:
        return list(map(len, self.words))

    @_lazy
    def ngram_tokens(self) -> list[str]:
        """The tokens of the repetition n-grams: the words, and the punctuation around them
        as tokens of its own, as datatrove's (FineWeb's) spaCy tokens have it: ``Title``
        underlined ``=====`` is ``title = = = = =``, ``(see os.path),`` is ``( see os.path )
        ,``. A run of hyphens or of dots is one token (a dash ``--``, a rule, an ellipsis,
        as in spaCy); marks inside a word stay in it (``don't``, ``3.14``, ``e-mail``).
        Lower-cased, as the words (datatrove keeps the case)."""
        tokens, cores = self._split
        out: list[str] = []
        done = 0
        # only the tokens that lost punctuation to strip() are taken apart, in Python
        for i in compress(range(len(tokens)), map(is_not, tokens, cores)):
            out += tokens[done:i]
            done = i + 1
            token, core = tokens[i], cores[i]
            if core and len(token) == len(core) + 1:  # most often: a mark before or after a word
                out += (token[0], core) if token[0] != core[0] else (core, token[-1])
            else:
                _take_apart(token, core, out)
        if not done:
            return tokens
        out += tokens[done:]
        return out

    @_lazy
    def ngram_token_lengths(self) -> list[int]:
        return list(map(len, self.ngram_tokens))


#: the tokens of a run of punctuation: runs of hyphens and of dots are one each
_MARK_TOKENS = re.compile(r"-+|\.+|.", re.DOTALL)


def _take_apart(token: str, core: str, out: list[str]) -> None:
    """Append the n-gram tokens of a whitespace token to ``out``: the punctuation before
    its word ``core``, the word, the punctuation after it."""
    if not core:
        out += _MARK_TOKENS.findall(token) if len(token) > 1 else [token]
        return
    start = token.find(core)  # the marks before it cannot hold its first character
    end = start + len(core)
    if start:
        out += _MARK_TOKENS.findall(token[:start]) if start > 1 else [token[0]]
    out.append(core)
    if end < len(token):
        out += _MARK_TOKENS.findall(token[end:]) if end + 1 < len(token) else [token[-1]]


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


#: one document for the n-gram signals: its tokens, their lengths, and the characters the
#: fractions are of (the whole text's, or the tokens')
NgramDoc = tuple[Sequence[str], Sequence[int], int]


def ngram_char_fractions(
    tokens: Sequence[str],
    lengths: Sequence[int],
    top: Iterable[int],
    dup: Iterable[int],
    *,
    total: int | None = None,
    spaced: bool = False,
    count_first_copy: bool = False,
) -> dict[str, float]:
    """Gopher's n-gram repetition signals (Rae et al. 2021, appendix A.1.1 and table A1),
    as fractions of ``total`` characters (default: the characters of the tokens).

    ``top_{n}gram``: the characters of the most frequent n-gram (the first to occur among
    equals) times its number of copies, overlapping copies each counted, as datatrove's
    ``GopherRepetitionFilter`` and RedPajama-V2 count it; with ``spaced`` an n-gram's
    characters include the n - 1 spaces between its tokens (datatrove joins them with
    spaces). 0 when no n-gram occurs twice.

    ``dup_{n}gram``: the characters in repeats of n-grams. Read left to right, a copy of an
    n-gram that occurred before is a repeat and counts, and the reading goes on after its
    end, so no character counts twice (datatrove's scan, and so FineWeb's). With
    ``count_first_copy``: every character covered by any copy of a repeated n-gram, the
    first copy included (RedPajama-V2). One document; see :func:`ngram_char_fractions_batch`.
    """
    total = sum(lengths) if total is None else total
    return ngram_char_fractions_batch(
        [(tokens, lengths, total)], top, dup, spaced=spaced, count_first_copy=count_first_copy
    )[0]


def ngram_char_fractions_batch(
    docs: Sequence[NgramDoc],
    top: Iterable[int],
    dup: Iterable[int],
    *,
    spaced: bool = False,
    count_first_copy: bool = False,
) -> list[dict[str, float]]:
    """:func:`ngram_char_fractions` of each ``(tokens, token lengths, total)`` in ``docs``.

    The batch is one numpy computation: per document, a few dozen array operations on a few
    hundred tokens would cost more in numpy's per-call overhead than in the work, so the
    documents are laid end to end and every step runs once over all of them (up to about a
    million tokens at a time, to bound the memory). No n-gram is built as a string or
    hashed: tokens become integer ids (exact, no collisions), and an n-gram is identified
    by the id of its (n-1)-gram prefix and the id of its last token.

    One round per n, from 2 up: sort the candidate starts by that pair of ids, so that the
    copies of each n-gram are neighbours, and count them. Every repeated n-gram starts with
    a repeated (n-1)-gram, so only the starts that repeated in one round go on to the next,
    and the rounds stop when none did. (On the benchmark's English documents, 53% of the
    words start a candidate for n = 2, 16% for n = 4, 6% for n = 10.)
    """
    top, dup = set(top), set(dup)
    results: list[dict[str, float]] = []
    chunk: list[NgramDoc] = []
    size = 0
    for doc in docs:
        chunk.append(doc)
        size += len(doc[0])
        if size >= _CHUNK_TOKENS:
            results += _ngram_chunk(chunk, top, dup, spaced, count_first_copy)
            chunk, size = [], 0
    return results + _ngram_chunk(chunk, top, dup, spaced, count_first_copy)


#: tokens laid out for one numpy computation (more documents are done in several)
_CHUNK_TOKENS = 1 << 20


def _layout(docs: Sequence[NgramDoc]) -> tuple[list[int], list[int], list[int], list[int]]:
    """Lay a batch out for :func:`_ngram_chunk`: token ids, token lengths, and per laid-out
    document its position in ``docs`` and its span in the layout (separator included).

    Each document's tokens, then a separator. A token's id is the position of its first
    occurrence in its own document, so equal tokens share an id within a document and never
    across documents; a separator's id is its own position, so no repeated n-gram spans two
    documents (or runs past the end). A document without a repeated token repeats no n-gram:
    it is left out (and keeps its zeros).
    """
    ids: list[int] = []
    lens: list[int] = []
    index: list[int] = []
    spans: list[int] = []
    for i, (tokens, lengths, _) in enumerate(docs):
        offset = len(ids)
        count = len(tokens)
        first: dict[str, int] = {}
        ids += map(first.setdefault, tokens, range(offset, offset + count))
        if len(first) == count:
            del ids[offset:]
            continue
        ids.append(offset + count)
        lens += lengths
        lens.append(0)
        index.append(i)
        spans.append(count + 1)
    return ids, lens, index, spans


def _ngram_chunk(
    docs: Sequence[NgramDoc], top: set[int], dup: set[int], spaced: bool, count_first_copy: bool
) -> list[dict[str, float]]:
    """:func:`ngram_char_fractions_batch` of a batch of at most about a million tokens."""
    template = {f"top_{n}gram": 0.0 for n in sorted(top)}
    template.update({f"dup_{n}gram": 0.0 for n in sorted(dup)})
    results = [dict(template) for _ in docs]
    cap = max(top | dup, default=0)
    if cap < 2:
        return results
    ids, lens, index, spans = _layout(docs)
    if not index:
        return results
    size = len(ids)  # every id (and so every n-gram id below) is < size
    # struct.pack turns a list of ints into int64s for half the cost of np.array(list)
    word_ids = np.frombuffer(struct.pack(f"{size}q", *ids), np.int64)
    cum = np.zeros(size + 1, np.int64)  # characters before each position
    np.cumsum(np.frombuffer(struct.pack(f"{size}q", *lens), np.int64), out=cum[1:])
    doc_of = np.repeat(np.arange(len(index)), spans)  # laid-out document of each position
    chars: dict[str, np.ndarray] = {}  # signal -> characters counted, per laid-out document

    # round 2's candidates: a bigram can only repeat where both of its tokens do. The
    # candidates stay in the order of the last round's sort: the starts of one (n-1)-gram
    # are neighbours, in increasing order, so after this round's (stable) sort the starts of
    # one n-gram are too, its first copy first, and nothing is sorted back by position.
    twice = np.bincount(word_ids, minlength=size)[word_ids] > 1
    starts = np.flatnonzero(twice[:-1] & twice[1:])
    prefix = word_ids[starts]  # id of the (n-1)-gram at each start
    for n in range(2, cap + 1):
        if not len(starts):
            break  # nothing repeats at n - 1, so nothing longer repeats either
        # the last token of a repeated (n-1)-gram is in its document: start + n - 1 < size
        keys = prefix * size + word_ids[starts + n - 1]
        order, ranked = _argsort(keys, size, grouped=n > 2)
        starts = starts[order]
        head = np.empty(len(ranked), bool)  # first of its run of equal keys: the 1st copy
        head[0] = True
        np.not_equal(ranked[1:], ranked[:-1], out=head[1:])
        gram = head.cumsum() - 1  # n-gram id of each sorted start
        edges = np.flatnonzero(head)
        copies = np.diff(edges, append=len(ranked))  # copies of each n-gram
        if n in top:
            chars[f"top_{n}gram"] = _most_frequent(
                starts[edges], copies, n, spaced, cum, doc_of, len(index)
            )
        if n in dup and not count_first_copy:
            later = np.sort(starts[~head])
            chars[f"dup_{n}gram"] = _scanned_repeats(later, n, cum, doc_of, len(index))
        repeated = (copies > 1)[gram]
        starts, prefix = starts[repeated], gram[repeated]
        if n in dup and count_first_copy:
            every = np.sort(starts)
            chars[f"dup_{n}gram"] = _span_chars(every, n, cum, doc_of, len(index))

    totals = np.array([docs[i][2] for i in index], np.float64)
    for name, counted in chars.items():
        # the float division and rounding of ratio(); 0 for a document without characters
        shares = np.divide(counted, totals, out=np.zeros(len(index)), where=totals > 0)
        for i, share in zip(index, shares.tolist(), strict=True):
            results[i][name] = round(share, 4)
    return results


def _argsort(keys: np.ndarray, size: int, grouped: bool) -> tuple[np.ndarray, np.ndarray]:
    """``keys.argsort()`` and the sorted keys, for keys below ``size**2``; equal keys keep
    their order (the first copy of an n-gram comes first).

    Sorting values is about twice as fast as sorting indices, so where the key and its
    index fit in 63 bits together (layouts of up to 2 million tokens) they are sorted as one.
    ``grouped`` keys are already in order but for their last token (the candidates of a
    round after the first): numpy's stable sort (timsort) finds those runs and is about ten
    times faster on them than its default quicksort, which is faster on unordered keys.
    """
    bits = (len(keys) - 1).bit_length()
    if 2 * (size - 1).bit_length() + bits > 63:
        order = keys.argsort(kind="stable")  # equal keys in index order, as below
        return order, keys[order]
    packed = np.sort(keys << bits | np.arange(len(keys)), kind="stable" if grouped else None)
    return packed & (1 << bits) - 1, packed >> bits


def _most_frequent(
    firsts: np.ndarray, copies: np.ndarray, n: int, spaced: bool, cum: np.ndarray,
    doc_of: np.ndarray, docs: int,
) -> np.ndarray:  # fmt: skip
    """Per document, the characters of its most frequent n-gram (with ``spaced``, plus the
    n - 1 spaces between its tokens) times its copies; most copies win, then the earliest
    first copy; 0 where no n-gram repeats. ``firsts``: the first copy of each n-gram;
    ``copies``: how many it has."""
    score = copies * len(cum) - firsts
    doc = doc_of[firsts]
    best = np.zeros(docs, np.int64)
    np.maximum.at(best, doc, score)
    won = np.flatnonzero((score == best[doc]) & (copies > 1))  # one per document at most
    length = cum[firsts[won] + n] - cum[firsts[won]] + (n - 1) * spaced
    return np.bincount(doc[won], weights=length * copies[won], minlength=docs)


def _scanned_repeats(
    starts: np.ndarray, n: int, cum: np.ndarray, doc_of: np.ndarray, docs: int
) -> np.ndarray:
    """Characters per document in the n-token spans at increasing ``starts`` that a left to
    right reading counts: a span counts unless it begins inside the last span counted.

    Each span's successor is the first start at or after its end; the counted spans are the
    chain of successors from the first span (chains never cross documents: no span does).
    The chain is marked by pointer doubling, log2(len(starts)) array steps; when no two
    spans overlap (most prose), every span counts and there is no chain to follow."""
    if not len(starts):
        return np.zeros(docs)
    following = np.searchsorted(starts, starts + n)
    if not np.any(following[:-1] != np.arange(1, len(starts))):
        counted = starts
    else:
        jump = np.append(following, len(starts))  # past the last span: stays there
        on = np.zeros(len(jump), bool)
        on[0] = True
        while True:  # `on` holds the first 2**k spans of the chain, `jump` its 2**k-th step
            reached = jump[np.flatnonzero(on)]
            if on[reached].all():
                break  # the chain has reached its end
            on[reached] = True
            jump = jump[jump]
        counted = starts[on[:-1]]
    return np.bincount(doc_of[counted], weights=cum[counted + n] - cum[counted], minlength=docs)


def _span_chars(
    starts: np.ndarray, n: int, cum: np.ndarray, doc_of: np.ndarray, docs: int
) -> np.ndarray:
    """Characters per document in the union of the n-token spans at increasing ``starts``
    (spans never cross documents); a span overlapping the one before counts from its end."""
    ends = starts + n
    lows = starts.copy()
    np.maximum(starts[1:], ends[:-1], out=lows[1:])
    return np.bincount(doc_of[starts], weights=cum[ends] - cum[lows], minlength=docs)


__all__ = [
    "NO_SPACE_LANGUAGES",
    "PUNCTUATION",
    "TERMINAL_PUNCTUATION",
    "TextView",
    "duplicate_stats",
    "ends_with_terminal",
    "language_code",
    "NgramDoc",
    "ngram_char_fractions",
    "ngram_char_fractions_batch",
    "no_space_language",
    "ratio",
    "text_view",
]
