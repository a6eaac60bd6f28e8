"""Secrets: private keys, cloud and service API tokens, bearer and basic credentials, and
passwords in URLs (``scheme://user:password@host``), each rule tried only when its marker
occurs in the text."""

from __future__ import annotations

import re
from dataclasses import dataclass

from cleanpipe.stages.pii.scan import ASCII_DIGITS, ASCII_WORD, Span, char_at

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
    if rule.word_start and char_at(text, m.start() - 1) in ASCII_WORD:
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
        return any(c in ASCII_DIGITS for c in value) and not value.isupper()
    return True


def find_secrets(text: str) -> list[Span]:
    spans: list[Span] = []
    for rule in _SECRET_RULES:
        if rule.markers and not any(marker in text for marker in rule.markers):
            continue
        for m in rule.pattern.finditer(text):
            if _secret_ok(text, rule, m):
                spans.append(m.span("s") if "s" in rule.pattern.groupindex else m.span())
    return spans
