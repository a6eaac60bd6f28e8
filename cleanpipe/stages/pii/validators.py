"""Pure validators of PII candidates: checksums and issuing rules.

References: Luhn checksum (ISO/IEC 7812-1, Annex B); IBAN lengths from the ISO 13616 IBAN
Registry published by SWIFT, check digits ISO 7064 MOD 97-10; SSN rules from the Social
Security Administration ("SSN Randomization", 2011: area 000, 666 and 900-999, group 00 and
serial 0000 are never issued); phone number country codes from ITU-T E.164.
"""

from __future__ import annotations


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
#: territories the registry lists under FR, FI and GB, which use their parent's format, and
#: Iran (IR, 26: the "Sheba" number of the Central Bank of Iran, in national use, MOD 97-10
#: checked, but not in the SWIFT registry).
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
    "IR": 26,
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


def card_prefix_ok(digits: str) -> bool:
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


def country_code_ok(digits: str) -> bool:
    return digits[:1] in ("1", "7") or digits[:2] in _CC2 or digits[:2] in _CC3_PREFIX
