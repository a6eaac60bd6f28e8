"""Account and identity numbers: payment cards (Luhn, issuer prefixes), US SSNs (SSA rules)
and IBANs (registry length, MOD 97-10), found inside runs of digits and separators."""

from __future__ import annotations

import re

from cleanpipe.stages.pii.scan import ASCII_DIGITS, ASCII_WORD, Span, char_at, line_before
from cleanpipe.stages.pii.validators import (
    IBAN_LENGTHS,
    card_prefix_ok,
    iban_valid,
    luhn_valid,
    ssn_valid,
)

# A digit that does not continue a word or a number ("v2", "x86", "3.14", "1,000").
_NUM_START = r"[0-9](?<![0-9A-Za-z_][0-9])(?<![0-9][.,][0-9])"
# One scan serves cards, SSNs and phones: maximal runs of at least seven digits joined by
# short separators. Ordinary text has few, and only those are looked at further.
_NUM_RUN = re.compile(
    _NUM_START
    + r"(?<![0-9][-/][0-9])"
    # not from an ISO date or a year range: the commonest long numbers in ordinary text
    + r"(?!(?<=[12])[0-9]{3}(?:-[01][0-9]-[0-3][0-9]|[-–][12][0-9]{3})(?![0-9]|[-./][0-9]))"
    + r"(?:[ \u00a0\u202f./()\u2010-\u2013-]{0,3}[0-9]){6,}"
)
_CARD = re.compile(_NUM_START + r"(?:[ \u00a0-]?[0-9]){12,}")
_SSN = re.compile(_NUM_START + r"(?<!-[0-9])[0-9]{2}([- ]?)[0-9]{2}\1[0-9]{4}")
_SSN_CONTEXT = re.compile(r"\b(?:ssn|ss#|social security|soc\.? sec\.?|ssa)\b")
DIGITS = re.compile(r"[0-9]+")


def numeric_runs(text: str) -> list[Span]:
    return [m.span() for m in _NUM_RUN.finditer(text)]


def number_ends_cleanly(text: str, end: int) -> bool:
    nxt = char_at(text, end)
    if nxt in ASCII_WORD:
        return False
    return not (nxt in ".,-" and char_at(text, end + 1) in ASCII_DIGITS)


def find_cards(text: str, runs: list[Span]) -> list[Span]:
    spans: list[Span] = []
    for run_start, run_end in runs:
        for m in _CARD.finditer(text, run_start, run_end):
            before = char_at(text, m.start() - 1)
            if before in "+-" or (before == "(" and char_at(text, m.start() - 2) == "+"):
                continue  # an international phone number
            if not number_ends_cleanly(text, m.end()):
                continue
            spans.extend(_cards_in(m.group(), m.start()))
    return spans


def _cards_in(s: str, base: int) -> list[Span]:
    """Leftmost-longest card numbers among consecutive digit groups of ``s``: a run may
    hold a card and an expiry date, or two cards."""
    groups = list(DIGITS.finditer(s))
    spans: list[Span] = []
    i = 0
    while i < len(groups):
        for j in range(min(len(groups), i + 5), i, -1):
            if _card_groups_ok(s, groups[i:j]):
                spans.append((base + groups[i].start(), base + groups[j - 1].end()))
                i = j
                break
        else:
            i += 1
    return spans


def _card_groups_ok(s: str, groups: list[re.Match[str]]) -> bool:
    """13-19 digits, one kind of separator, a card layout (4-4-4-4, 4-6-5 ...), a known
    issuer prefix and a valid Luhn check digit."""
    lens = [g.end() - g.start() for g in groups]
    if not 13 <= sum(lens) <= 19:
        return False
    if len(groups) > 1:
        seps = {s[a.end() : b.start()] for a, b in zip(groups, groups[1:], strict=False)}
        if len(seps) != 1:
            return False
        grouped_by_four = lens[0] == 4 and all(n == 4 for n in lens[1:-1]) and lens[-1] <= 4
        if not grouped_by_four and lens not in ([4, 6, 5], [4, 6, 4]):
            return False
    digits = "".join(g.group() for g in groups)
    return card_prefix_ok(digits) and luhn_valid(digits)


def find_ssns(text: str, runs: list[Span]) -> list[Span]:
    spans: list[Span] = []
    for run_start, run_end in runs:
        for m in _SSN.finditer(text, run_start, run_end):
            if not number_ends_cleanly(text, m.end()) or char_at(text, m.start() - 1) == "+":
                continue
            s, sep = m.group(), m.group(1)
            area, group, serial = s[:3], s[3 + len(sep) : 5 + len(sep)], s[-4:]
            if not ssn_valid(area, group, serial):
                continue
            if sep != "-" and not _SSN_CONTEXT.search(line_before(text, m.start(), 40)):
                continue  # "123 45 6789" and "123456789" only next to "SSN"
            spans.append(m.span())
    return spans


# Anchored on the check digits (digits are rarer than capitals in most text); the country
# code is read by the look-behind: "DE89 3704 ..." matches from "89".
_IBAN = re.compile(
    r"[0-9](?<=[A-Z]{2}[0-9])(?<![A-Za-z0-9_][A-Z]{2}[0-9])[0-9](?:[ \u00a0]?[A-Z0-9]){11,30}"
)


def find_ibans(text: str) -> tuple[list[Span], list[Span]]:
    """Valid IBANs, and IBAN-shaped strings that fail the checks (a mistyped account
    number): the digits of the latter are not cards or phone numbers either."""
    valid: list[Span] = []
    shaped: list[Span] = []
    for m in _IBAN.finditer(text):
        start = m.start() - 2
        s = text[start : m.end()]
        length = IBAN_LENGTHS.get(s[:2], 0)
        # the run may overrun into following words ("... 0130 00 BIC COBADEFF"): cut it
        # at the country's length.
        count, cut = 0, len(s)
        for k, ch in enumerate(s):
            if ch not in " \u00a0":
                count += 1
                if count == length:
                    cut = k + 1
                    break
        end = start + cut
        compact = s[:cut].replace(" ", "").replace("\u00a0", "")
        if count == length and char_at(text, end) not in ASCII_WORD and iban_valid(compact):
            valid.append((start, end))
        else:
            shaped.append((start, m.end()))
    return valid, shaped
