"""IP addresses (IPv4 and IPv6), told apart from version and section numbers by structure and
context; private, loopback and documentation ranges can be kept (RFC 1918, 5737, 6598, 3849,
4193)."""

from __future__ import annotations

import ipaddress
import re

from cleanpipe.stages.pii.scan import ASCII_DIGITS, ASCII_WORD, Span, char_at, line_before

_WORD_OR_DOT = ASCII_WORD | {"."}


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
    r"article|art|kapitel|abschnitt|oid|objectidentifier|wersja|wersji|versão|sürüm|sürümü|"
    r"verze|verzió|versio|versie|الإصدار|الاصدار|إصدار|نسخه|نسخهٔ|संस्करण|버전)\b[\s.:=(\"']*"
    r"|版本|версия|バージョン|§\s*"
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
    if char_at(text, end) in ":/" and char_at(text, end + 1) in ASCII_DIGITS:
        return True  # port or CIDR suffix
    head = line_before(text, start, 40)
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


def find_ipv4(text: str, keep_private: bool) -> list[Span]:
    spans: list[Span] = []
    for m in _IPV4_TAIL.finditer(text):
        start, end = m.span()
        while start > m.start() - 3 and char_at(text, start - 1) in ASCII_DIGITS:
            start -= 1
        if start == m.start() or char_at(text, start - 1) in _WORD_OR_DOT:
            continue
        nxt = char_at(text, end)
        if nxt in ASCII_WORD or (nxt in ".-" and char_at(text, end + 1) in ASCII_DIGITS):
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


def find_ipv6(text: str, keep_private: bool) -> list[Span]:
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
        if char_at(text, start - 1) in ASCII_WORD or char_at(text, end) in ASCII_WORD:
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
