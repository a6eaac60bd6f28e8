"""Phone numbers: E.164 and national formats inside numeric runs, kept apart from dates, ZIP+4
codes, SSN shapes and prices by structure and context words; runs no layout rule accepts are
checked against libphonenumber's metadata for the regions the document's language, the
``phone_regions`` option or the surrounding script point to (:mod:`.regions`)."""

from __future__ import annotations

import re

from cleanpipe.stages.pii.numbers import DIGITS, number_ends_cleanly
from cleanpipe.stages.pii.regions import (
    FALLBACK_REGIONS,
    international_valid,
    national_valid,
    script_regions,
)
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
    r"电话|電話|手机|手機|联系|聯絡|传真|携帯|ファックス|전화|휴대폰|연락처|"
    r"هاتف|الهاتف|جوال|اتصل|تلفن|تماس|موبایل|फ़ोन|फोन|मोबाइल|संपर्क)"
)
# Identifiers that libphonenumber would take for numbers: a run right after one of these
# words is not checked against the metadata (the layout rules still apply).
_ID_CONTEXT = re.compile(
    r"(?:\b(?:isbn|issn|ean|upc|sku|isin|ref|id|nr|no|iva|vat|nip|regon|pesel|krs|siret|siren|"
    r"cuit|curp|rfc|kvk|serial|lot|batch|art)\b|\b(?:order|invoice|tracking|bestell|rechnung|"
    r"kunden|konto|account|commande|facture|pedido|factura|fattura|ordine|sipari|fatura|"
    r"zamówie|faktur|steuer|ust|partita|codice|matricola|numéro de série)|[№#]|"
    r"инн|огрн|кпп|заказ|сч[её]т|артикул|订单|编号|单号|税号|身份证|注文|番号|"
    r"سفارش|فاکتور|کد ملی|کدملی|رقم الطلب|فاتورة|ऑर्डर)"
)
# An extension after the number: "634.270.1746x81453", "555-0100 ext. 12", "доб. 123".
_EXTENSION = re.compile(
    r"[ \u00a0]?(?:x|ext\.?|extension|доб\.?)[ \u00a0]?[0-9]{1,6}(?![0-9A-Za-z_])", re.IGNORECASE
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


def _phone_ok(text: str, start: int, s: str, hints: tuple[str, ...] = ()) -> bool:
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
    before = line_before(text, start, 32)
    if n <= 15 and _PHONE_CONTEXT.search(before) is not None:
        return True
    return _ID_CONTEXT.search(before) is None and _valid_for_region(text, start, s, groups, hints)


def _valid_for_region(
    text: str, start: int, s: str, groups: list[str], hints: tuple[str, ...]
) -> bool:
    """libphonenumber holds the digits for a valid number of a likely region: one of
    ``hints`` or of the script around the number; in Latin text without hints, one of
    :data:`~.regions.FALLBACK_REGIONS`, grouped as that region groups its numbers (or
    written in one piece after a trunk prefix ``0``)."""
    digits = "".join(groups)
    if not 8 <= len(digits) <= 13 or ("." in s and len(set(DIGITS.split(s)[1:-1])) > 1):
        return False
    if digits.startswith("00"):  # international prefix: "0044 20 7946 0958", "001-683-..."
        return digits[2] != "0" and international_valid(digits[2:])
    regions = hints or script_regions(text, start, start + len(s))
    if regions:
        return any(national_valid(digits, r) is not None for r in regions)
    written = tuple(map(len, groups))
    one_piece = len(groups) == 1 and digits[0] == "0"
    if not one_piece and (min(written) < 2 or (digits[0] != "0" and len(groups) < 3)):
        return False  # "2004 12345", "1 234 567": spare the metadata look-ups
    return any(
        (layout := national_valid(digits, r)) is not None and (one_piece or layout == written)
        for r in FALLBACK_REGIONS
    )


def find_phones(text: str, runs: list[Span], hints: tuple[str, ...] = ()) -> list[Span]:
    """Phone numbers among the numeric ``runs``; ``hints`` are the regions (ISO 3166-1)
    the document's numbers most likely belong to, most likely first."""
    spans: list[Span] = []
    for start, end in runs:
        ext = _EXTENSION.match(text, end)
        if ext is None and not number_ends_cleanly(text, end):
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
        found = _best_phone(text, start, s, hints)
        if ext is not None and found and found[-1][1] == end:
            found[-1] = (found[-1][0], ext.end())  # the extension belongs to the number
        spans.extend(found)
    return spans


_PHONE_FIRST = ASCII_DIGITS | {"+", "("}
_CHUNK = re.compile(r"[^ \u00a0\u202f]+")


def _best_phone(text: str, start: int, s: str, hints: tuple[str, ...]) -> list[Span]:
    """The whole run if it is a phone number, else its parts between separators that hold
    no digit ("030 1234567 / 030 7654321") that are."""
    if _phone_ok(text, start, s, hints):
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
        if _phone_ok(text, start + a, s[a:b], hints):
            found.append((start + a, start + b))
    return found
