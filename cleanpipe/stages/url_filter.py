"""Drop pages by their URL (``meta["url"]``): blocked domains, exact URLs and URL words, with
an allow-list that wins over all of them.

Lists are plain files, one entry per line, ``#`` comments and blank lines ignored: the format
of the UT1 blacklists (Université Toulouse 1 Capitole, the lists squidGuard reads and that
datatrove's ``URLFilter``, FineWeb's, builds its adult-domain list from) and of most other
blocklists. Nothing is downloaded and no list is required: a ``url_filter`` with no
lists keeps every page. Each list is read once per process (cached by path, size and
modification time) into a set, so a lookup is a few set probes whatever the list's length.

Matching:

- ``block_domains`` / ``allow_domains``: an entry matches its host and every subdomain, by
  whole labels (``tracker.test`` matches ``ads.tracker.test`` but not ``nottracker.test`` or
  ``tracker.test.org``). IP addresses (UT1 lists them among domains) match only themselves.
- ``block_urls``: an entry matches one URL, compared in the normalized form URL dedup uses
  (:func:`cleanpipe.io.urls.normalize_url`), without its scheme, a leading ``www.`` or a
  trailing ``/`` (UT1's ``urls`` files write ``example.com/path``, without a scheme).
- ``block_words``: an entry matches when its words appear, in order, among the URL's words
  (the percent-decoded, lower-cased URL split on anything but letters and digits), so ``sex``
  blocks ``/sex-videos/`` but not ``/essex/`` or ``/sextant``.
"""

from __future__ import annotations

import functools
import ipaddress
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import unquote

from cleanpipe.document import Document
from cleanpipe.io.urls import normalize_url, url_host
from cleanpipe.stages.base import Filter, register
from cleanpipe.stages.rules import Drop, Verdict

#: a list parameter: one file, or several (their entries are united).
ListPaths = str | list[str] | None

_WORD_SPLIT = re.compile(r"[\W_]+")


def list_paths(value: ListPaths, key: str) -> list[str]:
    """The files a list parameter names; a missing one is a config error naming ``key``
    (and its index when there are several)."""
    if value is None:
        return []
    paths = [value] if isinstance(value, str) else list(value)
    for i, path in enumerate(paths):
        where = key if isinstance(value, str) else f"{key}[{i}]"
        if not isinstance(path, str) or not path:
            raise ValueError(f"{where}: expected the path of a list file, got {path!r}")
        if not os.path.isfile(path):
            raise FileNotFoundError(f"{where}: list file not found: {path}")
    return paths


def read_entries(path: str) -> Iterable[str]:
    """The entries of one list file: stripped lines, without blank lines and ``#`` comments.
    Bytes that are not UTF-8 (an old Latin-1 list) are replaced rather than fatal."""
    with open(path, encoding="utf-8", errors="replace") as lines:
        for line in lines:
            entry = line.strip()
            if entry and not entry.startswith("#"):
                yield entry


def domain_key(entry: str) -> str:
    """A domain as lists and URLs are compared: lower-case, IDNA (punycode) for a host in
    another script, no scheme, path, port, trailing dot or leading ``*.``/``.`` wildcard."""
    entry = entry.strip().lower()
    if "://" in entry or "/" in entry:
        entry = url_host(entry if "://" in entry else f"http://{entry}")
    entry = entry.removeprefix("*.").strip(".")
    if entry.count(":") == 1:  # host:port (an IPv6 literal has several colons)
        entry = entry.split(":")[0]
    if not entry.isascii():
        try:
            entry = entry.encode("idna").decode("ascii")
        except UnicodeError:
            pass
    return entry


def url_key(url: str) -> str:
    """A URL as ``block_urls`` entries are compared: normalized, without scheme, a leading
    ``www.`` and a trailing ``/``."""
    if "://" not in url:
        url = f"http://{url}"
    key = normalize_url(url).split("://", 1)[-1]
    return key.removeprefix("www.").rstrip("/")


def url_words(url: str) -> list[str]:
    """The words of a URL: percent-decoded, lower-cased, split on non-alphanumerics."""
    return [word for word in _WORD_SPLIT.split(unquote(url).lower()) if word]


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


@functools.lru_cache(maxsize=32)
def _load(kind: str, paths: tuple[str, ...], stamps: tuple[tuple[int, int], ...]) -> frozenset:
    """Every entry of ``paths`` in its compared form; cached per process, keyed by the files'
    sizes and modification times so that an edited list is read again."""
    convert = {"domains": domain_key, "urls": url_key, "words": lambda e: tuple(url_words(e))}
    return frozenset(
        key for path in paths for entry in read_entries(path) if (key := convert[kind](entry))
    )


def load_list(kind: str, paths: list[str]) -> frozenset:
    """The entries of ``paths`` for a ``kind`` of list (``domains``, ``urls``, ``words``)."""
    stamps = tuple((st.st_size, st.st_mtime_ns) for st in map(os.stat, paths))
    return _load(kind, tuple(os.path.abspath(p) for p in paths), stamps)


@dataclass(frozen=True)
class DomainSet:
    """Domains matched with their subdomains, by whole labels."""

    entries: frozenset

    def match(self, host: str) -> str | None:
        """The entry that ``host`` is or is a subdomain of, or ``None``."""
        if not self.entries or not host:
            return None
        if _is_ip(host):
            return host if host in self.entries else None
        labels = host.split(".")
        for i in range(len(labels)):
            candidate = ".".join(labels[i:])
            if candidate in self.entries:
                return candidate
        return None


@dataclass(frozen=True)
class WordSet:
    """Words, and phrases of several words, matched against a URL's words."""

    entries: frozenset  # of tuples of words

    def match(self, words: list[str]) -> str | None:
        for n in sorted({len(entry) for entry in self.entries}):
            for i in range(len(words) - n + 1):
                if (gram := tuple(words[i : i + n])) in self.entries:
                    return " ".join(gram)
        return None


@register("url_filter")
class URLFilter(Filter):
    """Drop pages whose ``meta["url"]`` is on a block list; ``allow_domains`` wins over all.

    Each list parameter takes a file path or a list of paths (one entry per line, ``#``
    comments: UT1's ``domains`` and ``urls`` files as they are). Reasons name the rule,
    ``url_filter:blocked_domain`` / ``blocked_url`` / ``blocked_word``, and the drop's detail
    the entry that matched. With no list at all every page is kept. A document without a URL
    (a JSONL source with no ``url`` field) is kept, or dropped as ``url_filter:no_url`` with
    ``keep_without_url: false``.
    """

    batch_size = 1024

    def __init__(
        self,
        *,
        block_domains: ListPaths = None,
        block_urls: ListPaths = None,
        block_words: ListPaths = None,
        allow_domains: ListPaths = None,
        keep_without_url: bool = True,
        annotate_only: bool = False,
    ) -> None:
        super().__init__(annotate_only=annotate_only)
        lists = {
            "block_domains": block_domains,
            "block_urls": block_urls,
            "block_words": block_words,
            "allow_domains": allow_domains,
        }
        paths = {key: list_paths(value, key) for key, value in lists.items()}
        self.block_domains = DomainSet(load_list("domains", paths["block_domains"]))
        self.allow_domains = DomainSet(load_list("domains", paths["allow_domains"]))
        self.block_urls = load_list("urls", paths["block_urls"])
        self.block_words = WordSet(load_list("words", paths["block_words"]))
        self.keep_without_url = keep_without_url

    def check(self, doc: Document) -> Verdict:
        url = doc.meta.get("url")
        if not isinstance(url, str) or not url.strip():
            return None if self.keep_without_url else Drop("no_url", "meta has no url")
        host = domain_key(url_host(url))
        if entry := self.allow_domains.match(host):
            doc.meta["url_filter"] = {"rule": "allowed_domain", "entry": entry}
            return None
        found = self.first_block(url, host)
        if found is None:
            return None
        rule, entry = found
        doc.meta["url_filter"] = {"rule": rule, "entry": entry}
        return Drop(rule, entry)

    def first_block(self, url: str, host: str) -> tuple[str, str] | None:
        """The first block rule ``url`` matches and the entry it matched, or ``None``."""
        if entry := self.block_domains.match(host):
            return "blocked_domain", entry
        if self.block_urls and (key := url_key(url)) in self.block_urls:
            return "blocked_url", key
        if self.block_words.entries and (entry := self.block_words.match(url_words(url))):
            return "blocked_word", entry
        return None
