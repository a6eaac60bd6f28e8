"""PII scrubbing: emails, phone numbers, IP addresses, card numbers, IBANs, US SSNs, secrets.

Each kind is found by a cheap candidate scan followed by a small pure validator (checksum,
structure, context words), because precision matters as much as recall: version numbers,
dates, ISBNs, UUIDs, hashes, prices and numbers in code must survive. Candidate scans start
with a character class so that the regex engine can skip ahead; kinds whose trigger
character or literal is absent from a text are not scanned at all.

References: Luhn checksum (ISO/IEC 7812-1, Annex B); IBAN lengths from the ISO 13616 IBAN
Registry published by SWIFT, check digits ISO 7064 MOD 97-10; SSN rules from the Social
Security Administration ("SSN Randomization", 2011: area 000, 666 and 900-999, group 00 and
serial 0000 are never issued); phone number country codes from ITU-T E.164.
"""

from __future__ import annotations

import bisect
import hashlib
import ipaddress
import os
import re
from collections import Counter
from dataclasses import dataclass

from cleanpipe.document import Document
from cleanpipe.stages.base import Drop, Stage, Verdict, register

__all__ = [
    "IBAN_LENGTHS",
    "KINDS",
    "TOKENS",
    "PIIMatch",
    "PIIScrubber",
    "iban_valid",
    "luhn_valid",
    "ssn_valid",
]

#: Replacement token of each kind (DESIGN.md contract).
TOKENS: dict[str, str] = {
    "email": "<EMAIL_ADDRESS>",
    "phone": "<PHONE_NUMBER>",
    "ip_address": "<IP_ADDRESS>",
    "credit_card": "<CREDIT_CARD>",
    "iban": "<IBAN>",
    "us_ssn": "<US_SSN>",
    "secret": "<SECRET>",
}
KINDS: tuple[str, ...] = tuple(TOKENS)

# Overlapping matches: the more specific kind wins, then the longer match, then the earlier.
_RANK = {
    "secret": 0,
    "credit_card": 1,
    "iban": 2,
    "us_ssn": 3,
    "email": 4,
    "ip_address": 5,
    "phone": 6,
}


@dataclass(frozen=True, slots=True)
class PIIMatch:
    """One finding: ``text[start:end] == match.text`` on the original string."""

    kind: str
    start: int
    end: int
    text: str


Span = tuple[int, int]

# -- validators (pure) -------------------------------------------------------------------


def luhn_valid(digits: str) -> bool:
    """Luhn / mod-10 check (ISO/IEC 7812-1 Annex B) of a string of ASCII digits."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


#: Total IBAN length per country: SWIFT ISO 13616 IBAN Registry (release 2024), plus the
#: territories the registry lists under FR, FI and GB, which use their parent's format.
IBAN_LENGTHS: dict[str, int] = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22,
    "BH": 22, "BI": 27, "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24,
    "DE": 22, "DJ": 27, "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18,
    "FK": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27,
    "GT": 28, "HN": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26,
    "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20,
    "LU": 20, "LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MN": 20,
    "MR": 27, "MT": 31, "MU": 30, "NI": 28, "NL": 18, "NO": 15, "OM": 23, "PK": 24,
    "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "RU": 33, "SA": 24,
    "SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25,
    "SV": 28, "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
    "YE": 30,
    "AX": 18, "BL": 27, "GF": 27, "GP": 27, "MF": 27, "MQ": 27, "NC": 27, "PF": 27,
    "PM": 27, "RE": 27, "TF": 27, "WF": 27, "YT": 27, "GG": 22, "IM": 22, "JE": 22,
}  # fmt: skip


def iban_valid(iban: str) -> bool:
    """Registered country, that country's length, and ISO 7064 MOD 97-10 check == 1.

    ``iban`` is the compact form (no spaces), upper case.
    """
    if IBAN_LENGTHS.get(iban[:2]) != len(iban) or not iban[2:4].isdigit():
        return False
    if not iban.isalnum() or not iban.isascii():
        return False
    rearranged = iban[4:] + iban[:4]
    return int("".join(str(int(ch, 36)) for ch in rearranged)) % 97 == 1


def ssn_valid(area: str, group: str, serial: str) -> bool:
    """SSA rules: never issued are area 000, 666, 900-999; group 00; serial 0000.

    Also rejects the two numbers the SSA voided after public misuse (078-05-1120 and
    219-09-9999).
    """
    if area in ("000", "666") or area[0] == "9" or group == "00" or serial == "0000":
        return False
    return (area, group, serial) not in (("078", "05", "1120"), ("219", "09", "9999"))


def _card_prefix_ok(digits: str) -> bool:
    """Issuer prefixes (ISO/IEC 7812 IIN) of the networks in use: Visa 4, Mastercard
    51-55 and 2221-2720, Mir 2200-2204, Amex 34/37, Diners 30/36/38, JCB 35,
    Maestro 50/56-69, Discover/UnionPay/RuPay 6."""
    first = digits[0]
    if first in "456":
        return True
    if first == "3":
        return digits[1] in "045678"
    if first == "2":
        return 2221 <= int(digits[:4]) <= 2720 or 2200 <= int(digits[:4]) <= 2204
    return False


# E.164 country codes: all of zone 1 and 7, the assigned two-digit codes, and the
# two-digit prefixes under which three-digit codes are assigned.
_CC2 = frozenset(
    "20 27 30 31 32 33 34 36 39 40 41 43 44 45 46 47 48 49 51 52 53 54 55 56 57 58 60 61 "
    "62 63 64 65 66 81 82 84 86 90 91 92 93 94 95 98".split()
)
_CC3_PREFIX = frozenset(
    "21 22 23 24 25 26 29 35 37 38 42 50 59 67 68 69 80 85 87 88 96 97 99".split()
)


def _country_code_ok(digits: str) -> bool:
    return digits[:1] in ("1", "7") or digits[:2] in _CC2 or digits[:2] in _CC3_PREFIX


# -- shared helpers ----------------------------------------------------------------------

_ASCII_WORD = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
_ASCII_DIGITS = frozenset("0123456789")
_SCP_PATH_START = _ASCII_WORD | {"/", "~"}
_WORD_OR_DOT = _ASCII_WORD | {"."}
_NOT_BEFORE_PHONE = _ASCII_WORD | {"#", "№", "$", "€", "£", "¥"}


def _is_cjk(ch: str) -> bool:
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


def _before(text: str, pos: int, width: int) -> str:
    """Up to ``width`` characters before ``pos`` on the same line, lower-cased."""
    chunk = text[max(0, pos - width) : pos]
    return chunk[chunk.rfind("\n") + 1 :].lower()


def _char_at(text: str, pos: int) -> str:
    """The character at ``pos``, or a space outside the text (a boundary)."""
    return text[pos] if 0 <= pos < len(text) else " "


# -- email -------------------------------------------------------------------------------

_LOCAL_PUNCT = frozenset("._+-'")
# Labels may be IDN (Unicode letters); which label is the TLD is decided by hand, so that
# "mail@example.com.Thanks" and "邮箱zhang@example.cn联系" end where the address ends.
_DOMAIN = re.compile(r"[^\W_](?:[\w-]{0,61}[^\W_])?(?:\.[^\W_](?:[\w-]{0,61}[^\W_])?)+")
_ASCII_LETTERS = re.compile(r"[A-Za-z]+")
_LDH = _ASCII_WORD | {"-"}
_CCTLDS = frozenset(
    "ac ad ae af ag ai al am ao aq ar as at au aw ax az ba bb bd be bf bg bh bi bj bm bn bo "
    "bq br bs bt bw by bz ca cc cd cf cg ch ci ck cl cm cn co cr cu cv cw cx cy cz de dj dk "
    "dm do dz ec ee eg er es et eu fi fj fk fm fo fr ga gb gd ge gf gg gh gi gl gm gn gp gq "
    "gr gs gt gu gw gy hk hm hn hr ht hu id ie il im in io iq ir is it je jm jo jp ke kg kh "
    "ki km kn kp kr kw ky kz la lb lc li lk lr ls lt lu lv ly ma mc md me mg mh mk ml mm mn "
    "mo mp mq mr ms mt mu mv mw mx my mz na nc ne nf ng ni nl no np nr nu nz om pa pe pf pg "
    "ph pk pl pm pn pr ps pt pw py qa re ro rs ru rw sa sb sc sd se sg sh si sk sl sm sn so "
    "sr ss st su sv sx sy sz tc td tf tg th tj tk tl tm tn to tr tt tv tw tz ua ug uk us uy "
    "uz va vc ve vg vi vn vu wf ws ye yt za zm zw".split()
)
# Generic TLDs seen in real mail addresses. A closed list keeps ``x@self.weight`` (code) and
# ``icon@2x.png`` (file names) out; exotic new gTLDs are the price.
_GTLDS = frozenset(
    "com org net edu gov mil int info biz name pro mobi aero coop museum jobs travel tel "
    "asia cat post app dev xyz online site tech store shop blog cloud email digital agency "
    "company solutions services network systems center media news live life world today "
    "space website club one top win vip group global social team works zone link page art "
    "design studio gmbh berlin london nyc paris tokyo wien hamburg koeln bayern swiss "
    "amsterdam moscow rocks ninja guru expert consulting academy education school "
    "university software tools money finance bank insurance health care law legal church "
    "family photography photo science institute foundation fund capital ventures partners "
    "associates international support host hosting mail codes land build engineering "
    "engineer ltd llc inc events help plus run".split()
)
_CJK_IDN_TLDS = ("中国", "中國", "公司", "网络", "網絡", "香港", "台湾", "台灣", "新加坡", "在线")


def _tld_length(label: str) -> int:
    """Length of the top-level domain that starts ``label``; 0 if it is none."""
    if label[:4].lower() == "xn--":
        return len(label) if label.isascii() else 0
    head = _ASCII_LETTERS.match(label)
    if head is not None:
        if _char_at(label, head.end()) in _LDH or head.end() < 2:
            return 0
        tld = head.group().lower()
        return head.end() if tld in _CCTLDS or tld in _GTLDS else 0
    if _is_cjk(label[0]):
        return next((len(t) for t in _CJK_IDN_TLDS if label.startswith(t)), 0)
    n = 0
    while n < len(label) and label[n].isalpha() and not _is_cjk(label[n]):
        n += 1
    return n if n >= 2 else 0


def _find_emails(text: str) -> list[Span]:
    spans: list[Span] = []
    at = text.find("@")
    while at != -1:
        nxt = at + 1
        start = at
        lo = max(0, at - 64)
        while start > lo:
            ch = text[start - 1]
            if ch in _ASCII_WORD or ch in _LOCAL_PUNCT or (ch.isalnum() and not _is_cjk(ch)):
                start -= 1
            else:
                break
        while start < at and text[start] in _LOCAL_PUNCT:  # no leading dot, plus, quote
            start += 1
        m = _DOMAIN.match(text, at + 1) if start < at and text[at - 1] != "." else None
        end = _email_end(text, at, m.group()) if m is not None else 0
        # "git@github.com:org/repo" is an scp-style remote, not a mail address.
        if end and _char_at(text, end) == ":" and _char_at(text, end + 1) in _SCP_PATH_START:
            end = 0
        # "scheme://user:password@host" is a secret's business, not an email.
        if end and text[start - 1 : start] == ":" and "://" in _before(text, start, 80):
            end = 0
        if end:
            spans.append((start, end))
            nxt = end
        at = text.find("@", nxt)
    return spans


def _email_end(text: str, at: int, domain: str) -> int:
    """End offset of the address whose domain starts at ``at + 1``, or 0: the longest
    prefix of ``domain`` whose last label starts with a known top-level domain."""
    labels = domain.split(".")
    for k in range(len(labels), 1, -1):
        n = _tld_length(labels[k - 1])
        if n:
            return at + 1 + sum(len(x) + 1 for x in labels[: k - 1]) + n
    return 0


# -- IP addresses ------------------------------------------------------------------------

# Anchored on ".": a literal prefix lets the regex engine skip ahead; the first octet is
# read backwards by hand.
_IPV4_TAIL = re.compile(r"\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}")
_IP_CONTEXT = re.compile(
    r"\b(?:ip|ipv4|ipv6|ips|address|addr|adresse|host|hostname|server|ping|ssh|dns|"
    r"gateway|inet|proxy|router|nameserver|listen|listening|bind|remote|peer|subnet|"
    r"resolver)\b|ip地址|地址|адрес|сервер|アドレス"
)
# Words after which a dotted quad is a version or a section number, not an address.
_VERSION_CONTEXT = re.compile(
    r"(?:\b(?:v|ver|version|versions|versión|versione|release|released|rel|changelog|update|"
    r"updated|upgrade|upgraded|bump|bumped|build|firmware|kernel|python|java|node|tag|patch|"
    r"section|sections|sec|table|figure|fig|chapter|chap|item|step|rule|clause|paragraph|para|"
    r"article|art|kapitel|abschnitt|oid|objectidentifier)\b[\s.:=(\"']*|版本|версия|バージョン|§\s*"
    r"|==|>=|<=|~=|!=|\^|^\s*#+\s*\[?v?)\Z"
)
_VERSION_WORD = re.compile(
    r"\b(?:version|versions|release|released|changelog|update|updated|upgrade|upgraded|"
    r"bump|bumped|downgrade|downgraded|new in|changes in|since)\b|版本|версия|バージョン"
)
_VERSION_SUFFIX = re.compile(
    r"[-+~.]?(?:alpha|beta|rc|dev|post|pre|final|snapshot|ga|lts|a[0-9]|b[0-9])", re.I
)
_DATE_AFTER = re.compile(r"[\])]?\s*[-–:(]?\s*\(?(?:19|20)[0-9]{2}-[0-9]{2}-[0-9]{2}")

_KEEPABLE_NETS = tuple(
    ipaddress.ip_network(n)
    for n in (
        "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
        "172.16.0.0/12", "192.0.0.0/24", "192.0.2.0/24", "192.168.0.0/16", "198.18.0.0/15",
        "198.51.100.0/24", "203.0.113.0/24", "255.255.255.255/32",
        "::/128", "::1/128", "fc00::/7", "fe80::/10", "2001:db8::/32",
    )
)  # fmt: skip


def _is_mask(addr: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """A netmask (ones, then zeros: 255.255.255.0) or a host mask (0.0.0.255)."""
    n = int(addr)
    inverse = n ^ ((1 << addr.max_prefixlen) - 1)
    return inverse & (inverse + 1) == 0 or n & (n + 1) == 0


def _is_private_ip(addr: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Private, loopback, link-local, shared and documentation ranges (RFC 1918, 5737,
    6598, 3849, 4193): not personal, kept with ``keep_private_ips``."""
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    return any(addr.version == n.version and addr in n for n in _KEEPABLE_NETS)


def _ipv4_is_address(text: str, start: int, end: int, octets: list[str]) -> bool:
    """Tell an IPv4 address from a four-part version number by structure and context."""
    if _char_at(text, end) in ":/" and _char_at(text, end + 1) in _ASCII_DIGITS:
        return True  # port or CIDR suffix
    head = _before(text, start, 40)
    if head.endswith("://"):
        return True
    if _VERSION_CONTEXT.search(head[-24:]) is not None:
        return False
    if _IP_CONTEXT.search(head) is not None:
        return True
    if _VERSION_WORD.search(head) is not None:  # "updated from 1.9.2.3 to 1.10.0.0"
        return False
    line_end = text.find("\n", end)
    rest = text[end : line_end if line_end != -1 else len(text)]
    if not head.strip(" \t*-#[(") and not rest.strip(" \t)]:") and int(octets[0]) < 30:
        return False  # a version heading alone on its line, as in changelogs
    tail = text[end : end + 16]
    if _VERSION_SUFFIX.match(tail) or _DATE_AFTER.match(tail):
        return False
    return not all(len(o) == 1 for o in octets)  # 1.2.3.4: a version unless said otherwise


def _find_ipv4(text: str, keep_private: bool) -> list[Span]:
    spans: list[Span] = []
    for m in _IPV4_TAIL.finditer(text):
        start, end = m.span()
        while start > m.start() - 3 and _char_at(text, start - 1) in _ASCII_DIGITS:
            start -= 1
        if start == m.start() or _char_at(text, start - 1) in _WORD_OR_DOT:
            continue
        nxt = _char_at(text, end)
        if nxt in _ASCII_WORD or (nxt in ".-" and _char_at(text, end + 1) in _ASCII_DIGITS):
            continue
        octets = text[start:end].split(".")
        if any(int(o) > 255 or (len(o) > 1 and o[0] == "0") for o in octets):
            continue
        if not _ipv4_is_address(text, start, end, octets):
            continue
        addr = ipaddress.IPv4Address(text[start:end])
        if _is_mask(addr) or (keep_private and _is_private_ip(addr)):
            continue
        spans.append((start, end))
    return spans


_IPV6_COLONS = re.compile(r":[0-9A-Fa-f]{0,4}:")
_IPV6_BODY = re.compile(r"[0-9A-Fa-f:]+(?:\.[0-9]{1,3}){0,3}")
_HEX = frozenset("0123456789abcdefABCDEF:")


def _find_ipv6(text: str, keep_private: bool) -> list[Span]:
    spans: list[Span] = []
    pos = 0
    while (m := _IPV6_COLONS.search(text, pos)) is not None:
        start = m.start()
        while start > 0 and text[start - 1] in _HEX and m.start() - start < 40:
            start -= 1
        body = _IPV6_BODY.match(text, start)
        end = body.end() if body else m.end()
        pos = max(end, m.end())
        cand = text[start:end]
        if cand.endswith(":") and not cand.endswith("::"):
            cand, end = cand[:-1], end - 1
        if _char_at(text, start - 1) in _ASCII_WORD or _char_at(text, end) in _ASCII_WORD:
            continue
        groups = [g for g in cand.replace("::", ":").split(":") if g]
        # "a[1::2]", "::1" and "std::vector" are not addresses worth a token.
        full = cand.count(":") == 7 or ("." in cand and cand.count(":") >= 6)
        if not ("::" in cand or full) or len(groups) < 2:
            continue
        if len(groups) < 4 and max(len(g) for g in groups) < 3:
            continue
        try:
            addr = ipaddress.IPv6Address(cand)
        except ValueError:
            continue
        if _is_mask(addr) or (keep_private and _is_private_ip(addr)):
            continue
        spans.append((start, end))
    return spans


# -- numbers: cards, SSNs, phones --------------------------------------------------------

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
_DIGITS = re.compile(r"[0-9]+")


def _numeric_runs(text: str) -> list[Span]:
    return [m.span() for m in _NUM_RUN.finditer(text)]


def _number_ends_cleanly(text: str, end: int) -> bool:
    nxt = _char_at(text, end)
    if nxt in _ASCII_WORD:
        return False
    return not (nxt in ".,-" and _char_at(text, end + 1) in _ASCII_DIGITS)


def _find_cards(text: str, runs: list[Span]) -> list[Span]:
    spans: list[Span] = []
    for run_start, run_end in runs:
        for m in _CARD.finditer(text, run_start, run_end):
            before = _char_at(text, m.start() - 1)
            if before in "+-" or (before == "(" and _char_at(text, m.start() - 2) == "+"):
                continue  # an international phone number
            if not _number_ends_cleanly(text, m.end()):
                continue
            spans.extend(_cards_in(m.group(), m.start()))
    return spans


def _cards_in(s: str, base: int) -> list[Span]:
    """Leftmost-longest card numbers among consecutive digit groups of ``s``: a run may
    hold a card and an expiry date, or two cards."""
    groups = list(_DIGITS.finditer(s))
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
    return _card_prefix_ok(digits) and luhn_valid(digits)


def _find_ssns(text: str, runs: list[Span]) -> list[Span]:
    spans: list[Span] = []
    for run_start, run_end in runs:
        for m in _SSN.finditer(text, run_start, run_end):
            if not _number_ends_cleanly(text, m.end()) or _char_at(text, m.start() - 1) == "+":
                continue
            s, sep = m.group(), m.group(1)
            area, group, serial = s[:3], s[3 + len(sep) : 5 + len(sep)], s[-4:]
            if not ssn_valid(area, group, serial):
                continue
            if sep != "-" and not _SSN_CONTEXT.search(_before(text, m.start(), 40)):
                continue  # "123 45 6789" and "123456789" only next to "SSN"
            spans.append(m.span())
    return spans


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
        return 8 <= n <= 15 and _country_code_ok(digits)
    if groups[0].startswith("00") and len(groups[0]) <= 5:
        return 10 <= n <= 17 and _country_code_ok(digits[2:])
    if len(groups) < 2:
        return False
    if groups[0] == "0" and lead.startswith("0)"):  # "(0)30 1234567"
        groups = ["0" + groups[1], *groups[2:]]
    lens = [len(g) for g in groups]
    if digits[0] == "0" and digits[1] != "0":  # trunk prefix 0: 030 1234567, 06 12 34 56 78
        pairs_ok = max(lens) > 2 or len(lens) == 5  # French pairs, not a hex dump
        return 9 <= n <= 12 and 2 <= lens[0] <= 5 and min(lens) >= 2 and pairs_ok
    seps = _DIGITS.split(s)[1:-1]
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
    groups = _DIGITS.findall(s)
    n = sum(map(len, groups))
    if not 7 <= n <= 17 or _DATE_IN.search(s) or _SSN_SHAPE.fullmatch(s):
        return False
    if _ZIP4_SHAPE.fullmatch(s) or "  " in s:  # ZIP+4 ("MA 02110-1301"), tables, hex dumps
        return _PHONE_CONTEXT.search(_before(text, start, 32)) is not None
    if len(groups) in (2, 4) and s.count(".") == len(groups) - 1 and "/" not in s:
        if len(groups) == 2 or all(len(g) <= 3 for g in groups):
            return False  # a decimal, a version or an IPv4 address
    if _phone_structure_ok(s, groups):
        return True
    return n <= 15 and _PHONE_CONTEXT.search(_before(text, start, 32)) is not None


def _find_phones(text: str, runs: list[Span]) -> list[Span]:
    spans: list[Span] = []
    for start, end in runs:
        if not _number_ends_cleanly(text, end):
            continue
        # take in a leading "+", "(" or "(+"; drop an unbalanced "(" again below.
        if _char_at(text, start - 1) == "+":
            start -= 1
        if _char_at(text, start - 1) == "(":
            start -= 1
        if _char_at(text, start - 1) in _NOT_BEFORE_PHONE:
            continue
        s = text[start:end]
        if s.startswith("(") and ")" not in s:
            start, s = start + 1, s[1:]
        spans.extend(_best_phone(text, start, s))
    return spans


_PHONE_FIRST = _ASCII_DIGITS | {"+", "("}
_CHUNK = re.compile(r"[^ \u00a0\u202f]+")


def _best_phone(text: str, start: int, s: str) -> list[Span]:
    """The whole run if it is a phone number, else its parts between separators that hold
    no digit ("030 1234567 / 030 7654321") that are."""
    if _phone_ok(text, start, s):
        return [(start, start + len(s))]
    found: list[Span] = []
    parts = [m.span() for m in _CHUNK.finditer(s)]
    cuts = [k for k, (a, b) in enumerate(parts) if _DIGITS.search(s, a, b) is None]
    for first, last in zip([-1, *cuts], [*cuts, len(parts)], strict=False):
        if last - first < 2 or (first == -1 and last == len(parts)):
            continue
        a, b = parts[first + 1][0], parts[last - 1][1]
        while b > a and s[b - 1] not in _ASCII_DIGITS:
            b -= 1
        if _phone_ok(text, start + a, s[a:b]):
            found.append((start + a, start + b))
    return found


# -- IBAN --------------------------------------------------------------------------------

# Anchored on the check digits (digits are rarer than capitals in most text); the country
# code is read by the look-behind: "DE89 3704 ..." matches from "89".
_IBAN = re.compile(
    r"[0-9](?<=[A-Z]{2}[0-9])(?<![A-Za-z0-9_][A-Z]{2}[0-9])[0-9](?:[ \u00a0]?[A-Z0-9]){11,30}"
)


def _find_ibans(text: str) -> tuple[list[Span], list[Span]]:
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
        if count == length and _char_at(text, end) not in _ASCII_WORD and iban_valid(compact):
            valid.append((start, end))
        else:
            shaped.append((start, m.end()))
    return valid, shaped


# -- secrets -----------------------------------------------------------------------------

_PLACEHOLDER_PASSWORDS = frozenset(
    "password passwd pass pwd secret pw xxx xxxx xxxxx xxxxxx changeme yourpassword "
    "your_password mypassword my_password p4ssw0rd user username foo bar ... *** ****".split()
)
_TOKEN = r"[A-Za-z0-9_-]"


@dataclass(frozen=True)
class _SecretRule:
    """``pattern`` is tried when one of ``markers`` occurs in the text (no markers: the
    pattern starts with a literal the regex engine searches for quickly by itself). The
    span replaced is the named group ``s`` if there is one, else the whole match."""

    pattern: re.Pattern[str]
    markers: tuple[str, ...] = ()
    word_start: bool = True


_SECRET_RULES: tuple[_SecretRule, ...] = (
    _SecretRule(
        re.compile(
            r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"
            r"(?P<body>[\s\S]{0,20000}?-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"
            r"|(?:(?:\s|\\n)*(?:[A-Za-z0-9+/=]{16,}|(?:Proc-Type|DEK-Info|Comment):.*))+)"
        ),
        ("-----BEGIN",),
        word_start=False,
    ),
    # Formats sharing a first letter share one scan (the engine jumps from one "A" to the
    # next). AWS access key ids (long-term AKIA, temporary ASIA; AIDA/AROA... are mere
    # ids) and Google API keys.
    _SecretRule(
        re.compile(
            r"A(?:(?:KIA|SIA|BIA|CCA)[A-Z0-9]{16}(?![A-Za-z0-9])|Iza" + _TOKEN + r"{35}(?![\w-]))"
        )
    ),
    _SecretRule(re.compile(r"SG\." + _TOKEN + r"{22}\." + _TOKEN + "{43}")),  # SendGrid
    _SecretRule(re.compile(r"GR1348941" + _TOKEN + "{20,}")),  # GitLab runner registration
    # GitHub (ghp_ gho_ ghu_ ghs_ ghr_, fine-grained github_pat_) and GitLab tokens.
    _SecretRule(
        re.compile(
            r"g(?:h[pousr]_[A-Za-z0-9]{36,251}(?![A-Za-z0-9_])|ithub_pat_[A-Za-z0-9_]{22,255}"
            r"|l(?:pat|dt|rt|ptt|cbt|soat|ft)-[A-Za-z0-9_-]{20,})"
        )
    ),
    _SecretRule(
        re.compile(
            r"(?i:aws_?secret_?access_?key|aws_?secret_?key|secret_?access_?key)[\"']?\s*[:=]+"
            r"\s*[\"']?(?P<s>[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])"
        ),
        ("ecret", "ECRET"),
        word_start=False,
    ),
    _SecretRule(re.compile(r"xox[abposre]-[A-Za-z0-9-]{10,}")),  # Slack
    _SecretRule(
        re.compile(r"hooks\.slack\.com/(?:services|workflows)/[A-Za-z0-9/_-]{20,}"),
        word_start=False,
    ),
    _SecretRule(re.compile(r"[rs]k_live_[0-9A-Za-z]{20,}"), ("_live_",)),  # Stripe
    _SecretRule(
        re.compile(
            r"sk-(?:(?:proj|svcacct|admin|ant-api\d\d|ant-admin\d\d)-" + _TOKEN + "{40,}"
            r"|[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20})"
        )
    ),
    _SecretRule(re.compile(r"hf_[A-Za-z]{34}(?![A-Za-z0-9])"), ("_",)),  # Hugging Face
    _SecretRule(re.compile(r"npm_[A-Za-z0-9]{36}(?![A-Za-z0-9])"), ("_",)),
    _SecretRule(re.compile(r"pypi-AgEIcHlwaS5vcmc" + _TOKEN + "{50,}")),
    _SecretRule(re.compile(r"eyJ" + _TOKEN + r"{8,}\.eyJ" + _TOKEN + r"{8,}\." + _TOKEN + "{8,}")),
    _SecretRule(re.compile(r"[Bb]earer\s+(?P<s>[A-Za-z0-9._~+/-]{16,}=*)"), ("earer",)),
    _SecretRule(
        re.compile(
            r"(?i:authorization)[\"']?\s*[:=]\s*[\"']?(?:Basic|Token|token)\s+"
            r"(?P<s>[A-Za-z0-9._~+/-]{16,}=*)"
        ),
        ("uthorization",),
    ),
    # scheme://user:password@host; the scheme is checked by hand before "://".
    _SecretRule(
        re.compile(r"://(?P<s>(?P<user>[^\s:/?#@\[\]\"'<>]+):(?P<pw>[^\s/?#@\[\]\"'<>]+))@"),
        word_start=False,
    ),
)
_BASE64_RUN = re.compile(r"[A-Za-z0-9+/]{16,}")
_SCHEME_END = re.compile(r"[A-Za-z][A-Za-z0-9+.-]{1,15}\Z")


def _secret_ok(text: str, rule: _SecretRule, m: re.Match[str]) -> bool:
    if rule.word_start and _char_at(text, m.start() - 1) in _ASCII_WORD:
        return False
    groups = m.re.groupindex
    value = m.group("s") if "s" in groups else m.group()
    if "EXAMPLE" in value:  # AWS documentation keys (AKIAIOSFODNN7EXAMPLE)
        return False
    if "body" in groups and _BASE64_RUN.search(m.group("body")) is None:
        return False  # the markers alone, as in code that parses keys
    if "pw" in groups:
        if not _SCHEME_END.search(text, max(0, m.start() - 16), m.start()):
            return False
        pw = m.group("pw")
        placeholder = pw.lower() in _PLACEHOLDER_PASSWORDS or pw[0] in "<{[$%*"
        # a bare word ("gist://username:token@", "github://org:repo@") is a template or a
        # path, not a password; real ones carry digits or symbols
        return not placeholder and not (pw.isalpha() and len(pw) <= 12)
    if m.group()[:6] in ("Bearer", "bearer"):
        # real tokens mix letters and digits; "Bearer YOUR_TOKEN_HERE" does not
        return any(c in _ASCII_DIGITS for c in value) and not value.isupper()
    return True


def _find_secrets(text: str) -> list[Span]:
    spans: list[Span] = []
    for rule in _SECRET_RULES:
        if rule.markers and not any(marker in text for marker in rule.markers):
            continue
        for m in rule.pattern.finditer(text):
            if _secret_ok(text, rule, m):
                spans.append(m.span("s") if "s" in rule.pattern.groupindex else m.span())
    return spans


def _overlaps_any(span: Span, others: list[Span]) -> bool:
    return any(span[0] < end and start < span[1] for start, end in others)


# -- fakes -------------------------------------------------------------------------------


def _fake_value(kind: str, original: str, key: bytes) -> str:
    """A harmless stand-in derived from a keyed BLAKE2b hash of the original, so the same
    original always gets the same fake (co-reference survives) without a global RNG."""
    h = hashlib.blake2b(original.encode("utf-8"), key=key, digest_size=16).digest()
    digits = f"{int.from_bytes(h, 'big') % 10**30:030d}"
    if kind == "email":
        return f"user{h[:4].hex()}@example.com"  # RFC 2606 reserved domain
    if kind == "phone":
        return f"555-0{digits[:2]}-{digits[2:6]}"  # NANP 555, exchange 0xx: never assigned
    if kind == "ip_address":
        if ":" in original:
            return f"2001:db8::{h[0]:x}:{h[1]:x}"  # RFC 3849 documentation prefix
        net = ("192.0.2", "198.51.100", "203.0.113")[h[0] % 3]  # RFC 5737 TEST-NETs
        return f"{net}.{1 + h[1] % 254}"
    if kind == "credit_card":
        body = "4000" + digits[:11]
        for check in "0123456789":
            if not luhn_valid(body + check):  # deliberately Luhn-invalid
                return " ".join((body + check)[i : i + 4] for i in range(0, 16, 4))
    if kind == "iban":
        country = original[:2] if original[:2] in IBAN_LENGTHS else "XX"
        compact_len = IBAN_LENGTHS.get(country, 22)
        bban = (digits * 2)[: compact_len - 4]
        iban = country + "00" + bban  # check digits 00 are never valid (ISO 7064)
        return " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))
    if kind == "us_ssn":
        return f"000-{digits[:2]}-{digits[2:6]}"  # area 000 is never issued
    return f"REDACTED_{h[:8].hex()}"


def _fake_key_bytes(fake_key: str) -> bytes:
    """The key of the fake-value hash. ``env:NAME`` reads it from the environment, so that
    the key stays out of configs and run manifests."""
    if fake_key.startswith("env:"):
        name = fake_key[4:]
        if name not in os.environ:
            raise ValueError(f"fake_key: environment variable {name} is not set")
        fake_key = os.environ[name]
    return hashlib.blake2b(fake_key.encode("utf-8"), digest_size=32).digest()


# -- the stage ---------------------------------------------------------------------------


@register("pii")
class PIIScrubber(Stage):
    """Find and replace personal data and secrets (see docs/pii.md).

    ``kinds`` selects what to scrub (default: all of :data:`KINDS`); ``replace`` is
    ``"token"`` (``<EMAIL_ADDRESS>`` ...) or ``"fake"`` (a consistent harmless value per
    original, keyed by ``fake_key``, which may be ``env:NAME``); a document with more
    than ``max_hits`` findings is dropped (``None``: never; Dolma uses 5), its detail
    counting them by kind (``pii hits 7 > 5 (email 4, phone 3)``);
    ``keep_private_ips`` leaves private, loopback and documentation addresses alone.
    Per-kind counts go to ``doc.meta["pii"]`` and :attr:`kind_counts`.
    """

    def __init__(
        self,
        *,
        kinds: list[str] | None = None,
        replace: str = "token",
        max_hits: int | None = None,
        keep_private_ips: bool = False,
        fake_key: str = "cleanpipe",
        annotate_only: bool = False,
    ) -> None:
        super().__init__(annotate_only=annotate_only)
        selected = list(KINDS) if kinds is None else list(kinds)
        unknown = sorted(set(selected) - set(KINDS))
        if unknown:
            raise ValueError(f"unknown PII kinds {unknown}; choose from {list(KINDS)}")
        if replace not in ("token", "fake"):
            raise ValueError(f"replace must be 'token' or 'fake', not {replace!r}")
        if max_hits is not None and max_hits < 0:
            raise ValueError("max_hits must be >= 0 or None")
        self.kinds = tuple(k for k in KINDS if k in selected)
        self.replace = replace
        self.max_hits = max_hits
        self.keep_private_ips = keep_private_ips
        self._key = _fake_key_bytes(fake_key) if replace == "fake" else b""
        #: findings per kind over all documents this instance processed.
        self.kind_counts: Counter[str] = Counter()
        self._numeric = bool({"credit_card", "us_ssn", "phone"} & set(self.kinds))

    def find(self, text: str) -> list[PIIMatch]:
        """All findings, non-overlapping, ordered by position (character offsets)."""
        kinds = self.kinds
        found: list[tuple[str, list[Span]]] = []
        if "secret" in kinds:
            found.append(("secret", _find_secrets(text)))
        if "email" in kinds and "@" in text:
            found.append(("email", _find_emails(text)))
        if "ip_address" in kinds:
            found.append(("ip_address", _find_ipv4(text, self.keep_private_ips)))
            if ":" in text:
                found.append(("ip_address", _find_ipv6(text, self.keep_private_ips)))
        not_numbers: list[Span] = []
        if "iban" in kinds or self._numeric:
            ibans, not_numbers = _find_ibans(text)
            if "iban" in kinds:
                found.append(("iban", ibans))
        if self._numeric:
            runs = _numeric_runs(text)
            if runs:
                numeric: list[tuple[str, list[Span]]] = []
                if "credit_card" in kinds:
                    numeric.append(("credit_card", _find_cards(text, runs)))
                if "us_ssn" in kinds:
                    numeric.append(("us_ssn", _find_ssns(text, runs)))
                if "phone" in kinds:
                    numeric.append(("phone", _find_phones(text, runs)))
                for kind, spans in numeric:
                    if not_numbers:
                        spans = [x for x in spans if not _overlaps_any(x, not_numbers)]
                    found.append((kind, spans))
        candidates = [
            (_RANK[kind], start - end, start, kind) for kind, spans in found for start, end in spans
        ]
        if not candidates:
            return []
        # Overlaps are resolved once: most specific kind first, then longest, then earliest.
        candidates.sort()
        starts: list[int] = []
        chosen: list[PIIMatch] = []
        for _, neg_len, start, kind in candidates:
            end = start - neg_len
            i = bisect.bisect_right(starts, start)
            if i and chosen[i - 1].end > start:
                continue
            if i < len(starts) and starts[i] < end:
                continue
            starts.insert(i, start)
            chosen.insert(i, PIIMatch(kind, start, end, text[start:end]))
        return chosen

    def scrub(self, text: str) -> str:
        """``text`` with every finding replaced by its token (or fake value)."""
        return self._apply(text, self.find(text))

    def _apply(self, text: str, matches: list[PIIMatch]) -> str:
        if not matches:
            return text
        parts: list[str] = []
        pos = 0
        for m in matches:
            parts.append(text[pos : m.start])
            if self.replace == "fake":
                parts.append(_fake_value(m.kind, m.text, self._key))
            else:
                parts.append(TOKENS[m.kind])
            pos = m.end
        parts.append(text[pos:])
        return "".join(parts)

    def report_extra(self) -> dict[str, int]:
        return dict(sorted(self.kind_counts.items()))

    def process(self, doc: Document) -> Verdict:
        matches = self.find(doc.text)
        counts = Counter(m.kind for m in matches)
        doc.meta["pii"] = found = {k: counts[k] for k in KINDS if counts[k]}
        self.kind_counts.update(counts)
        if self.max_hits is not None and len(matches) > self.max_hits:
            kinds = ", ".join(f"{kind} {n}" for kind, n in found.items())
            return Drop("too_many_pii", f"pii hits {len(matches)} > {self.max_hits} ({kinds})")
        if matches and not self.annotate_only:
            doc.text = self._apply(doc.text, matches)
        return None
