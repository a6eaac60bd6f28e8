"""Quality filters that reproduce published rules: Gopher, C4 and FineWeb.

Each filter measures its signals into ``doc.meta[<stage name>]`` first (rounded to 4
decimals) and then decides on exactly those numbers, so a report or a user re-applying a
threshold to the stored meta gets the same decision. A failed rule drops the document with
the rule's name as reason (``gopher_quality:mean_word_length``) and the stored value against
the threshold as detail (``mean_word_length 2.1 < 3.0``, in rejects/). Every threshold is a
named parameter and ``None`` (``False`` for on/off rules) disables it.

Languages written without spaces (Chinese, Japanese, Thai, ...): word-based rules are
skipped for them, never applied to a meaningless word split. The document's meta then says
``"word_rules_skipped": "<lang>"`` and the stage counts it in ``stage.notes``. The language
comes from ``meta["lang"]`` when LanguageID ran before, else from a Unicode script check.
"""

import re
from collections import Counter
from collections.abc import Callable, Iterable
from itertools import filterfalse
from operator import itemgetter, methodcaller
from pathlib import Path
from typing import Any

from cleanpipe.document import Document
from cleanpipe.stages.base import SignalFilter, register
from cleanpipe.stages.data import stop_words_for
from cleanpipe.stages.measure import (
    NgramDoc,
    TextView,
    duplicate_stats,
    ends_with_terminal,
    language_code,
    ngram_char_fractions_batch,
    ratio,
    text_view,
)
from cleanpipe.stages.rules import ABOVE, AT_OR_ABOVE, AT_OR_BELOW, BELOW, Drop, Rules

#: Rae et al. (2021), appendix A.1.1: the stop-word rule's list.
GOPHER_STOP_WORDS = ("the", "be", "to", "of", "and", "that", "have", "with")
_ENGLISH_STOP_WORDS = frozenset(GOPHER_STOP_WORDS)
#: what a line may start with to count as a bullet point.
BULLETS = ("•", "‣", "⁃", "◦", "▪", "▫", "●", "○", "■", "□", "►", "➢", "➤", "-", "*", "–")
ELLIPSES = ("...", "…")
_LETTER = re.compile(r"[^\W\d_]")


def _letterless(words: Iterable[str]) -> int:
    """How many words contain no letter (``1999``, ``3.14``); all-letter words skip the regex."""
    others = list(filterfalse(str.isalpha, words))
    return len(others) - sum(map(bool, map(_LETTER.search, others)))


def _share(lines: list[str], test: Callable[[str], bool]) -> float:
    """Fraction of ``lines`` for which ``test(line)`` is true."""
    return ratio(sum(map(test, lines)), len(lines))


_BULLET_MARKS = frozenset(BULLETS)  # every bullet is a single character


def _bullet_share(lines: list[str]) -> float:
    """Fraction of (stripped, non-blank) ``lines`` starting with a bullet: a set lookup of
    each first character, several times cheaper than ``startswith`` with 16 prefixes."""
    return ratio(sum(map(_BULLET_MARKS.__contains__, map(itemgetter(0), lines))), len(lines))


_ends_with_ellipsis = methodcaller("endswith", ELLIPSES)


@register("gopher_quality")
class GopherQuality(SignalFilter):
    """Gopher quality filter: Rae et al. 2021, "Scaling Language Models: Methods, Analysis &
    Insights from Training Gopher", appendix A.1.1 (MassiveText quality filters).

    Drops a document with fewer than 50 or more than 100,000 words, a mean word length
    outside 3..10 characters, more than 0.1 ``#`` or ellipses (``...``/``…``) per word, more
    than 90% of lines starting with a bullet point or 30% ending with an ellipsis, less than
    80% of words containing a letter, or fewer than 2 of the stop words
    {the, be, to, of, and, that, have, with}.

    Stop words by language: the paper's list is English. A document whose ``meta["lang"]``
    (set by LanguageID) names another language is tested against that language's list
    (``cleanpipe/stages/data/stop_words/``, written for cleanpipe after FineWeb-2's
    per-language lists, Penedo et al. 2025), still needing 2 distinct words; a language
    without a list skips the rule (``"stop_words_skipped": "<lang>"`` in its meta, counted
    in ``notes``); a document without ``lang`` uses the English list. ``stop_words=[...]``
    sets one list for every document.

    Follows the paper where popular implementations differ: words are whitespace tokens
    with surrounding punctuation ignored, and a punctuation mark is not a word (datatrove's
    spaCy tokens make every mark a word of its symbol and alphabetic ratios); the stop-word
    rule counts distinct words from the list, case-insensitively (datatrove: "The" is not
    "the"); blank lines are not lines (datatrove counts them, and only ``•``/``-`` as
    bullets). Signals: ``word_count``, ``mean_word_length``, ``hash_ratio``,
    ``ellipsis_ratio``, ``bullet_lines``, ``ellipsis_lines``, ``alpha_words``,
    ``stop_words`` (rule names are the same).
    """

    def __init__(
        self,
        *,
        min_words: int | None = 50,
        max_words: int | None = 100_000,
        min_mean_word_length: float | None = 3,
        max_mean_word_length: float | None = 10,
        max_hash_ratio: float | None = 0.1,
        max_ellipsis_ratio: float | None = 0.1,
        max_bullet_lines: float | None = 0.9,
        max_ellipsis_lines: float | None = 0.3,
        min_alpha_words: float | None = 0.8,
        min_stop_words: int | None = 2,
        stop_words: list[str] | None = None,
        annotate_only: bool = False,
    ) -> None:
        super().__init__(annotate_only=annotate_only)
        #: the one list for every document, or None: the list of the document's language
        self.stop_words = frozenset(w.lower() for w in stop_words) if stop_words else None
        self.rules = Rules(
            [
                ("word_count", BELOW, min_words),
                ("word_count", ABOVE, max_words),
                ("mean_word_length", BELOW, min_mean_word_length),
                ("mean_word_length", ABOVE, max_mean_word_length),
                ("hash_ratio", ABOVE, max_hash_ratio),
                ("ellipsis_ratio", ABOVE, max_ellipsis_ratio),
                ("bullet_lines", ABOVE, max_bullet_lines),
                ("ellipsis_lines", ABOVE, max_ellipsis_lines),
                ("alpha_words", BELOW, min_alpha_words),
                ("stop_words", BELOW, min_stop_words),
            ]
        )

    def measure(self, doc: Document) -> dict[str, Any]:
        text = doc.text
        view = text_view(text)
        signals: dict[str, Any] = {}
        if self.word_rules_apply(doc, signals):
            signals.update(self._word_signals(text, view))
            stop_words = self._stop_words(doc, signals)
            if stop_words is not None:
                signals["stop_words"] = len(stop_words.intersection(view.words))
        lines = view.lines
        signals["bullet_lines"] = _bullet_share(lines)
        signals["ellipsis_lines"] = _share(lines, _ends_with_ellipsis)
        return signals

    def _word_signals(self, text: str, view: TextView) -> dict[str, Any]:
        words = view.words
        n = len(words)
        return {
            "word_count": n,
            "mean_word_length": ratio(sum(view.word_lengths), n),
            "hash_ratio": ratio(text.count("#"), n),
            "ellipsis_ratio": ratio(text.count("...") + text.count("…"), n),
            "alpha_words": ratio(n - _letterless(words), n),
        }

    def _stop_words(self, doc: Document, signals: dict[str, Any]) -> frozenset[str] | None:
        """The stop-word list for ``doc``; None (noted in ``signals`` and ``notes``) for a
        language without one."""
        if self.stop_words is not None:
            return self.stop_words
        lang = language_code(doc.meta)
        if lang is None or lang == "en":
            return _ENGLISH_STOP_WORDS
        words = stop_words_for(lang)
        if words is None:
            signals["stop_words_skipped"] = lang
            self.notes[f"stop_words_skipped:{lang}"] += 1
        return words


#: Rae et al. (2021), table A1: n-gram sizes and their default limits.
_TOP_NGRAMS = {2: 0.20, 3: 0.18, 4: 0.16}
_DUP_NGRAMS = {5: 0.15, 6: 0.14, 7: 0.13, 8: 0.12, 9: 0.11, 10: 0.10}


#: what the n-gram rules of GopherRepetition can be counted over (``ngrams_of``)
NGRAMS_OF = ("text", "words")


@register("gopher_repetition")
class GopherRepetition(SignalFilter):
    """Gopher repetition filter: Rae et al. 2021, appendix A.1.1 and table A1.

    Drops a document whose duplicate lines or paragraphs exceed 30% of all lines or
    paragraphs, or 20% of its characters; whose most frequent 2-, 3- or 4-gram covers more
    than 20%, 18% or 16% of its characters; or whose repeated 5- to 10-grams cover more
    than 15%, 14%, 13%, 12%, 11% or 10% of them.

    Where the paper leaves the computation open, cleanpipe computes what datatrove's
    ``GopherRepetitionFilter`` does, the implementation FineWeb (Penedo et al. 2024), the
    most-validated dataset built with these rules, was filtered with: every fraction is of
    the document's characters (``len(text)``); a duplicate line, paragraph or n-gram is a
    second or later copy; repeated n-grams are counted reading left to right, each repeat
    from where the last one counted ends (no character twice, as the paper asks); the top
    n-gram is its length (spaces between its tokens included) times its copies, 0 when no
    n-gram repeats; n-gram tokens are the words with the punctuation around them as tokens
    of its own, as datatrove's spaCy tokens have it (an underline ``=====`` is five tokens;
    :attr:`~cleanpipe.stages.measure.TextView.ngram_tokens`), lower-cased as the words.
    Lines are the non-blank lines, stripped (datatrove splits on newlines and keeps blank
    lines of spaces). 98.2% of 1,654 held-out documents get datatrove's keep/drop decision
    (docs/quality.md; benchmarks/agreement_gopher_repetition.py).

    ``ngrams_of="words"`` is RedPajama-V2's reading of the n-gram rules (Weber et al.
    2024): n-grams of the words of the word rules (lower-cased, punctuation stripped, a
    mark alone is not a word), fractions of the characters in words, the top n-gram's
    characters without spaces; ``count_first_copy=True`` counts every copy of a repeated
    n-gram, the first included, each character once (also RedPajama-V2's; twice as strict
    on a passage said twice). Signals: ``dup_lines``, ``dup_paragraphs``,
    ``dup_line_chars``, ``dup_paragraph_chars``, ``top_{2,3,4}gram``, ``dup_{5..10}gram``.
    """

    def __init__(
        self,
        *,
        max_dup_lines: float | None = 0.30,
        max_dup_paragraphs: float | None = 0.30,
        max_dup_line_chars: float | None = 0.20,
        max_dup_paragraph_chars: float | None = 0.20,
        max_top_2gram: float | None = _TOP_NGRAMS[2],
        max_top_3gram: float | None = _TOP_NGRAMS[3],
        max_top_4gram: float | None = _TOP_NGRAMS[4],
        max_dup_5gram: float | None = _DUP_NGRAMS[5],
        max_dup_6gram: float | None = _DUP_NGRAMS[6],
        max_dup_7gram: float | None = _DUP_NGRAMS[7],
        max_dup_8gram: float | None = _DUP_NGRAMS[8],
        max_dup_9gram: float | None = _DUP_NGRAMS[9],
        max_dup_10gram: float | None = _DUP_NGRAMS[10],
        ngrams_of: str = "text",
        count_first_copy: bool = False,
        annotate_only: bool = False,
    ) -> None:
        super().__init__(annotate_only=annotate_only)
        if ngrams_of not in NGRAMS_OF:
            raise ValueError(f"ngrams_of must be text or words, got {ngrams_of!r}")
        self.ngrams_of = ngrams_of
        self.count_first_copy = count_first_copy
        top = {2: max_top_2gram, 3: max_top_3gram, 4: max_top_4gram}
        dup = {
            5: max_dup_5gram,
            6: max_dup_6gram,
            7: max_dup_7gram,
            8: max_dup_8gram,
            9: max_dup_9gram,
            10: max_dup_10gram,
        }
        self.top_ns = [n for n, limit in top.items() if limit is not None]
        self.dup_ns = [n for n, limit in dup.items() if limit is not None]
        self.rules = Rules(
            [
                ("dup_lines", ABOVE, max_dup_lines),
                ("dup_paragraphs", ABOVE, max_dup_paragraphs),
                ("dup_line_chars", ABOVE, max_dup_line_chars),
                ("dup_paragraph_chars", ABOVE, max_dup_paragraph_chars),
                *((f"top_{n}gram", ABOVE, limit) for n, limit in top.items()),
                *((f"dup_{n}gram", ABOVE, limit) for n, limit in dup.items()),
            ]
        )

    def measure(self, doc: Document) -> dict[str, Any]:
        return self.measure_batch([doc])[0]

    def measure_batch(self, docs: list[Document]) -> list[dict[str, Any]]:
        """The n-gram signals of a whole batch are one numpy computation
        (:func:`~cleanpipe.stages.measure.ngram_char_fractions_batch`); per document, numpy's
        per-call overhead would outweigh the work on a few hundred words."""
        measured: list[dict[str, Any]] = []
        ngram_docs: list[NgramDoc] = []
        wordy: list[dict[str, Any]] = []  # the signals of documents whose words count
        for doc in docs:
            view = text_view(doc.text)
            chars = len(doc.text)
            dup_lines, dup_line_chars = duplicate_stats(view.lines)
            dup_paras, dup_para_chars = duplicate_stats(view.paragraphs)
            signals: dict[str, Any] = {
                "dup_lines": ratio(dup_lines, len(view.lines)),
                "dup_paragraphs": ratio(dup_paras, len(view.paragraphs)),
                "dup_line_chars": ratio(dup_line_chars, chars),
                "dup_paragraph_chars": ratio(dup_para_chars, chars),
            }
            if (self.top_ns or self.dup_ns) and self.word_rules_apply(doc, signals):
                ngram_docs.append(self._ngram_doc(view))
                wordy.append(signals)
            measured.append(signals)
        fractions = ngram_char_fractions_batch(
            ngram_docs,
            self.top_ns,
            self.dup_ns,
            spaced=self.ngrams_of == "text",
            count_first_copy=self.count_first_copy,
        )
        for signals, ngrams in zip(wordy, fractions, strict=True):
            signals.update(ngrams)
        return measured

    def _ngram_doc(self, view: TextView) -> NgramDoc:
        """The tokens the n-gram rules count over, their lengths, and the whole they are
        fractions of: all the text (``ngrams_of="text"``) or its words (``"words"``)."""
        if self.ngrams_of == "text":
            return view.ngram_tokens, view.ngram_token_lengths, len(view.text)
        return view.words, view.word_lengths, sum(view.word_lengths)


#: T5's reference code (c4_utils.py): lines must end in one of these ...
C4_END_MARKS = (".", "?", "!", '"')
#: ... extended with the full stops, exclamation and question marks of CJK text.
C4_END_MARKS_NO_SPACE = (*C4_END_MARKS, "。", "！", "？", "．", "｡", "」", "』", "”")
C4_POLICY_SUBSTRINGS = (
    "terms of use",
    "privacy policy",
    "cookie policy",
    "uses cookies",
    "use of cookies",
    "use cookies",
)
_CITATION = re.compile(r"\[\d*\]|\[edit\]|\[citation needed\]")
#: a sentence ends at . ! ? followed by a space or the end of the line (not after a title
#: or an initial: "Mr. Bennet", "J. Austen", "e.g. this"), or at a CJK full stop.
_SENTENCE_END = re.compile(
    r"(?<!\bMr)(?<!\bMrs)(?<!\bMs)(?<!\bDr)(?<!\bSt)(?<!\bvs)(?<!\be\.g)(?<!\bi\.e)(?<!\b[A-Z])"
    r"[.!?]+[\"'”’»)\]]*(?=\s|$)|[。！？｡．]+[」』”]?"
)
#: scripts without sentence-final punctuation: C4's sentence rules cannot apply.
_NO_SENTENCE_MARKS = frozenset({"th", "lo"})


def count_sentences(line: str) -> int:
    """Sentences in one line: pieces between sentence-final marks (a stand-in for the NLTK
    punkt tokenizer of T5's code, which knows many more abbreviations)."""
    return sum(1 for piece in _SENTENCE_END.split(line) if piece.strip())


def load_bad_words(path: str) -> str:
    """A word list (one word or phrase a line, ``#`` comments) as one regex alternation."""
    words = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        word = line.strip().lower()
        if word and not word.startswith("#"):
            words.append(re.escape(word))
    if not words:
        raise ValueError(f"bad_words_file {path} lists no words")
    words.sort(key=len, reverse=True)  # longest first: "bad word" before "bad"
    return "|".join(words)


@register("c4_quality")
class C4Quality(SignalFilter):
    """C4 cleaning: Raffel et al. 2020, "Exploring the Limits of Transfer Learning with a
    Unified Text-to-Text Transformer" (T5), section 2.2, and its reference code
    (TensorFlow Datasets ``c4_utils.clean_page``).

    Line rules REMOVE lines: a line with a word over 1000 characters (code); a line not
    ending in ``. ? ! "`` or ending in ``...``; a line with fewer than 5 words; a line
    containing "javascript"; a line with cookie/privacy/terms-of-use boilerplate (code).
    Citation markers (``[1]``, ``[edit]``, ``[citation needed]``) are cut out (code). Page
    rules DROP pages: "lorem ipsum" or a ``{`` anywhere on the page, a word from
    ``bad_words_file`` (off unless given, e.g. the LDNOOBW list the paper used), or fewer
    than 3 sentences in the lines kept.

    Follows the paper where others differ: at least 3 sentences a page and 5 words a line
    (datatrove swaps them: 5 and 3); "lorem ipsum" and ``{`` drop the page wherever they
    occur (T5's code only looks at lines that survived the line rules). Kept lines keep
    their paragraph breaks (T5's code joins them with single newlines). Sentences are
    counted by sentence-final marks instead of NLTK punkt. ``terminal_punctuation=False``
    is FineWeb's variant (Penedo et al. 2024), which keeps lines without end marks.

    For languages without spaces the word rules (``long_word``, ``words_per_line``) are
    skipped and CJK end marks (。！？) count as terminal punctuation; for Thai and Lao, whose
    script has no sentence-final mark, ``terminal_punctuation`` and ``sentences`` are
    skipped too. With ``annotate_only`` lines are counted, not removed. Signals: ``lines``,
    ``lines_removed`` (by rule), ``sentences``, ``lorem_ipsum``, ``curly_bracket``,
    ``bad_words``.
    """

    def __init__(
        self,
        *,
        min_words_per_line: int | None = 5,
        min_sentences: int | None = 3,
        terminal_punctuation: bool = True,
        max_word_length: int | None = 1000,
        remove_citations: bool = True,
        javascript: bool = True,
        policy: bool = True,
        lorem_ipsum: bool = True,
        curly_bracket: bool = True,
        bad_words_file: str | None = None,
        annotate_only: bool = False,
    ) -> None:
        super().__init__(annotate_only=annotate_only)
        self.min_words_per_line = min_words_per_line
        self.max_word_length = max_word_length
        self.terminal_punctuation = terminal_punctuation
        self.remove_citations = remove_citations
        self.javascript = javascript
        self.policy = policy
        self.bad_words: re.Pattern[str] | None = None
        self.bad_words_anywhere: re.Pattern[str] | None = None
        if bad_words_file:
            words = load_bad_words(bad_words_file)
            # whole words where words are spaced; anywhere in text without spaces (as mC4)
            self.bad_words = re.compile(rf"(?<!\w)(?:{words})(?!\w)")
            self.bad_words_anywhere = re.compile(words)
        self.rules = Rules(
            [
                ("lorem_ipsum", ABOVE, 0 if lorem_ipsum else None, "contains lorem ipsum"),
                ("curly_bracket", ABOVE, 0 if curly_bracket else None, "contains {{"),
                (
                    "bad_words",
                    ABOVE,
                    0 if self.bad_words is not None else None,
                    "contains {bad_words} bad words",
                ),
                ("sentences", BELOW, min_sentences),
            ]
        )
        self._measure_sentences = min_sentences is not None

    def measure(self, doc: Document) -> dict[str, Any]:
        text = doc.text
        view = text_view(text)
        signals: dict[str, Any] = {}
        words_ok = self.word_rules_apply(doc, signals)
        sentence_marks = signals.get("word_rules_skipped") not in _NO_SENTENCE_MARKS
        kept, removed, changed, sentences = self._clean_lines(
            view.raw_lines,
            end_marks=C4_END_MARKS if words_ok else C4_END_MARKS_NO_SPACE,
            words_ok=words_ok,
            punctuation=self.terminal_punctuation and sentence_marks,
        )
        signals["lines"] = len(view.lines)
        signals["lines_removed"] = dict(removed)
        if self._measure_sentences and sentence_marks:
            signals["sentences"] = sentences
        lower = text.lower()
        signals["lorem_ipsum"] = "lorem ipsum" in lower
        signals["curly_bracket"] = "{" in text
        bad_words = self.bad_words if words_ok else self.bad_words_anywhere
        if bad_words is not None:
            signals["bad_words"] = len(bad_words.findall(lower))
        if changed and not self.annotate_only:
            doc.text = "\n".join(kept)
        return signals

    def decide(self, doc: Document, signals: dict[str, Any]) -> Drop | None:
        """As :meth:`SignalFilter.decide`; a page short of sentences also says how many of
        its lines the line rules removed (``sentences 1 < 3, 9 of 11 lines removed``)."""
        drop = super().decide(doc, signals)
        if drop is not None and drop.rule == "sentences" and signals["lines_removed"]:
            removed = sum(signals["lines_removed"].values())
            lines = signals["lines"]
            drop = Drop(drop.rule, f"{drop.detail}, {removed} of {lines} lines removed")
        return drop

    def _clean_lines(
        self, raw_lines: list[str], *, end_marks: tuple[str, ...], words_ok: bool, punctuation: bool
    ) -> tuple[list[str], Counter[str], bool, int]:
        """Apply the line rules in T5's order; keep paragraph breaks between kept lines.

        Returns the kept lines, removed lines by rule, whether anything was removed or cut,
        and the sentences in the kept lines.
        """
        kept: list[str] = []
        removed: Counter[str] = Counter()
        changed = False
        sentences = 0
        paragraph_break = False
        for raw in raw_lines:
            line = raw.strip()
            if line and words_ok and self._has_long_word(line):
                removed["long_word"] += 1
                continue
            if line and self.remove_citations and "[" in line:
                cut = _CITATION.sub("", line).strip()
                changed = changed or cut != line
                line = cut
            if not line:
                paragraph_break = bool(kept)
                continue
            rule = self._line_rule(line, end_marks, words_ok, punctuation)
            if rule is not None:
                removed[rule] += 1
                continue
            if paragraph_break:
                kept.append("")
                paragraph_break = False
            kept.append(line)
            sentences += count_sentences(line)
        return kept, removed, changed or bool(removed), sentences

    def _has_long_word(self, line: str) -> bool:
        limit = self.max_word_length
        return limit is not None and len(line) > limit and any(len(w) > limit for w in line.split())

    def _line_rule(
        self, line: str, end_marks: tuple[str, ...], words_ok: bool, punctuation: bool
    ) -> str | None:
        """The first of the remaining line rules that removes ``line``, or None."""
        if punctuation and (not line.endswith(end_marks) or line.endswith("...")):
            return "terminal_punctuation"
        if words_ok and self.min_words_per_line is not None:
            if len(line.split()) < self.min_words_per_line:
                return "words_per_line"
        lower = line.lower()
        if self.javascript and "javascript" in lower:
            return "javascript"
        if self.policy and any(p in lower for p in C4_POLICY_SUBSTRINGS):
            return "policy"
        return None


@register("fineweb_quality")
class FineWebQuality(SignalFilter):
    """FineWeb's own filters: Penedo et al. 2024, "The FineWeb Datasets: Decanting the Web
    for the Finest Text Data at Scale", section 3.3 (custom heuristic filters).

    Drops a document when at most 12% of its lines end in punctuation, when 10% or more of
    its characters are in duplicated lines, or when 67% or more of its lines are shorter
    than 30 characters. Bounds are inclusive, as in the paper (≤ 0.12, ≥ 0.1, ≥ 0.67).

    Follows the paper where datatrove's ``FineWebQualityFilter`` differs: its default
    duplicate-character limit is 0.01 instead of the paper's 0.1, it adds a fourth rule
    (newlines per word) that is not one of the paper's three, and it counts lines of
    exactly 30 characters as short ("shorter than 30" is ``< 30``; summaries that write
    "≤ 30" follow datatrove's code). A line ending in a mark followed by closing quotes or brackets
    (``"Yes."``) ends in punctuation. Lines are the non-blank lines, stripped. Signals:
    ``terminal_punct_lines``, ``dup_line_chars``, ``short_lines``.
    """

    def __init__(
        self,
        *,
        min_terminal_punct_lines: float | None = 0.12,
        max_dup_line_chars: float | None = 0.1,
        max_short_lines: float | None = 0.67,
        short_line_length: int = 30,
        annotate_only: bool = False,
    ) -> None:
        super().__init__(annotate_only=annotate_only)
        self.short_line_length = short_line_length
        self.rules = Rules(
            [
                ("terminal_punct_lines", AT_OR_BELOW, min_terminal_punct_lines),
                ("dup_line_chars", AT_OR_ABOVE, max_dup_line_chars),
                ("short_lines", AT_OR_ABOVE, max_short_lines),
            ]
        )

    def measure(self, doc: Document) -> dict[str, Any]:
        view = text_view(doc.text)
        lines = view.lines
        short = self.short_line_length
        _, dup_chars = duplicate_stats(lines)
        return {
            "terminal_punct_lines": _share(lines, ends_with_terminal),
            "dup_line_chars": ratio(dup_chars, sum(view.line_lengths)),
            "short_lines": ratio(sum(1 for n in view.line_lengths if n < short), len(lines)),
        }


__all__ = ["C4Quality", "FineWebQuality", "GopherQuality", "GopherRepetition"]
