"""URL helpers shared by the WARC readers, url_filter and URL dedup."""

import pytest

from cleanpipe.io.urls import normalize_url, url_domain, url_host


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "HTTPS://Docs.Python.org:443/3/library/os.html#os.walk",
            "https://docs.python.org/3/library/os.html",
        ),
        ("http://example.org", "http://example.org/"),
        ("http://example.org:8080/a", "http://example.org:8080/a"),
        ("http://example.org/Path/Case?Q=Kept", "http://example.org/Path/Case?Q=Kept"),
        ("https://example.org:80/", "https://example.org:80/"),  # 80 is not https's default
        ("http://[2001:db8::1]:80/x", "http://[2001:db8::1]/x"),
        ("http://example.org./a", "http://example.org/a"),
    ],
)
def test_normalize_url(url: str, expected: str) -> None:
    assert normalize_url(url) == expected


def test_normalize_url_keeps_an_unparsable_url_as_written() -> None:
    assert normalize_url("http://[broken/x") == "http://[broken/x"


@pytest.mark.parametrize(
    ("url", "domain"),
    [
        ("https://docs.python.org/3/", "python.org"),
        ("http://news.bbc.co.uk/x", "bbc.co.uk"),
        ("http://www.debian.org:8080/doc/", "debian.org"),
        ("http://a.b.intranet.corp/", "intranet.corp"),  # no public suffix: last two labels
        ("http://localhost/x", "localhost"),
        ("http://192.168.1.20/admin", "192.168.1.20"),
        ("not a url", ""),
    ],
)
def test_url_domain(url: str, domain: str) -> None:
    assert url_domain(url) == domain


def test_url_host_drops_port_and_credentials() -> None:
    assert url_host("http://user:pw@WWW.Example.ORG:81/") == "www.example.org"
