"""Web pages in legacy charsets come out as the text they hold, never as mojibake.

The text is real (Debian Reference and Debian FAQ translations, tests/io/data/charsets),
encoded into the charsets sites served such pages in.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from cleanpipe.io.charsets import decode_html, header_charset, meta_charset, whatwg_name

DATA = Path(__file__).parent / "data" / "charsets"


def text(lang: str) -> str:
    return (DATA / f"{lang}.txt").read_text(encoding="utf-8")


def page(body: str, meta: str | None = None) -> str:
    tag = f'<meta http-equiv="Content-Type" content="text/html; charset={meta}">' if meta else ""
    return (
        f"<!DOCTYPE html><html><head>{tag}<title>t</title></head><body><p>{body}</p></body></html>"
    )


# (lang, Python codec the bytes are in, WHATWG name the reader must report)
LEGACY = [
    ("ja", "shift_jis", "Shift_JIS"),
    ("ja", "euc_jp", "EUC-JP"),
    ("zh-cn", "gb2312", "GBK"),
    ("ko", "euc_kr", "EUC-KR"),
    ("ru", "koi8_r", "KOI8-R"),
    ("ru", "cp1251", "windows-1251"),
]


@pytest.mark.parametrize(("lang", "codec", "name"), LEGACY)
def test_charset_in_the_http_header_decodes_the_page(lang: str, codec: str, name: str) -> None:
    html = page(text(lang))
    label = {"Shift_JIS": "shift_jis", "GBK": "gb2312", "EUC-KR": "euc-kr"}.get(name, name)
    got = decode_html(html.encode(codec), f"text/html; charset={label}")
    assert (got.text, got.charset, got.how) == (html, name, "http")


@pytest.mark.parametrize(("lang", "codec", "name"), LEGACY)
def test_charset_in_the_meta_tag_decodes_the_page(lang: str, codec: str, name: str) -> None:
    html = page(text(lang), meta=codec.replace("_", "-"))
    got = decode_html(html.encode(codec), "text/html")
    assert (got.text, got.charset, got.how) == (html, name, "meta")


@pytest.mark.parametrize(("lang", "codec", "name"), LEGACY)
def test_a_page_declaring_no_charset_is_detected(lang: str, codec: str, name: str) -> None:
    html = page(text(lang))
    got = decode_html(html.encode(codec), None)
    assert got.how == "detected"
    assert got.text == html, f"{lang} in {codec} decoded as {got.charset}"
    # uchardet names GB2312 text GB18030 (a superset: the same text), Shift_JIS text Shift_JIS
    assert got.charset in (name, "gb18030")


@pytest.mark.parametrize(
    ("label", "codec"),
    [("utf-8", "gb2312"), ("euc-jp", "shift_jis"), ("shift_jis", "euc_kr"), ("koi8-r", "utf-8")],
)
def test_a_declared_charset_that_does_not_fit_the_bytes_falls_through(
    label: str, codec: str
) -> None:
    lang = {"gb2312": "zh-cn", "shift_jis": "ja", "euc_kr": "ko", "utf-8": "ru"}[codec]
    html = page(text(lang), meta=codec.replace("_", "-"))
    got = decode_html(html.encode(codec), f"text/html; charset={label}")
    assert got.text == html
    assert got.how in ("meta", "utf8")


def test_utf8_under_a_stale_latin1_header_is_utf8_not_mojibake() -> None:
    html = page("Ein Café in Zürich – “Grüße” " + text("ru")[:200])
    got = decode_html(html.encode("utf-8"), "text/html; charset=ISO-8859-1")
    assert (got.text, got.charset, got.how) == (html, "UTF-8", "utf8")
    assert "Ã" not in got.text


def test_cp949_only_syllables_decode_under_the_euc_kr_label() -> None:
    # 똠 and 햏 are outside KS X 1001 (strict EUC-KR) but in windows-949, which browsers use
    html = page("똠방각하 햏자 " + text("ko")[:300])
    got = decode_html(html.encode("cp949"), "text/html; charset=euc-kr")
    assert (got.text, got.charset) == (html, "EUC-KR")


def test_shift_jis_label_decodes_windows_31j_extensions() -> None:
    html = page("①②③ ～ " + text("ja")[:300])  # NEC specials: cp932, not strict Shift_JIS
    got = decode_html(html.encode("cp932"), "text/html; charset=Shift_JIS")
    assert (got.text, got.charset) == (html, "Shift_JIS")


def test_latin1_label_is_windows_1252_with_its_c1_bytes() -> None:
    data = b"<p>\x93quoted\x94 \x80 5 \x81</p>"  # 0x81 is undefined in Python's cp1252
    got = decode_html(data, "text/html; charset=iso-8859-1")
    assert (got.text, got.charset) == ("<p>“quoted” € 5 \x81</p>", "windows-1252")


def test_byte_order_mark_wins_over_a_wrong_header() -> None:
    html = page(text("ja")[:200])
    got = decode_html(b"\xef\xbb\xbf" + html.encode("utf-8"), "text/html; charset=shift_jis")
    assert (got.text, got.how) == (html, "bom")


def test_undecodable_bytes_still_give_text() -> None:
    got = decode_html(b"<p>\xff\xfe\xfa broken \x8f\xa0</p>" * 3, "text/html; charset=utf-8")
    assert "broken" in got.text and got.how in ("detected", "fallback")


@pytest.mark.parametrize(
    ("label", "name"),
    [
        ("gb2312", "GBK"),
        ("GB_2312-80", "GBK"),
        ("euc-kr", "EUC-KR"),
        ("ks_c_5601-1987", "EUC-KR"),
        ("iso-8859-1", "windows-1252"),
        ("latin1", "windows-1252"),
        ("US-ASCII", "windows-1252"),
        ("sjis", "Shift_JIS"),
        ("windows-31j", "Shift_JIS"),
        ("koi8_r", "KOI8-R"),
        ("cp1251", "windows-1251"),
        ("utf8", "UTF-8"),
        ("tis-620", "windows-874"),
        ("x-unknown-charset", None),
    ],
)
def test_labels_map_as_the_whatwg_encoding_standard_says(label: str, name: str | None) -> None:
    assert whatwg_name(label) == name


def test_declarations_are_found_in_header_and_meta() -> None:
    assert header_charset('text/html; charset="Shift_JIS"') == "Shift_JIS"
    assert header_charset("text/html") is None
    assert meta_charset(b'<html><head><meta charset="koi8-r"/>') == "koi8-r"
    equiv = b'<meta content="text/html; charset=gb2312" http-equiv="Content-Type">'
    assert meta_charset(equiv) == "gb2312"
    # a charset inside another meta tag's content is no declaration
    assert meta_charset(b'<meta name="description" content="charset=koi8-r tips">') is None
    # the prescan looks at the first 1024 bytes only
    assert meta_charset(b" " * 1100 + b'<meta charset="koi8-r">') is None
