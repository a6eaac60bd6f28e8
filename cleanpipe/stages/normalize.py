"""Unicode repair: ftfy + NFC + whitespace tidy, conservative by default."""

from __future__ import annotations

import functools
import re
import unicodedata

from cleanpipe.document import Document
from cleanpipe.stages.base import Transform, register

# ftfy is imported where it is used: every worker imports this module (the stage registry),
# and ftfy costs ~50 ms of start-up that only a run with `normalize` needs.

_TRAILING_SPACE = re.compile(r"[ \t]+$", re.MULTILINE)


@functools.lru_cache(maxsize=1)
def _ftfy_targets() -> re.Pattern[str]:
    """Every character some ftfy step we use would change, other than mojibake (which
    is_bad finds): control characters, C1 controls, escape, line separators, surrogates,
    ligatures."""
    from ftfy.chardata import CONTROL_CHARS, LIGATURES

    return re.compile(
        "["
        + "".join(re.escape(chr(c)) for c in sorted(CONTROL_CHARS))
        + "".join(re.escape(chr(c)) for c in sorted(LIGATURES))
        + "\x1b\x80-\x9f\r\u2028\u2029\x85\ud800-\udfff"
        + "]"
    )


_MANY_BLANK_LINES = re.compile(r"\n{3,}")
# ASCII text that ftfy could still change: escapes, control characters, HTML entities.
_ASCII_NEEDS_FTFY = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\r]")


@register("normalize")
class Normalize(Transform):
    """Repair mojibake and encoding damage, NFC-normalize, tidy whitespace.

    ftfy (Speer 2019) undoes UTF-8 decoded as cp1252/latin-1 (``donâ€™t`` -> ``don’t``).
    The defaults are conservative, so that clean text is left as it is: curly quotes stay
    curly, full-width CJK punctuation keeps its width (``uncurl_quotes`` and
    ``fix_character_width`` off), and HTML entities are not unescaped unless asked for
    (source code legitimately contains ``&lt;``). Whitespace tidy strips trailing spaces on
    each line and folds runs of blank lines to one blank line; indentation is kept (code).
    """

    def __init__(
        self,
        *,
        fix_encoding: bool = True,
        unescape_html: bool = False,
        fix_latin_ligatures: bool = True,
        normalization: str | None = "NFC",
        tidy_whitespace: bool = True,
    ) -> None:
        super().__init__()
        if normalization not in (None, "NFC", "NFKC", "NFD", "NFKD"):
            raise ValueError(
                f"normalization must be NFC, NFKC, NFD, NFKD or None, got {normalization!r}"
            )
        self.normalization = normalization
        self.tidy_whitespace = tidy_whitespace
        import ftfy

        self._fix_text = ftfy.fix_text
        self._ftfy_targets = _ftfy_targets()
        self._ftfy_config = ftfy.TextFixerConfig(
            unescape_html=unescape_html,
            fix_encoding=fix_encoding,
            fix_latin_ligatures=fix_latin_ligatures,
            fix_character_width=False,
            uncurl_quotes=False,
            normalization=normalization,  # type: ignore[arg-type]
            explain=False,
        )
        self._needs_ftfy_when_ascii = unescape_html

    def transform(self, doc: Document) -> str:
        return self.normalize_text(doc.text)

    def normalize_text(self, text: str) -> str:
        """The whole repair on one string (what :meth:`transform` applies per document)."""
        if self._needs_ftfy(text):
            text = self._fix_text(text, self._ftfy_config)
        if self.tidy_whitespace:
            text = _MANY_BLANK_LINES.sub("\n\n", _TRAILING_SPACE.sub("", text)).strip()
        return text

    def _needs_ftfy(self, text: str) -> bool:
        """Whether ftfy could change the text at all. ftfy works line by line and costs ~1 MB/s;
        most text has no mojibake (``is_bad``, ftfy's own gate, is one regex over the whole
        text) and none of the characters its other steps touch, so it is skipped, with the
        same result. NFC is checked separately, it is cheap."""
        if self._needs_ftfy_when_ascii:
            return True
        if text.isascii():
            return _ASCII_NEEDS_FTFY.search(text) is not None
        return (
            self._ftfy_targets.search(text) is not None
            or looks_like_mojibake(text)
            or (
                self.normalization is not None
                and not unicodedata.is_normalized(self.normalization, text)
            )
        )


#: ftfy's badness patterns each span at most 4 characters and contain a non-ASCII one, so
#: a match lies within this many characters of a run of non-ASCII characters.
_BADNESS_REACH = 3
_NON_ASCII_RUN = re.compile(r"[^\x00-\x7f]+")


def looks_like_mojibake(text: str) -> bool:
    """``ftfy.badness.is_bad(text)``, many times faster on mostly-ASCII text.

    ``is_bad`` is one large regex (~3 MB/s). Only the neighbourhoods of non-ASCII runs can
    match, so it is run on those, merged where they touch and joined by NUL (which no
    pattern matches); text that is mostly non-ASCII is checked whole.
    """
    from ftfy.badness import is_bad

    spans: list[list[int]] = []
    for match in _NON_ASCII_RUN.finditer(text):
        start = max(0, match.start() - _BADNESS_REACH)
        end = match.end() + _BADNESS_REACH
        if spans and start <= spans[-1][1]:
            spans[-1][1] = end
        else:
            spans.append([start, end])
        if len(spans) > 64 and spans[-1][1] > len(text) // 4:
            return is_bad(text)  # dense non-ASCII (e.g. Cyrillic, CJK): windows gain nothing
    if not spans:
        return False
    return is_bad("\x00".join(text[a:b] for a, b in spans))
