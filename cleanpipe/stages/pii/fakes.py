"""Harmless stand-ins for ``replace: fake``: the same original always gets the same fake,
from a keyed BLAKE2b hash, in ranges reserved for documentation or never issued."""

from __future__ import annotations

import hashlib
import os

from cleanpipe.stages.pii.validators import IBAN_LENGTHS, luhn_valid


def fake_value(kind: str, original: str, key: bytes) -> str:
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


def fake_key_bytes(fake_key: str) -> bytes:
    """The key of the fake-value hash. ``env:NAME`` reads it from the environment, so that
    the key stays out of configs and run manifests."""
    if fake_key.startswith("env:"):
        name = fake_key[4:]
        if name not in os.environ:
            raise ValueError(f"fake_key: environment variable {name} is not set")
        fake_key = os.environ[name]
    return hashlib.blake2b(fake_key.encode("utf-8"), digest_size=32).digest()
