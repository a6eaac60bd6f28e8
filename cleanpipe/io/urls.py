"""URLs of web documents: the registered domain of a host, and the normalized form that URL
dedup keys on.

Both are pure functions so that readers, the ``url_filter`` stage and the dedup barrier agree
on them. The public suffix list is tldextract's bundled snapshot; nothing is ever fetched
(``suffix_list_urls=()``, no cache directory).
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

if TYPE_CHECKING:
    import tldextract

#: ports a scheme implies; ``http://a.org:80/`` and ``http://a.org/`` are one page.
DEFAULT_PORTS = {"http": 80, "https": 443, "ftp": 21}


@functools.lru_cache(maxsize=1)
def _extractor() -> tldextract.TLDExtract:
    # imported here: tldextract brings requests and urllib3 (~0.1 s), which every worker
    # would pay at start-up; only a host lookup needs it
    import tldextract

    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


def url_host(url: str) -> str:
    """The host of ``url``, lower-cased, without port, credentials or a trailing dot."""
    try:
        host = urlsplit(url.strip()).hostname or ""
    except ValueError:  # an unclosed IPv6 bracket and the like
        return ""
    return host.rstrip(".").lower()


@functools.lru_cache(maxsize=65_536)
def host_domain(host: str) -> str:
    """The registered domain of a host (``docs.python.org`` → ``python.org``,
    ``a.b.co.uk`` → ``b.co.uk``); for a host under no public suffix (``intranet.corp``,
    ``localhost``, an IP address), its last two labels, or the host itself."""
    host = host.rstrip(".").lower()
    if not host:
        return ""
    parts = _extractor()(host)
    if parts.suffix and parts.domain:
        return f"{parts.domain}.{parts.suffix}"
    if host.replace(".", "").isdigit() or ":" in host:  # IPv4 / IPv6 literal
        return host
    return ".".join(host.split(".")[-2:])


def url_domain(url: str) -> str:
    """The registered domain of ``url``'s host (see :func:`host_domain`); ``""`` if none."""
    return host_domain(url_host(url))


def normalize_url(url: str) -> str:
    """The form URL dedup compares: scheme and host lower-cased, the scheme's default port
    and the fragment dropped, an empty path made ``/``; path and query kept as they are
    (they are case-sensitive on most servers, and a query often selects the page)."""
    url = url.strip()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return url
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".")
    if ":" in host:  # IPv6 literal: keep its brackets
        host = f"[{host}]"
    netloc = host
    if port is not None and port != DEFAULT_PORTS.get(scheme):
        netloc = f"{host}:{port}"
    if parts.username is not None:
        userinfo = parts.username + (f":{parts.password}" if parts.password is not None else "")
        netloc = f"{userinfo}@{netloc}"
    return urlunsplit((scheme, netloc, parts.path or "/", parts.query, ""))
