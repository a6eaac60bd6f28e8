"""Email addresses: the local part read backwards from each ``@``, the domain forwards, ending
where a known top-level domain ends (so ``mail@example.com.Thanks`` stops at ``.com``)."""

from __future__ import annotations

import re

from cleanpipe.stages.pii.scan import ASCII_WORD, Span, char_at, is_cjk, line_before

_SCP_PATH_START = ASCII_WORD | {"/", "~"}


_LOCAL_PUNCT = frozenset("._+-'")
# Labels may be IDN (Unicode letters); which label is the TLD is decided by hand, so that
# "mail@example.com.Thanks" and "邮箱zhang@example.cn联系" end where the address ends.
_DOMAIN = re.compile(r"[^\W_](?:[\w-]{0,61}[^\W_])?(?:\.[^\W_](?:[\w-]{0,61}[^\W_])?)+")
_ASCII_LETTERS = re.compile(r"[A-Za-z]+")
_LDH = ASCII_WORD | {"-"}
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
        if char_at(label, head.end()) in _LDH or head.end() < 2:
            return 0
        tld = head.group().lower()
        return head.end() if tld in _CCTLDS or tld in _GTLDS else 0
    if is_cjk(label[0]):
        return next((len(t) for t in _CJK_IDN_TLDS if label.startswith(t)), 0)
    n = 0
    while n < len(label) and label[n].isalpha() and not is_cjk(label[n]):
        n += 1
    return n if n >= 2 else 0


def find_emails(text: str) -> list[Span]:
    spans: list[Span] = []
    at = text.find("@")
    while at != -1:
        nxt = at + 1
        start = at
        lo = max(0, at - 64)
        while start > lo:
            ch = text[start - 1]
            if ch in ASCII_WORD or ch in _LOCAL_PUNCT or (ch.isalnum() and not is_cjk(ch)):
                start -= 1
            else:
                break
        while start < at and text[start] in _LOCAL_PUNCT:  # no leading dot, plus, quote
            start += 1
        m = _DOMAIN.match(text, at + 1) if start < at and text[at - 1] != "." else None
        end = _email_end(text, at, m.group()) if m is not None else 0
        # "git@github.com:org/repo" is an scp-style remote, not a mail address.
        if end and char_at(text, end) == ":" and char_at(text, end + 1) in _SCP_PATH_START:
            end = 0
        # "scheme://user:password@host" is a secret's business, not an email.
        if end and text[start - 1 : start] == ":" and "://" in line_before(text, start, 80):
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
