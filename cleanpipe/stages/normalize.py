"""Unicode repair: ftfy + NFC + whitespace tidy, conservative by default."""

from __future__ import annotations

import re

import ftfy

from cleanpipe.document import Document
from cleanpipe.stages.base import Transform, register

_TRAILING_SPACE = re.compile(r"[ \t]+$", re.MULTILINE)
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
        # Pure ASCII without control characters is already NFC and has no mojibake: skip ftfy.
        if self._needs_ftfy_when_ascii or not text.isascii() or _ASCII_NEEDS_FTFY.search(text):
            text = ftfy.fix_text(text, self._ftfy_config)
        if self.tidy_whitespace:
            text = _MANY_BLANK_LINES.sub("\n\n", _TRAILING_SPACE.sub("", text)).strip()
        return text
