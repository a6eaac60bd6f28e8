"""Where a phone number is likely from: regions from the document's language hint, a
``phone_regions`` option, and the script the number is written in, checked against
libphonenumber's metadata (the ``phonenumbers`` package, offline).

References: libphonenumber (https://github.com/google/libphonenumber), whose per-region
metadata says which digit strings are valid numbers and what a region's trunk prefix is;
language codes are fastText lid.176's (ISO 639-1 where one exists), region codes ISO 3166-1.
"""

from __future__ import annotations

from functools import lru_cache

# phonenumbers is imported in the functions that use it (after the first call, a dictionary
# lookup): every worker imports this module with the stage registry, and it costs ~30 ms of
# start-up that only a run with `pii` needs.

#: Regions whose numbers a document in each language most likely holds (most likely first).
LANG_REGIONS: dict[str, tuple[str, ...]] = {
    "ar": ("SA", "EG", "AE", "MA", "DZ", "IQ", "JO"),
    "bn": ("BD", "IN"),
    "cs": ("CZ",),
    "da": ("DK",),
    "de": ("DE", "AT", "CH"),
    "el": ("GR",),
    "en": ("US", "GB", "CA", "AU", "IN", "IE"),
    "es": ("ES", "MX", "AR", "CO", "CL"),
    "fa": ("IR",),
    "fi": ("FI",),
    "fr": ("FR", "BE", "CH", "CA"),
    "he": ("IL",),
    "hi": ("IN",),
    "hu": ("HU",),
    "id": ("ID",),
    "it": ("IT", "CH"),
    "ja": ("JP",),
    "ko": ("KR",),
    "nl": ("NL", "BE"),
    "no": ("NO",),
    "pl": ("PL",),
    "pt": ("BR", "PT"),
    "ro": ("RO",),
    "ru": ("RU", "BY", "KZ"),
    "sv": ("SE",),
    "th": ("TH",),
    "tr": ("TR",),
    "uk": ("UA",),
    "ur": ("PK",),
    "vi": ("VN",),
    "zh": ("CN", "TW", "HK"),
}

#: Tried when neither a language hint nor the script names a region (Latin-script text):
#: a number must then also be grouped the way the region writes its numbers.
FALLBACK_REGIONS: tuple[str, ...] = ("US", "GB", "DE", "FR", "IT", "ES", "PL", "NL", "TR", "BR")

_NANP = frozenset({"US", "CA"})
_MOBILE_WITHOUT_TRUNK = frozenset({"CN", "IN"})
_PERSIAN_LETTERS = frozenset("پچژگکی")


def script_regions(text: str, start: int, end: int, width: int = 24) -> tuple[str, ...]:
    """Regions implied by the first non-Latin letters near ``text[start:end]``."""
    window = text[max(0, start - width) : start] + text[end : end + width]
    if window.isascii():
        return ()
    for ch in window:
        o = ord(ch)
        if o < 0x0370:
            continue
        if 0x0600 <= o <= 0x06FF:
            return ("IR",) if ch in _PERSIAN_LETTERS else (*LANG_REGIONS["ar"], "IR")
        if 0x0400 <= o <= 0x04FF:
            return LANG_REGIONS["ru"] + ("UA",)
        if 0x0900 <= o <= 0x097F:
            return ("IN",)
        if 0x3040 <= o <= 0x30FF:
            return ("JP",)
        if 0xAC00 <= o <= 0xD7AF:
            return ("KR",)
        if 0x4E00 <= o <= 0x9FFF:
            return ("CN", "TW", "HK", "JP")
        if 0x0370 <= o <= 0x03FF:
            return ("GR",)
        if 0x0590 <= o <= 0x05FF:
            return ("IL",)
    return ()


def hint_regions(lang: str | None, phone_regions: tuple[str, ...]) -> tuple[str, ...]:
    """The option's regions first, then the language's (``zh-Hant``, ``pt_BR``: the base)."""
    if not lang:
        return phone_regions
    base = lang.replace("_", "-").split("-")[0].lower()
    extra = tuple(r for r in LANG_REGIONS.get(base, ()) if r not in phone_regions)
    return phone_regions + extra


def _groups_of(formatted: str) -> tuple[int, ...]:
    return tuple(len(g) for g in "".join(c if c.isdigit() else " " for c in formatted).split())


@lru_cache(maxsize=65536)
def national_valid(digits: str, region: str) -> tuple[int, ...] | None:
    """Digit-group lengths of libphonenumber's national format if ``digits``, written as
    a national number, is a valid number of ``region``, else ``None``.

    A region with a trunk prefix (``0`` in DE/FR/GB/EG, ``8`` in RU) needs it written
    (libphonenumber itself would accept ``4711081542`` as ``0471 1081542``), except for
    NANP numbers (the ``1`` is rarely written) and mobiles where they are written without
    it (Chinese ``1xx xxxx xxxx``, Indian ``9xxxx xxxxx``).
    """
    import phonenumbers
    from phonenumbers import PhoneMetadata, PhoneNumberFormat, PhoneNumberType

    meta = PhoneMetadata.metadata_for_region(region)
    if meta is None:
        return None
    try:
        number = phonenumbers.parse(digits, region)
    except phonenumbers.NumberParseException:
        return None
    if number.country_code != meta.country_code or not phonenumbers.is_valid_number(number):
        return None
    trunk = meta.national_prefix
    if trunk and not digits.startswith(trunk) and region not in _NANP:
        if region not in _MOBILE_WITHOUT_TRUNK:
            return None
        if phonenumbers.number_type(number) != PhoneNumberType.MOBILE:
            return None
    return _groups_of(phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL))


@lru_cache(maxsize=65536)
def international_valid(digits: str) -> bool:
    """``digits`` (country code first, no ``+``) is a valid number somewhere."""
    import phonenumbers

    try:
        number = phonenumbers.parse("+" + digits, None)
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.is_valid_number(number)


def check_regions(regions: list[str]) -> tuple[str, ...]:
    """Upper-cased region codes, each one libphonenumber knows (else ``ValueError``)."""
    from phonenumbers import PhoneMetadata

    codes = tuple(dict.fromkeys(r.upper() for r in regions))
    unknown = [r for r in codes if PhoneMetadata.metadata_for_region(r) is None]
    if unknown:
        raise ValueError(f"unknown phone_regions {unknown}: use ISO 3166-1 codes (DE, IT, CN)")
    return codes
