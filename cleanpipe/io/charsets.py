"""Bytes of a web page to text, as a browser decodes them.

The order is the HTML standard's ("determining the character encoding", WHATWG HTML
§13.2.3.2): a byte-order mark, then the charset of the HTTP ``Content-Type`` header, then a
``<meta charset>`` / ``<meta http-equiv="Content-Type">`` found by the prescan of the first
1024 bytes, then detection (uchardet, through resiliparse). Two departures, both because a
pretraining corpus would rather have text than fidelity to a mislabel:

* a declared charset that cannot decode the bytes cleanly falls through to the next way;
* bytes that are valid UTF-8 and hold multi-byte sequences are UTF-8 whatever a legacy label
  says. Such sequences are improbable in legacy-encoded text (Dürst 1997, "The Properties and
  Promises of UTF-8"), while UTF-8 served under a stale ``iso-8859-1`` header is the most
  common charset mistake on the web; decoded as windows-1252 it would be mojibake.

Labels map to encodings as the WHATWG Encoding Standard's table of names and labels says
(``gb2312`` → GBK, ``euc-kr`` → EUC-KR, which is windows-949, ``iso-8859-1`` and ``ascii`` →
windows-1252, ``sjis`` → Shift_JIS ...), and each WHATWG encoding is decoded with the Python
codec that decodes what browsers decode: GBK with ``gb18030`` (its superset, as the standard
specifies), EUC-KR with ``cp949``, Shift_JIS with ``cp932``, Big5 with ``big5hkscs``, and
windows-125x with the bytes the Python codec leaves undefined mapped to the C1 controls, as
the standard's indexes map them.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

from resiliparse.parse.encoding import detect_encoding

#: how many leading bytes the meta prescan looks at (WHATWG HTML, "prescan a byte stream").
PRESCAN_BYTES = 1024
#: how many bytes detection samples (head and tail); uchardet needs far fewer.
DETECT_BYTES = 65_536

#: WHATWG Encoding Standard §4.2, "Names and labels": encoding name -> its labels.
_LABELS: dict[str, str] = {
    "UTF-8": "unicode-1-1-utf-8 unicode11utf8 unicode20utf8 utf-8 utf8 x-unicode20utf8",
    "IBM866": "866 cp866 csibm866 ibm866",
    "ISO-8859-2": "csisolatin2 iso-8859-2 iso-ir-101 iso8859-2 iso88592 iso_8859-2 "
    "iso_8859-2:1987 l2 latin2",
    "ISO-8859-3": "csisolatin3 iso-8859-3 iso-ir-109 iso8859-3 iso88593 iso_8859-3 "
    "iso_8859-3:1988 l3 latin3",
    "ISO-8859-4": "csisolatin4 iso-8859-4 iso-ir-110 iso8859-4 iso88594 iso_8859-4 "
    "iso_8859-4:1988 l4 latin4",
    "ISO-8859-5": "csisolatincyrillic cyrillic iso-8859-5 iso-ir-144 iso8859-5 iso88595 "
    "iso_8859-5 iso_8859-5:1988",
    "ISO-8859-6": "arabic asmo-708 csiso88596e csiso88596i csisolatinarabic ecma-114 "
    "iso-8859-6 iso-8859-6-e iso-8859-6-i iso-ir-127 iso8859-6 iso88596 iso_8859-6 "
    "iso_8859-6:1987",
    "ISO-8859-7": "csisolatingreek ecma-118 elot_928 greek greek8 iso-8859-7 iso-ir-126 "
    "iso8859-7 iso88597 iso_8859-7 iso_8859-7:1987 sun_eu_greek",
    "ISO-8859-8": "csiso88598e csisolatinhebrew hebrew iso-8859-8 iso-8859-8-e iso-ir-138 "
    "iso8859-8 iso88598 iso_8859-8 iso_8859-8:1988 visual",
    "ISO-8859-8-I": "csiso88598i iso-8859-8-i logical",
    "ISO-8859-10": "csisolatin6 iso-8859-10 iso-ir-157 iso8859-10 iso885910 l6 latin6",
    "ISO-8859-13": "iso-8859-13 iso8859-13 iso885913",
    "ISO-8859-14": "iso-8859-14 iso8859-14 iso885914",
    "ISO-8859-15": "csisolatin9 iso-8859-15 iso8859-15 iso885915 iso_8859-15 l9",
    "ISO-8859-16": "iso-8859-16",
    "KOI8-R": "cskoi8r koi koi8 koi8-r koi8_r",
    "KOI8-U": "koi8-ru koi8-u",
    "macintosh": "csmacintosh mac macintosh x-mac-roman",
    "windows-874": "dos-874 iso-8859-11 iso8859-11 iso885911 tis-620 windows-874",
    "windows-1250": "cp1250 windows-1250 x-cp1250",
    "windows-1251": "cp1251 windows-1251 x-cp1251",
    "windows-1252": "ansi_x3.4-1968 ascii cp1252 cp819 csisolatin1 ibm819 iso-8859-1 "
    "iso-ir-100 iso8859-1 iso88591 iso_8859-1 iso_8859-1:1987 l1 latin1 us-ascii "
    "windows-1252 x-cp1252",
    "windows-1253": "cp1253 windows-1253 x-cp1253",
    "windows-1254": "cp1254 csisolatin5 iso-8859-9 iso-ir-148 iso8859-9 iso88599 iso_8859-9 "
    "iso_8859-9:1989 l5 latin5 windows-1254 x-cp1254",
    "windows-1255": "cp1255 windows-1255 x-cp1255",
    "windows-1256": "cp1256 windows-1256 x-cp1256",
    "windows-1257": "cp1257 windows-1257 x-cp1257",
    "windows-1258": "cp1258 windows-1258 x-cp1258",
    "x-mac-cyrillic": "x-mac-cyrillic x-mac-ukrainian",
    "GBK": "chinese csgb2312 csiso58gb231280 gb2312 gb_2312 gb_2312-80 gbk iso-ir-58 x-gbk",
    "gb18030": "gb18030",
    "Big5": "big5 big5-hkscs cn-big5 csbig5 x-x-big5",
    "EUC-JP": "cseucpkdfmtjapanese euc-jp x-euc-jp",
    "ISO-2022-JP": "csiso2022jp iso-2022-jp",
    "Shift_JIS": "csshiftjis ms932 ms_kanji shift-jis shift_jis sjis windows-31j x-sjis",
    "EUC-KR": "cseuckr csksc56011987 euc-kr iso-ir-149 korean ks_c_5601-1987 "
    "ks_c_5601-1989 ksc5601 ksc_5601 windows-949",
    "UTF-16BE": "unicodefffe utf-16be",
    "UTF-16LE": "csunicode iso-10646-ucs-2 ucs-2 unicode unicodefeff utf-16 utf-16le",
}
#: label (lower case) -> WHATWG encoding name.
LABELS: dict[str, str] = {label: name for name, ls in _LABELS.items() for label in ls.split()}

#: WHATWG encoding -> the Python codec that decodes what browsers decode (see module doc).
_CODECS = {
    "UTF-8": "utf-8",
    "GBK": "gb18030",
    "gb18030": "gb18030",
    "Big5": "big5hkscs",
    "EUC-JP": "euc_jp",
    "ISO-2022-JP": "iso2022_jp",
    "Shift_JIS": "cp932",
    "EUC-KR": "cp949",
    "UTF-16BE": "utf-16-be",
    "UTF-16LE": "utf-16-le",
    "ISO-8859-8-I": "iso8859_8",
    "windows-874": "cp874",
    "x-mac-cyrillic": "mac_cyrillic",
    "macintosh": "mac_roman",
}
#: Python codec names (what uchardet reports) that are no WHATWG label.
_PYTHON_NAMES = {
    "cp949": "EUC-KR",
    "cp932": "Shift_JIS",
    "big5hkscs": "Big5",
    "mac-roman": "macintosh",
    "mac-cyrillic": "x-mac-cyrillic",
    "iso2022_jp": "ISO-2022-JP",
    "utf-16-le": "UTF-16LE",
    "utf-16-be": "UTF-16BE",
}
_BOMS = (
    (codecs.BOM_UTF8, "UTF-8"),
    (codecs.BOM_UTF16_BE, "UTF-16BE"),
    (codecs.BOM_UTF16_LE, "UTF-16LE"),
)
_UTF16 = ("UTF-16BE", "UTF-16LE")

# The prescan, simplified to the two forms pages use: <meta charset=X> and
# <meta http-equiv="Content-Type" content="...; charset=X">, attributes in any order.
_META = re.compile(rb"<meta\b[^>]*>", re.IGNORECASE)
_META_CHARSET = re.compile(rb"""\bcharset\s*=\s*["']?\s*([A-Za-z0-9._:\-]+)""", re.IGNORECASE)
_HTTP_EQUIV = re.compile(rb"""http-equiv\s*=\s*["']?\s*content-type""", re.IGNORECASE)
_CHARSET_PARAM = re.compile(r"""charset\s*=\s*["']?\s*([A-Za-z0-9._:\-]+)""", re.IGNORECASE)


def _c1_controls(err: UnicodeError) -> tuple[str, int]:
    """Bytes 0x80-0x9F a windows-125x codec leaves undefined: the C1 control of the same
    number, as the WHATWG single-byte indexes have them (windows-1252 0x81 is U+0081)."""
    assert isinstance(err, UnicodeDecodeError)
    byte = err.object[err.start]
    if 0x80 <= byte <= 0x9F:
        return chr(byte), err.start + 1
    raise err


codecs.register_error("cleanpipe_c1", _c1_controls)


def whatwg_name(label: str | None) -> str | None:
    """The WHATWG encoding a label names (``"gb2312"`` → ``"GBK"``), or None if none.
    Python codec names uchardet returns (``euc_kr``, ``shift_jis``) are understood too."""
    if not label:
        return None
    key = label.strip().strip("\"'").lower()
    if key in LABELS:
        return LABELS[key]
    try:
        python = codecs.lookup(key).name  # "euc_kr" -> "euc_kr", "iso8859-5" -> "iso8859-5"
    except LookupError:
        return None
    return _PYTHON_NAMES.get(python) or LABELS.get(python.replace("_", "-")) or LABELS.get(python)


def python_codec(name: str) -> str:
    """The Python codec for a WHATWG encoding name (``"EUC-KR"`` → ``"cp949"``)."""
    if name in _CODECS:
        return _CODECS[name]
    return name.lower().replace("windows-", "cp").replace("iso-8859-", "iso8859_")


def decode_strict(data: bytes, name: str) -> str | None:
    """``data`` decoded as WHATWG encoding ``name``, or None if the bytes do not fit it."""
    errors = "cleanpipe_c1" if name.startswith("windows-125") else "strict"
    try:
        return data.decode(python_codec(name), errors)
    except (UnicodeDecodeError, LookupError):
        return None


def header_charset(content_type: str | None) -> str | None:
    """The ``charset`` parameter of a ``Content-Type`` header value, as written."""
    if not content_type:
        return None
    match = _CHARSET_PARAM.search(content_type)
    return match.group(1) if match else None


def meta_charset(data: bytes) -> str | None:
    """The charset a ``<meta>`` tag declares in the first :data:`PRESCAN_BYTES` bytes."""
    for tag in _META.finditer(data[:PRESCAN_BYTES]):
        text = tag.group(0)
        match = _META_CHARSET.search(text)
        # a charset in a content="..." value counts only with http-equiv="Content-Type"
        if match and (_HTTP_EQUIV.search(text) or b"content" not in text.lower()):
            return match.group(1).decode("ascii")
    return None


@dataclass(frozen=True)
class Decoded:
    """A page's text, the WHATWG encoding that gave it, and how it was chosen
    (``bom``, ``http``, ``meta``, ``utf8``, ``detected`` or ``fallback``)."""

    text: str
    charset: str
    how: str


def _is_multibyte_utf8(data: bytes) -> str | None:
    if data.isascii():
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def decode_html(data: bytes, content_type: str | None = None) -> Decoded:
    """``data`` (an HTML page) decoded; ``content_type`` is the HTTP header's value."""
    for bom, name in _BOMS:
        if data.startswith(bom):
            text = decode_strict(data[len(bom) :], name)
            if text is not None:
                return Decoded(text, name, "bom")
    as_utf8 = _is_multibyte_utf8(data)
    for how, label in (("http", header_charset(content_type)), ("meta", meta_charset(data))):
        name = whatwg_name(label)
        if how == "meta" and name in _UTF16:  # a meta tag read as ASCII cannot be UTF-16
            name = "UTF-8"
        if name is None:
            continue
        if as_utf8 is not None and name != "UTF-8":
            return Decoded(as_utf8, "UTF-8", "utf8")  # mislabelled UTF-8 (module doc)
        text = as_utf8 if name == "UTF-8" and as_utf8 is not None else decode_strict(data, name)
        if text is not None:
            return Decoded(text, name, how)
    if as_utf8 is not None:
        return Decoded(as_utf8, "UTF-8", "utf8")
    if data.isascii():
        return Decoded(data.decode("ascii"), "windows-1252", "detected")
    name = whatwg_name(detect_encoding(data, max_len=DETECT_BYTES, html5_compatible=False))
    if name is not None:
        text = decode_strict(data, name)
        if text is not None:
            return Decoded(text, name, "detected")
    # nothing fits cleanly: windows-1252 decodes every byte (the HTML standard's default for
    # most locales), so the text is whole even where a character is wrong
    return Decoded(data.decode("cp1252", "cleanpipe_c1"), "windows-1252", "fallback")
