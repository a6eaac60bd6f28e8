"""The benchmark corpus: real text from this machine, stitched into ~2 KB web-like pages, with
near-duplicates and low-quality pages mixed in. Deterministic for a given seed and text pool.

    python benchmarks/corpus.py --size 100k          # builds benchmarks/.work/corpus-100k/

Text pool (built once, cached as ``benchmarks/.work/pool-v<N>.json.gz``): English prose
paragraphs of ``sample_data/`` (the English web pages, the Austen and Gutenberg books, the
Reuters and State of the Union news), the docstrings of the Python standard library (read
with ``ast``) and the README/Markdown/text/reST/HTML files under ``/usr/share/doc``; the
non-English web pages of ``sample_data/`` (Debian Reference translations) for foreign pages.
Paragraphs are deduplicated and split into sentences; the pool is one string ``big`` with
sentence start offsets, so a passage of consecutive sentences is a single slice.

Documents (``id``, ``text``, ``url``), ``doc(g)`` a pure function of the seed and the global
index ``g`` (so the 10k corpus is the first 10k documents of the 100k one, and 100k of 1M):

- ``normal`` (80%): an optional title line and 2-5 passages of consecutive real sentences
  from random places of the pool, ~2,100 characters on average (400-2,600 before rounding
  up to whole sentences, 5% three times longer). Never a single passage: the pool holds
  ~19 MB of distinct prose, so at 1M documents each sentence is used ~100 times, and two
  one-passage pages starting at the same sentence would be unplanned near-duplicates;
- ``near_dup`` (7%): a copy of an earlier normal document with one edit: a navigation header
  or a footer added, 0.5-3% of the words substituted, or the layout changed and a sentence
  dropped (most pairs have a word 5-gram Jaccard above 0.7);
- ``exact_dup`` (2%): a byte-identical copy of an earlier normal document under a new id;
- ``low_quality`` (11%), evenly: navigation/boilerplate pages, lines repeated many times,
  bullet keyword lists, very short pages, hashtag stuffing, "Read more..." teaser lists,
  numeric tables, non-English pages, and a passage followed by a phrase repeated dozens of
  times.

Shards are ``part-NNNNN.jsonl.gz`` of 10,000 documents (5,000 for corpora of up to 10,000
documents, so that two workers have two files to share), gzip level 1, written by two
processes. ``MANIFEST.json`` records the generator version, seed, pool digest, counts per kind
and bytes; a corpus whose manifest matches is reused, and shards another corpus size already
wrote (same documents) are hard-linked instead of regenerated.
"""

from __future__ import annotations

import argparse
import ast
import bisect
import glob
import gzip
import hashlib
import io
import json
import multiprocessing
import os
import random
import re
import time
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np

try:
    import orjson

    def _dumps(obj: dict[str, Any]) -> bytes:
        return orjson.dumps(obj)

except ImportError:  # pragma: no cover - orjson is only an accelerator

    def _dumps(obj: dict[str, Any]) -> bytes:
        return json.dumps(obj, ensure_ascii=False).encode("utf-8")


REPO = Path(__file__).resolve().parent.parent
WORK = REPO / "benchmarks" / ".work"
#: bump when the documents a seed produces change.
GENERATOR_VERSION = 2
POOL_VERSION = 1
SIZES = {"10k": 10_000, "100k": 100_000, "1M": 1_000_000}
DEFAULT_SEED = 20240601

KIND_CUTS = (("normal", 0.80), ("near_dup", 0.87), ("exact_dup", 0.89), ("low_quality", 1.0))
LOW_QUALITY = (
    "nav",
    "repeated_lines",
    "bullets",
    "short",
    "hashtags",
    "ellipsis",
    "numeric",
    "foreign",
    "repeated_phrase",
)
NAV_WORDS = (
    "Home", "About", "About us", "Contact", "Blog", "News", "Products", "Services", "Shop",
    "Cart", "Login", "Sign in", "Register", "Search", "Help", "FAQ", "Careers", "Press",
    "Privacy Policy", "Terms of Use", "Cookie settings", "Sitemap", "Subscribe", "Newsletter",
    "Follow us", "Facebook", "Twitter", "Instagram", "LinkedIn", "YouTube", "Deutsch",
    "Français", "Español", "Back to top", "Next", "Previous", "Menu", "Categories", "Archives",
    "Tags", "Share", "Print", "Email", "Downloads", "Support", "Forum", "Events", "Gallery",
)  # fmt: skip
DOMAINS = (
    "example.com", "example.org", "example.net", "docs.example.com", "blog.example.org",
    "news.example.net", "wiki.example.com", "forum.example.org", "shop.example.net",
    "archive.example.com", "library.example.org", "notes.example.net",
)  # fmt: skip
FOOTERS = (
    "Copyright © {y} Example Media. All rights reserved. Privacy Policy | Terms of Use",
    "This page was last edited on {d} March {y}. Content is available under CC BY-SA.",
    "Share this: Facebook | Twitter | Email. Related posts are listed below.",
    "Posted in Uncategorized | Leave a comment | Subscribe to our newsletter",
)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'(\[])")
_SPACES = re.compile(r"\s+")
_WORD = re.compile(r"[A-Za-z]{3,12}")


# -- the text pool -----------------------------------------------------------------------


class _HTMLText(HTMLParser):
    """Visible text of an HTML page, a blank line at each block element; no code blocks."""

    BLOCKS = {"p", "div", "li", "h1", "h2", "h3", "h4", "br", "tr", "dd", "dt", "section"}
    SKIP = {"script", "style", "pre", "code", "nav"}

    def __init__(self) -> None:
        super().__init__()
        self.out: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in self.SKIP:
            self.skip += 1
        if tag in self.BLOCKS:
            self.out.append("\n\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP:
            self.skip = max(0, self.skip - 1)

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.out.append(data)


def _prose_paragraphs(text: str) -> list[str]:
    """Paragraphs (blank-line separated, re-flowed onto one line) that look like prose."""
    out = []
    for block in re.split(r"\n\s*\n", text.replace("\r\n", "\n").lstrip("\ufeff")):
        para = _SPACES.sub(" ", block).strip()
        if len(para) < 60 or len(para.split()) < 8:
            continue
        if sum(c.isalpha() for c in para) < 0.65 * len(para):
            continue
        out.append(para)
    return out


def _read_text(path: str) -> str | None:
    try:
        raw = gzip.open(path).read() if path.endswith(".gz") else Path(path).read_bytes()
        return raw.decode("utf-8")
    except (OSError, UnicodeDecodeError, EOFError):
        return None


def _jsonl(path: Path) -> list[dict[str, Any]]:
    if path.suffix == ".zst":
        import zstandard

        data = zstandard.ZstdDecompressor().stream_reader(path.open("rb")).read()
    elif path.suffix == ".gz":
        data = gzip.decompress(path.read_bytes())
    else:
        data = path.read_bytes()
    out = []
    for line in data.decode("utf-8").splitlines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return out


def _collect_texts() -> tuple[dict[str, list[str]], list[str]]:
    """(English texts by origin, non-English texts), in a deterministic order."""
    manifest = json.loads((REPO / "sample_data" / "MANIFEST.json").read_text())
    web = manifest["web"]
    foreign_ids = set(web["non_english_ids"])
    skip = set(web["boilerplate_ids"]) | {d["id"] for d in web["near_duplicates"]}
    skip |= {d["id"] if isinstance(d, dict) else d for d in web["exact_duplicates"]}
    texts: dict[str, list[str]] = {"sample_web": [], "sample_books": [], "sample_news": []}
    foreign: list[str] = []
    for path in sorted((REPO / "sample_data" / "web").glob("*.jsonl.gz")):
        for rec in _jsonl(path):
            if "text" not in rec or rec.get("id") in skip:
                continue
            (foreign if rec.get("id") in foreign_ids else texts["sample_web"]).append(rec["text"])
    for path in sorted((REPO / "sample_data" / "books").glob("*.jsonl")):
        texts["sample_books"] += [r["text"] for r in _jsonl(path) if "text" in r]
    for path in sorted((REPO / "sample_data" / "news").glob("*.jsonl.zst")):
        texts["sample_news"] += [r["text"] for r in _jsonl(path) if "text" in r]

    # docstrings of the standard library of the running interpreter
    import sysconfig

    stdlib = sysconfig.get_paths()["stdlib"]
    texts["stdlib_docstrings"] = []
    skip_dirs = {"test", "tests", "site-packages", "dist-packages", "idlelib", "lib2to3"}
    for folder, dirs, names in os.walk(stdlib):
        dirs[:] = sorted(d for d in dirs if d not in skip_dirs and not d.startswith("__"))
        for name in sorted(names):
            if not name.endswith(".py"):
                continue
            source = _read_text(os.path.join(folder, name))
            if source is None:
                continue
            try:
                tree = ast.parse(source)
            except (SyntaxError, ValueError):
                continue
            for node in ast.walk(tree):
                if isinstance(
                    node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef
                ):
                    doc = ast.get_docstring(node)
                    if doc:
                        texts["stdlib_docstrings"].append(doc)

    # package documentation of this machine
    texts["usr_share_doc"] = []
    for path in sorted(glob.glob("/usr/share/doc/**/*", recursive=True)):
        base = os.path.basename(path).lower().removesuffix(".gz")
        if not base.endswith((".md", ".txt", ".rst", ".html")) and not base.startswith("readme"):
            continue
        if not os.path.isfile(path):
            continue
        text = _read_text(path)
        if text is None:
            continue
        if base.endswith(".html"):
            parser = _HTMLText()
            parser.feed(text)
            text = "".join(parser.out)
        texts["usr_share_doc"].append(text)
    return texts, foreign


@dataclass
class Pool:
    """Sentences of real prose as one string with start offsets, and non-English passages."""

    big: str
    offsets: list[int]  # start of each sentence in big, plus len(big) at the end
    foreign: list[str]
    vocab: list[str]
    origins: dict[str, int]  # characters contributed per origin
    digest: str

    @property
    def sentences(self) -> int:
        return len(self.offsets) - 1


def _split_long(para: str, limit: int = 900) -> list[str]:
    """Sentences of a paragraph, regrouped into paragraphs of at most ~limit characters."""
    groups: list[list[str]] = [[]]
    size = 0
    for sentence in _SENTENCE_END.split(para):
        if size > limit and groups[-1]:
            groups.append([])
            size = 0
        groups[-1].append(sentence)
        size += len(sentence) + 1
    return [" ".join(g) for g in groups if g]


def build_pool(cache: Path | None = None) -> Pool:
    """The text pool, from the cache file when it exists (building it takes ~30 s)."""
    cache = cache or WORK / f"pool-v{POOL_VERSION}.json.gz"
    if cache.exists():
        data = json.loads(gzip.decompress(cache.read_bytes()))
        return Pool(**data)
    texts, foreign_texts = _collect_texts()
    seen: set[str] = set()
    parts: list[str] = []
    offsets: list[int] = []
    origins: dict[str, int] = {}
    position = 0
    for origin, items in texts.items():
        origins[origin] = 0
        for text in items:
            for para in _prose_paragraphs(text):
                if para in seen:
                    continue
                seen.add(para)
                for group in _split_long(para):
                    sentences = _SENTENCE_END.split(group)
                    for i, sentence in enumerate(sentences):
                        piece = sentence + (" " if i + 1 < len(sentences) else "\n\n")
                        offsets.append(position)
                        parts.append(piece)
                        position += len(piece)
                        origins[origin] += len(piece)
    offsets.append(position)
    big = "".join(parts)
    foreign = [p for text in foreign_texts for p in _prose_paragraphs(text)]
    counts: dict[str, int] = {}
    for word in _WORD.findall(big[:3_000_000]):
        counts[word.lower()] = counts.get(word.lower(), 0) + 1
    vocab = sorted(w for w, n in counts.items() if n >= 3)
    digest = hashlib.sha256(big.encode("utf-8")).hexdigest()[:16]
    pool = Pool(big, offsets, foreign, vocab, origins, digest)
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_suffix(f".tmp-{os.getpid()}")
    tmp.write_bytes(gzip.compress(json.dumps(pool.__dict__).encode("utf-8"), 3, mtime=0))
    tmp.replace(cache)
    return pool


# -- documents ---------------------------------------------------------------------------

_M64 = np.uint64(0xFFFFFFFFFFFFFFFF)


def _splitmix(x: np.ndarray) -> np.ndarray:
    x = x + np.uint64(0x9E3779B97F4A7C15)
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def draws(seed: int, docs: np.ndarray, k: int = 16) -> np.ndarray:
    """Uniform [0, 1) numbers, ``k`` per document index, a pure function of (seed, index)."""
    with np.errstate(over="ignore"):
        base = np.uint64(seed & 0xFFFFFFFF) * np.uint64(0x100000001B3)
        keys = docs.astype(np.uint64)[:, None] * np.uint64(64) + np.arange(k, dtype=np.uint64)
        bits = _splitmix(_splitmix(keys ^ base))
    return (bits >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))


def kind_of(u0: float) -> str:
    for name, cut in KIND_CUTS:
        if u0 < cut:
            return name
    return "low_quality"


class Generator:
    """Makes the documents of a seed from a pool."""

    def __init__(self, pool: Pool, seed: int) -> None:
        self.pool = pool
        self.seed = seed
        self.n = pool.sentences

    # passages are slices of pool.big between sentence starts
    def passage(self, start_u: float, chars: float) -> str:
        off = self.pool.offsets
        s = int(start_u * self.n)
        end = bisect.bisect_left(off, off[s] + chars, lo=s + 1)
        return self.pool.big[off[s] : off[min(end, self.n)]].strip()

    def title(self, u_start: float, u_len: float) -> str:
        words = self.passage(u_start, 80).split()[: 3 + int(u_len * 7)]
        return " ".join(words).rstrip(".,;:!?")

    def normal_text(self, u: list[float]) -> str:
        chars = 400 + 2200 * (u[1] + u[2] + u[3]) / 3
        if u[4] < 0.05:
            chars *= 3
        n_pass = 2 + int(u[5] * 4)
        passages = [self.passage(u[6 + i], chars / n_pass) for i in range(n_pass)]
        if u[10] < 0.7:
            passages.insert(0, self.title(u[11], u[12]))
        return "\n\n".join(passages)

    def source_of(self, g: int, u: list[float]) -> int | None:
        """An earlier normal document to copy: the first of four seeded candidates."""
        if g == 0:
            return None
        candidates = np.array([int(x * g) for x in u[1:5]], dtype=np.int64)
        first = draws(self.seed, candidates, 1)[:, 0]
        for j, u0 in zip(candidates.tolist(), first.tolist(), strict=True):
            if kind_of(u0) == "normal":
                return j
        return None

    def url(self, g: int, u: float, mirror: bool = False) -> str:
        domain = DOMAINS[int(u * len(DOMAINS))]
        host = f"mirror{g % 7}.{domain}" if mirror else domain
        return f"https://{host}/page/{g:07d}.html"

    def doc(self, g: int, u: list[float]) -> tuple[dict[str, str], str, str]:
        """(record, kind, subtype) of document ``g`` whose draws are ``u``."""
        kind = kind_of(u[0])
        doc_id = f"bench-{g:07d}"
        if kind in ("near_dup", "exact_dup"):
            j = self.source_of(g, u)
            if j is None:
                kind = "normal"
            else:
                base = self.normal_text(draws(self.seed, np.array([j]))[0].tolist())
                if kind == "exact_dup":
                    return {"id": doc_id, "text": base, "url": self.url(j, u[13], True)}, kind, ""
                edit, text = self.near_copy(base, u)
                return {"id": doc_id, "text": text, "url": self.url(j, u[13], True)}, kind, edit
        if kind == "normal":
            return {"id": doc_id, "text": self.normal_text(u), "url": self.url(g, u[13])}, kind, ""
        sub = LOW_QUALITY[int(u[1] * len(LOW_QUALITY))]
        rng = random.Random(int(u[2] * (1 << 53)))
        text = getattr(self, f"low_{sub}")(rng)
        return {"id": doc_id, "text": text, "url": self.url(g, u[13])}, kind, sub

    # near-duplicate edits
    def near_copy(self, base: str, u: list[float]) -> tuple[str, str]:
        rng = random.Random(int(u[14] * (1 << 53)))
        pick = u[15]
        if pick < 0.25:
            nav = " | ".join(rng.sample(NAV_WORDS, 6))
            return "header_added", f"{nav}\n\n{base}"
        if pick < 0.5:
            footer = rng.choice(FOOTERS).format(y=rng.randint(2009, 2024), d=rng.randint(1, 28))
            return "footer_added", f"{base}\n\n{footer}"
        if pick < 0.8:
            words = base.split(" ")
            rate = rng.uniform(0.005, 0.03)
            for i in rng.sample(range(len(words)), max(1, int(rate * len(words)))):
                words[i] = rng.choice(self.pool.vocab)
            return "words_substituted", " ".join(words)
        sentences = _SENTENCE_END.split(base)
        if len(sentences) > 4:
            del sentences[rng.randrange(1, len(sentences) - 1)]
        return "layout_changed", "\n".join(sentences).replace("\n\n", "\n")

    # low-quality pages (one generator each); Gopher's rules should drop most of them
    def _sentences(self, rng: random.Random, chars: int) -> list[str]:
        return _SENTENCE_END.split(self.passage(rng.random(), chars).replace("\n\n", " "))

    def low_nav(self, rng: random.Random) -> str:
        lines = [
            " | ".join(rng.sample(NAV_WORDS, rng.randint(1, 5))) for _ in range(rng.randint(20, 60))
        ]
        lines.append(rng.choice(FOOTERS).format(y=2023, d=1))
        return "\n".join(lines)

    def low_repeated_lines(self, rng: random.Random) -> str:
        lines = self._sentences(rng, 300)[:3]
        body = [rng.choice(lines) for _ in range(rng.randint(15, 40))]
        return "\n".join([self.passage(rng.random(), 300)] + body)

    def low_bullets(self, rng: random.Random) -> str:
        vocab = self.pool.vocab
        items = [
            f"{rng.choice('•-*')} {rng.choice(vocab)} {rng.choice(vocab)} {rng.choice(vocab)}"
            f" for {rng.choice(vocab)}"
            for _ in range(rng.randint(30, 80))
        ]
        return "\n".join(items)

    def low_short(self, rng: random.Random) -> str:
        return " ".join(self.passage(rng.random(), 120).split()[: rng.randint(5, 40)])

    def low_hashtags(self, rng: random.Random) -> str:
        words = self.passage(rng.random(), 1200).split(" ")
        vocab = self.pool.vocab
        for i in range(0, len(words), 4):
            words[i] = f"#{rng.choice(vocab)} #{rng.choice(vocab)} {words[i]}"
        return " ".join(words)

    def low_ellipsis(self, rng: random.Random) -> str:
        lines = []
        for _ in range(rng.randint(15, 40)):
            words = self.passage(rng.random(), 100).split()[: rng.randint(6, 12)]
            lines.append(" ".join(words) + rng.choice(("...", "…", "... Read more")))
        return "\n".join(lines)

    def low_numeric(self, rng: random.Random) -> str:
        rows = [
            f"{rng.randint(1990, 2024)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d} "
            + " ".join(f"{rng.uniform(0, 1000):.2f}" for _ in range(rng.randint(4, 9)))
            for _ in range(rng.randint(30, 90))
        ]
        return "Date Open High Low Close Volume\n" + "\n".join(rows)

    def low_foreign(self, rng: random.Random) -> str:
        if not self.pool.foreign:
            return self.low_short(rng)
        return "\n\n".join(rng.choice(self.pool.foreign) for _ in range(rng.randint(2, 6)))

    def low_repeated_phrase(self, rng: random.Random) -> str:
        phrase = " ".join(self.passage(rng.random(), 80).split()[:6])
        return self.passage(rng.random(), 800) + "\n\n" + " ".join([phrase] * rng.randint(20, 60))


# -- shards ------------------------------------------------------------------------------

_GEN: Generator | None = None


def _make_shard(args: tuple[int, int, int, str]) -> dict[str, Any]:
    """Write documents [first, first + count) as one gzip JSONL shard; return its stats."""
    first, count, seed, path = args
    gen = _GEN
    assert gen is not None
    u_all = draws(seed, np.arange(first, first + count, dtype=np.int64)).tolist()
    lines = []
    kinds: dict[str, int] = {}
    text_bytes = 0
    for offset, u in enumerate(u_all):
        record, kind, sub = gen.doc(first + offset, u)
        key = f"{kind}:{sub}" if sub else kind
        kinds[key] = kinds.get(key, 0) + 1
        line = _dumps(record)
        text_bytes += len(record["text"].encode("utf-8"))
        lines.append(line)
    data = b"\n".join(lines) + b"\n"
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "wb") as fh:
        fh.write(gzip.compress(data, compresslevel=1, mtime=0))
    os.replace(tmp, path)
    return {
        "file": os.path.basename(path),
        "first": first,
        "docs": count,
        "text_bytes": text_bytes,
        "json_bytes": len(data),
        "gz_bytes": os.path.getsize(path),
        "kinds": dict(sorted(kinds.items())),
    }


def docs_per_shard(docs: int) -> int:
    return 5_000 if docs <= 10_000 else 10_000


def corpus_dir(size: str) -> Path:
    return WORK / f"corpus-{size}"


def _manifest_ok(manifest: dict[str, Any] | None, docs: int, seed: int, digest: str) -> bool:
    return bool(
        manifest
        and manifest.get("generator_version") == GENERATOR_VERSION
        and manifest.get("seed") == seed
        and manifest.get("docs") == docs
        and manifest.get("pool_digest") == digest
    )


def _read_manifest(folder: Path) -> dict[str, Any] | None:
    try:
        return json.loads((folder / "MANIFEST.json").read_text())
    except (OSError, json.JSONDecodeError):
        return None


def ensure_corpus(
    size: str, seed: int = DEFAULT_SEED, processes: int = 2, log: Any = print
) -> dict[str, Any]:
    """Build (or reuse) the corpus of ``size``; returns its manifest."""
    docs = SIZES[size]
    folder = corpus_dir(size)
    manifest = _read_manifest(folder)
    if manifest and manifest.get("generator_version") == GENERATOR_VERSION:
        if manifest.get("seed") == seed and manifest.get("docs") == docs:
            if all((folder / s["file"]).exists() for s in manifest["shards"]):
                return manifest
    started = time.perf_counter()
    global _GEN
    t0 = time.perf_counter()
    pool = build_pool()
    log(f"corpus {size}: text pool of {pool.sentences:,} sentences ({len(pool.big) / 1e6:.1f} MB)"
        f" ready in {time.perf_counter() - t0:.1f}s")  # fmt: skip
    folder.mkdir(parents=True, exist_ok=True)
    per_shard = docs_per_shard(docs)
    jobs = []
    reused: dict[str, dict[str, Any]] = {}
    # shards of the same documents written for another size: hard-link them
    for other in sorted(WORK.glob("corpus-*")):
        other_manifest = _read_manifest(other)
        if other == folder or not other_manifest:
            continue
        if other_manifest.get("docs_per_shard") != per_shard:
            continue
        if not _manifest_ok(other_manifest, other_manifest["docs"], seed, pool.digest):
            continue
        for shard in other_manifest["shards"]:
            if shard["first"] + shard["docs"] <= docs and (other / shard["file"]).exists():
                reused.setdefault(shard["file"], {**shard, "_from": str(other)})
    shards: dict[str, dict[str, Any]] = {}
    for index, first in enumerate(range(0, docs, per_shard)):
        name = f"part-{index:05d}.jsonl.gz"
        path = folder / name
        if name in reused and reused[name]["first"] == first:
            source = Path(reused[name].pop("_from")) / name
            if path.exists():
                path.unlink()
            try:
                os.link(source, path)
            except OSError:
                import shutil

                shutil.copyfile(source, path)
            shards[name] = reused[name]
            continue
        jobs.append((first, min(per_shard, docs - first), seed, str(path)))
    _GEN = Generator(pool, seed)
    if jobs:
        context = multiprocessing.get_context("fork")
        with context.Pool(processes) as workers:
            for n, stats in enumerate(workers.imap_unordered(_make_shard, jobs), 1):
                shards[stats["file"]] = stats
                if n % 10 == 0 or n == len(jobs):
                    log(f"corpus {size}: {n}/{len(jobs)} shards written "
                        f"({time.perf_counter() - started:.0f}s)")  # fmt: skip
    ordered = [shards[k] for k in sorted(shards)]
    kinds: dict[str, int] = {}
    for shard in ordered:
        for key, value in shard["kinds"].items():
            kinds[key] = kinds.get(key, 0) + value
    manifest = {
        "generator": "benchmarks/corpus.py",
        "generator_version": GENERATOR_VERSION,
        "seed": seed,
        "docs": docs,
        "docs_per_shard": per_shard,
        "pool_digest": pool.digest,
        "pool_sentences": pool.sentences,
        "pool_chars_by_origin": pool.origins,
        "text_bytes": sum(s["text_bytes"] for s in ordered),
        "json_bytes": sum(s["json_bytes"] for s in ordered),
        "gz_bytes": sum(s["gz_bytes"] for s in ordered),
        "kinds": dict(sorted(kinds.items())),
        "shards": ordered,
        "shards_generated": len(jobs),
        "shards_linked": len(ordered) - len(jobs),
        "seconds": round(time.perf_counter() - started, 1),
    }
    tmp = folder / "MANIFEST.json.tmp"
    tmp.write_text(json.dumps(manifest, indent=1))
    tmp.replace(folder / "MANIFEST.json")
    return manifest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", choices=list(SIZES), default="10k")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--sample", type=int, default=0, help="print N documents and exit")
    args = parser.parse_args()
    if args.sample:
        gen = Generator(build_pool(), args.seed)
        u_all = draws(args.seed, np.arange(args.sample, dtype=np.int64)).tolist()
        for g, u in enumerate(u_all):
            record, kind, sub = gen.doc(g, u)
            print(f"===== {record['id']} {kind} {sub} {len(record['text'])} chars")
            print(record["text"][:600])
        return
    manifest = ensure_corpus(args.size, args.seed, args.processes)
    out = io.StringIO()
    json.dump({k: v for k, v in manifest.items() if k != "shards"}, out, indent=1)
    print(out.getvalue())


if __name__ == "__main__":
    main()


def missing_derived_files(size: str, name: str, suffix: str) -> tuple[Path, list[tuple[str, str]]]:
    """A folder ``WORK/<name>-<size>`` for files a benchmark derives from each shard of the
    corpus (``shard.jsonl.gz`` -> ``shard<suffix>``), and the (shard, derived file) pairs not
    made yet: what a benchmark still has to compute before it measures."""
    manifest = ensure_corpus(size)
    folder = WORK / f"{name}-{size}"
    folder.mkdir(parents=True, exist_ok=True)
    jobs = []
    for shard in manifest["shards"]:
        dst = folder / shard["file"].replace(".jsonl.gz", suffix)
        if not dst.exists():
            jobs.append((str(corpus_dir(size) / shard["file"]), str(dst)))
    return folder, jobs
