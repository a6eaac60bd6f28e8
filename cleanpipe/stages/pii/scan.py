"""Helpers the candidate scans of every PII family share: character classes, context before
a match, boundaries."""

from __future__ import annotations

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
