"""PII scrubbing: emails, phone numbers, IP addresses, card numbers, IBANs, US SSNs, secrets.

Each kind is found by a cheap candidate scan followed by a small pure validator (checksum,
structure, context words), because precision matters as much as recall: version numbers,
dates, ISBNs, UUIDs, hashes, prices and numbers in code must survive. Candidate scans start
with a character class so that the regex engine can skip ahead; kinds whose trigger
character or literal is absent from a text are not scanned at all.

One module per detector family: :mod:`~cleanpipe.stages.pii.emails`,
:mod:`~cleanpipe.stages.pii.phones`, :mod:`~cleanpipe.stages.pii.network` (IP addresses),
:mod:`~cleanpipe.stages.pii.numbers` (cards, SSNs, IBANs), :mod:`~cleanpipe.stages.pii.secrets`;
checksums and issuing rules in :mod:`~cleanpipe.stages.pii.validators` (with references),
fake values in :mod:`~cleanpipe.stages.pii.fakes`. :class:`PIIScrubber` resolves overlaps
between families and replaces what it found. See ``docs/pii.md``.
"""

from __future__ import annotations

import bisect
from collections import Counter
from dataclasses import dataclass

from cleanpipe.document import Document
from cleanpipe.stages.base import Drop, Stage, Verdict, register
from cleanpipe.stages.pii.emails import find_emails
from cleanpipe.stages.pii.fakes import fake_key_bytes, fake_value
from cleanpipe.stages.pii.network import find_ipv4, find_ipv6
from cleanpipe.stages.pii.numbers import find_cards, find_ibans, find_ssns, numeric_runs
from cleanpipe.stages.pii.phones import find_phones
from cleanpipe.stages.pii.regions import check_regions, hint_regions
from cleanpipe.stages.pii.scan import Span, ascii_digits
from cleanpipe.stages.pii.secrets import find_secrets
from cleanpipe.stages.pii.validators import IBAN_LENGTHS, iban_valid, luhn_valid, ssn_valid

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


def _overlaps_any(span: Span, others: list[Span]) -> bool:
    return any(span[0] < end and start < span[1] for start, end in others)


@register("pii")
class PIIScrubber(Stage):
    """Find and replace personal data and secrets (see docs/pii.md).

    ``kinds`` selects what to scrub (default: all of :data:`KINDS`); ``replace`` is
    ``"token"`` (``<EMAIL_ADDRESS>`` ...) or ``"fake"`` (a consistent harmless value per
    original, keyed by ``fake_key``, which may be ``env:NAME``); a document with more
    than ``max_hits`` findings is dropped (``None``: never; Dolma uses 5), its detail
    counting them by kind (``pii hits 7 > 5 (email 4, phone 3)``);
    ``keep_private_ips`` leaves private, loopback and documentation addresses alone;
    ``phone_regions`` (ISO 3166-1 codes) are tried first when a digit run is checked
    against libphonenumber's metadata, before the regions of the document's language
    (``doc.meta["lang"]``, set by langid) and of the script around the number.
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
        phone_regions: list[str] | None = None,
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
        self.phone_regions = check_regions(phone_regions or [])
        self._key = fake_key_bytes(fake_key) if replace == "fake" else b""
        #: findings per kind over all documents this instance processed.
        self.kind_counts: Counter[str] = Counter()
        self._numeric = bool({"credit_card", "us_ssn", "phone"} & set(self.kinds))

    def find(self, text: str, lang: str | None = None) -> list[PIIMatch]:
        """All findings, non-overlapping, ordered by position (character offsets);
        ``lang`` (a lid.176 code) names the regions phone numbers are checked for."""
        kinds = self.kinds
        original = text
        found: list[tuple[str, list[Span]]] = []
        if "secret" in kinds:
            found.append(("secret", find_secrets(text)))
        if "email" in kinds and "@" in text:
            found.append(("email", find_emails(text)))
        if "ip_address" in kinds:
            found.append(("ip_address", find_ipv4(text, self.keep_private_ips)))
            if ":" in text:
                found.append(("ip_address", find_ipv6(text, self.keep_private_ips)))
        not_numbers: list[Span] = []
        if "iban" in kinds or self._numeric:
            text = ascii_digits(text)  # same length: offsets hold on the original
            ibans, not_numbers = find_ibans(text)
            if "iban" in kinds:
                found.append(("iban", ibans))
        if self._numeric:
            runs = numeric_runs(text)
            if runs:
                numeric: list[tuple[str, list[Span]]] = []
                if "credit_card" in kinds:
                    numeric.append(("credit_card", find_cards(text, runs)))
                if "us_ssn" in kinds:
                    numeric.append(("us_ssn", find_ssns(text, runs)))
                if "phone" in kinds:
                    hints = hint_regions(lang, self.phone_regions)
                    numeric.append(("phone", find_phones(text, runs, hints)))
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
        text = original
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
                parts.append(fake_value(m.kind, m.text, self._key))
            else:
                parts.append(TOKENS[m.kind])
            pos = m.end
        parts.append(text[pos:])
        return "".join(parts)

    def report_extra(self) -> dict[str, int]:
        return dict(sorted(self.kind_counts.items()))

    def process(self, doc: Document) -> Verdict:
        matches = self.find(doc.text, doc.meta.get("lang"))
        counts = Counter(m.kind for m in matches)
        doc.meta["pii"] = found = {k: counts[k] for k in KINDS if counts[k]}
        self.kind_counts.update(counts)
        if self.max_hits is not None and len(matches) > self.max_hits:
            kinds = ", ".join(f"{kind} {n}" for kind, n in found.items())
            return Drop("too_many_pii", f"pii hits {len(matches)} > {self.max_hits} ({kinds})")
        if matches and not self.annotate_only:
            doc.text = self._apply(doc.text, matches)
        return None
