"""Helpers the candidate scans of every PII family share: character classes, context before
a match, boundaries."""

from __future__ import annotations

import re

Span = tuple[int, int]


ASCII_WORD = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
ASCII_DIGITS = frozenset("0123456789")


def is_cjk(ch: str) -> bool:
    """Kana, CJK ideographs, Hangul, fullwidth forms: scripts written without spaces."""
    o = ord(ch)
    return (
        0x3000 <= o <= 0x30FF
        or 0x3400 <= o <= 0x9FFF
        or 0xAC00 <= o <= 0xD7AF
        or 0xF900 <= o <= 0xFAFF
        or 0xFF00 <= o <= 0xFFEF
        or 0x20000 <= o <= 0x3FFFF
    )


def line_before(text: str, pos: int, width: int) -> str:
    """Up to ``width`` characters before ``pos`` on the same line, lower-cased."""
    chunk = text[max(0, pos - width) : pos]
    return chunk[chunk.rfind("\n") + 1 :].lower()


def char_at(text: str, pos: int) -> str:
    """The character at ``pos``, or a space outside the text (a boundary)."""
    return text[pos] if 0 <= pos < len(text) else " "


# Arabic-Indic (Arabic), extended Arabic-Indic (Persian, Urdu), Devanagari and fullwidth
# digits, each to its ASCII digit, and the fullwidth separators written with fullwidth
# digits: one character for one, so offsets do not move.
_DIGIT_MAP: dict[int, int | str] = {
    zero + d: 48 + d for zero in (0x0660, 0x06F0, 0x0966, 0xFF10) for d in range(10)
} | {0xFF0B: "+", 0xFF0D: "-", 0xFF08: "(", 0xFF09: ")", 0xFF0E: "."}
_OTHER_DIGITS = re.compile("[\u0660-\u0669\u06f0-\u06f9\u0966-\u096f\uff10-\uff19]")


def ascii_digits(text: str) -> str:
    """``text`` with the digits of other scripts written as ASCII digits (same length)."""
    if _OTHER_DIGITS.search(text) is None:
        return text
    return text.translate(_DIGIT_MAP)
