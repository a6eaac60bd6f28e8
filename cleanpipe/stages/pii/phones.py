"""Phone numbers: E.164 and national formats inside numeric runs, kept apart from dates, ZIP+4
codes, SSN shapes and prices by structure and context words."""

from __future__ import annotations

import re

from cleanpipe.stages.pii.numbers import DIGITS, number_ends_cleanly
from cleanpipe.stages.pii.scan import ASCII_DIGITS, ASCII_WORD, Span, char_at, line_before
from cleanpipe.stages.pii.validators import country_code_ok

_NOT_BEFORE_PHONE = ASCII_WORD | {"#", "№", "$", "€", "£", "¥"}

_DATE_IN = re.compile(
    r"(?<![0-9])(?:[0-3]?[0-9]([./-])[01]?[0-9]\1(?:1[89]|20)[0-9]{2}"
    r"|(?:1[89]|20)[0-9]{2}([./-])[01]?[0-9]\2[0-3]?[0-9])(?![0-9])"
)
_SSN_SHAPE = re.compile(r"[0-9]{3}-[0-9]{2}-[0-9]{4}")
_ZIP4_SHAPE = re.compile(r"[0-9]{5}-[0-9]{4}")
_PHONE_CONTEXT = re.compile(
    r"(?:\b(?:tel|tél|tlf|phone|ph|mobile|mob|cell|fax|call|hotline|whatsapp|sms|"
    r"telefon|telefono|teléfono|telefone|téléphone|handy|mobil|móvil|celular|portable|"
    r"rufnummer|kontakt|contact|appelez|llame|ligue)\b|телефон|тел\b|моб\b|факс|звоните|"
    r"电话|電話|手机|手機|联系|聯絡|传真|携帯|ファックス|전화|휴대폰|연락처)"
)


def _phone_structure_ok(s: str, groups: list[str]) -> bool:
    """National and international layouts that are phone numbers on their own."""
    digits = "".join(groups)
    n = len(digits)
    lead = s.lstrip("(")
    if lead.startswith("+"):
        return 8 <= n <= 15 and country_code_ok(digits)
    if groups[0].startswith("00") and len(groups[0]) <= 5:
        return 10 <= n <= 17 and country_code_ok(digits[2:])
    if len(groups) < 2:
        return False
    if groups[0] == "0" and lead.startswith("0)"):  # "(0)30 1234567"
        groups = ["0" + groups[1], *groups[2:]]
    lens = [len(g) for g in groups]
    if digits[0] == "0" and digits[1] != "0":  # trunk prefix 0: 030 1234567, 06 12 34 56 78
        pairs_ok = max(lens) > 2 or len(lens) == 5  # French pairs, not a hex dump
        return 9 <= n <= 12 and 2 <= lens[0] <= 5 and min(lens) >= 2 and pairs_ok
    seps = DIGITS.split(s)[1:-1]
    # one kind of separator, or an area code in parentheses ("252.227-7013" is a clause)
    regular = len(set(seps)) == 1 or "(" in seps[0] or (len(seps) > 1 and "(" in seps[1])
    if lens == [3, 3, 4] and groups[0][0] in "23456789" and regular:
        return True  # NANP (555) 123-4567, Italian mobiles 333 123 4567
    if lens == [1, 3, 3, 4] and groups[0] == "1" and groups[1][0] in "23456789" and regular:
        return True  # 1-800-555-0199
    if digits[0] == "8" and n == 11 and groups[0] == "8" and len(groups) >= 3:
        return True  # Russian 8 (495) 123-45-67
    if lens == [3, 4, 4] and digits[0] == "1" and digits[1] in "3456789":
        return True  # Chinese mobile 138 0013 8000
    if lead != s and ")" in s and 2 <= lens[0] <= 5 and 9 <= n <= 12:
        return True  # area code in parentheses: (11) 91234-5678, (495) 123-45-67
    if lens == [3, 2, 2, 2] and digits[0] in "6789":
        return True  # Spanish 612 34 56 78
    return lens == [5, 5] and digits[0] in "6789" and seps == [" "]  # Indian 98765 43210


def _phone_ok(text: str, start: int, s: str) -> bool:
    groups = DIGITS.findall(s)
    n = sum(map(len, groups))
    if not 7 <= n <= 17 or _DATE_IN.search(s) or _SSN_SHAPE.fullmatch(s):
        return False
    if _ZIP4_SHAPE.fullmatch(s) or "  " in s:  # ZIP+4 ("MA 02110-1301"), tables, hex dumps
        return _PHONE_CONTEXT.search(line_before(text, start, 32)) is not None
    if len(groups) in (2, 4) and s.count(".") == len(groups) - 1 and "/" not in s:
        if len(groups) == 2 or all(len(g) <= 3 for g in groups):
            return False  # a decimal, a version or an IPv4 address
    if _phone_structure_ok(s, groups):
        return True
    return n <= 15 and _PHONE_CONTEXT.search(line_before(text, start, 32)) is not None


def find_phones(text: str, runs: list[Span]) -> list[Span]:
    spans: list[Span] = []
    for start, end in runs:
        if not number_ends_cleanly(text, end):
            continue
        # take in a leading "+", "(" or "(+"; drop an unbalanced "(" again below.
        if char_at(text, start - 1) == "+":
            start -= 1
        if char_at(text, start - 1) == "(":
            start -= 1
        if char_at(text, start - 1) in _NOT_BEFORE_PHONE:
            continue
        s = text[start:end]
        if s.startswith("(") and ")" not in s:
            start, s = start + 1, s[1:]
        spans.extend(_best_phone(text, start, s))
    return spans


_PHONE_FIRST = ASCII_DIGITS | {"+", "("}
_CHUNK = re.compile(r"[^ \u00a0\u202f]+")


def _best_phone(text: str, start: int, s: str) -> list[Span]:
    """The whole run if it is a phone number, else its parts between separators that hold
    no digit ("030 1234567 / 030 7654321") that are."""
    if _phone_ok(text, start, s):
        return [(start, start + len(s))]
    found: list[Span] = []
    parts = [m.span() for m in _CHUNK.finditer(s)]
    cuts = [k for k, (a, b) in enumerate(parts) if DIGITS.search(s, a, b) is None]
    for first, last in zip([-1, *cuts], [*cuts, len(parts)], strict=False):
        if last - first < 2 or (first == -1 and last == len(parts)):
            continue
        a, b = parts[first + 1][0], parts[last - 1][1]
        while b > a and s[b - 1] not in ASCII_DIGITS:
            b -= 1
        if _phone_ok(text, start + a, s[a:b]):
            found.append((start + a, start + b))
    return found
