"""Real text with a known language, for LanguageID's accuracy (``bench_langid.py``).

    python benchmarks/langid_texts.py     # builds benchmarks/.work/langid/*.jsonl.gz (~2 min)

Sources: Debian bookworm packages, fetched once with ``apt-get download`` into
``benchmarks/.work/langid/debs/`` and unpacked there with ``dpkg-deb -x`` (nothing is
installed), so every document's language is that of the package it came from:

- ``debian-reference-{de,en,es,fr,it,ja,pt,zh-cn}`` 2.100: the plain-text edition of each
  translation (``debian-reference.LANG.txt.gz``);
- ``manpages`` (English) and the manpages-l10n translations ``manpages-{cs,de,el,es,fi,fr,
  hu,it,nl,pl,pt-br,ro,ru,sv,uk}`` 4.18.1, ``manpages-ja`` and ``manpages-zh`` (Simplified
  Chinese pages): up to ``PAGES`` pages per language, rendered to text with ``man -l``.

Two sets, both deterministic for the same packages:

- ``multilingual.jsonl.gz``: consecutive paragraphs of one text grouped into documents of a
  log-uniform target length between 600 and 12,000 characters (so most are longer than the
  1,200 characters the windows read), at most ``PER_LANGUAGE`` per language, seeded.
- ``mixed.jsonl.gz``: a non-English document of the first set of at least 2,000 characters
  (the body) under an English head of 700-1,400 characters cut at whitespace from the
  sample's real English navigation and boilerplate pages (the python docs' navigation bars,
  search page, index lists, copyright footers: ``sample_data/MANIFEST.json`` ->
  ``web.boilerplate_ids``). The label is the body's language.

Each record: ``{"id", "lang" (lid.176 code), "source", "text"}``.
"""

from __future__ import annotations

import gzip
import json
import math
import os
import random
import re
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from _common import REPO

WORK = REPO / "benchmarks" / ".work" / "langid"
SEED = 18
PER_LANGUAGE = 250
PAGES = 120  # man pages rendered per language
#: debian-reference translation -> lid.176 code
REFERENCE = {"de": "de", "en": "en", "es": "es", "fr": "fr", "it": "it", "ja": "ja"}
REFERENCE.update({"pt": "pt", "zh-cn": "zh"})
#: man page folder under /usr/share/man (package) -> lid.176 code; "" is English
MANPAGES = {"": "en", "cs": "cs", "de": "de", "el": "el", "es": "es", "fi": "fi", "fr": "fr"}
MANPAGES.update({"hu": "hu", "it": "it", "ja": "ja", "nl": "nl", "pl": "pl", "pt_BR": "pt"})
MANPAGES.update({"ro": "ro", "ru": "ru", "sv": "sv", "uk": "uk", "zh_CN": "zh"})
_PACKAGE = {"": "manpages", "pt_BR": "manpages-pt-br", "zh_CN": "manpages-zh"}


def unpack() -> Path:
    """Download (once) and unpack the packages; the root of the unpacked tree."""
    debs, root = WORK / "debs", WORK / "root"
    debs.mkdir(parents=True, exist_ok=True)
    names = [f"debian-reference-{lang}" for lang in REFERENCE]
    names += [_PACKAGE.get(folder, f"manpages-{folder}") for folder in MANPAGES]
    for name in names:
        if not list(debs.glob(f"{name}_*.deb")):
            subprocess.run(["apt-get", "download", name], cwd=debs, check=True)
    if not root.exists():
        for deb in sorted(debs.glob("*.deb")):
            subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True)
    return root


def _paragraphs(text: str) -> list[str]:
    """Blank-line separated paragraphs, each line's runs of spaces collapsed (man pages are
    justified with runs of spaces; the words are what matters)."""
    out = []
    for block in re.split(r"\n\s*\n", text):
        lines = [" ".join(line.split()) for line in block.splitlines()]
        block = "\n".join(line for line in lines if line)
        if block:
            out.append(block)
    return out


def _render(page: Path) -> str:
    env = dict(os.environ, MANWIDTH="100", LANG="C.UTF-8")
    done = subprocess.run(
        ["man", "-l", "-E", "UTF-8", str(page)], env=env, capture_output=True, timeout=60
    )
    text = done.stdout.decode("utf-8", "replace")
    text = re.sub(r".\x08", "", text)  # overstrike (bold, underline), as `col -b` would
    return "\n".join(text.splitlines()[1:-1])  # the running header and footer lines


def _texts(root: Path) -> list[tuple[str, str, str]]:
    """``(lang, source name, text)`` of every source text, in a fixed order."""
    out = []
    for name, lang in REFERENCE.items():
        path = root / "usr/share/debian-reference" / f"debian-reference.{name}.txt.gz"
        out.append((lang, f"debian-reference.{name}", gzip.decompress(path.read_bytes()).decode()))
    rng = random.Random(SEED)
    jobs = []
    for folder, lang in MANPAGES.items():
        base = root / "usr/share/man" / folder
        pages = sorted(p for p in base.glob("man[1-8]/*.gz") if p.is_file())
        jobs += [(lang, p) for p in rng.sample(pages, min(PAGES, len(pages)))]
    with ThreadPoolExecutor(2) as pool:
        rendered = list(pool.map(lambda job: _render(job[1]), jobs))
    for (lang, page), text in zip(jobs, rendered, strict=True):
        out.append((lang, f"man:{page.relative_to(root / 'usr/share/man')}", text))
    return out


def _documents(texts: list[tuple[str, str, str]], rng: random.Random) -> list[dict[str, str]]:
    """Consecutive paragraphs grouped into documents of a log-uniform target length."""
    docs = []
    for lang, source, text in texts:
        paras = _paragraphs(text)
        i = 0
        while i < len(paras):
            target = math.exp(rng.uniform(math.log(600), math.log(12_000)))
            body: list[str] = []
            while i < len(paras) and sum(map(len, body)) < target:
                body.append(paras[i])
                i += 1
            doc = "\n\n".join(body)
            if len(doc) >= 200:
                docs.append({"lang": lang, "source": source, "text": doc})
    return docs


def _english_heads() -> list[str]:
    """The sample's English navigation and boilerplate pages (real python docs pages)."""
    manifest = json.loads((REPO / "sample_data/MANIFEST.json").read_text())
    wanted = set(manifest["web"]["boilerplate_ids"])
    wanted -= {i for ids in manifest["web"]["non_english_by_lang"].values() for i in ids}
    heads = []
    for path in sorted((REPO / "sample_data/web").glob("*.jsonl.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            for line in fh:
                try:
                    record = json.loads(line)
                except ValueError:
                    continue
                if record["id"] in wanted:
                    heads.append(record["text"])
    return heads


def _cut(text: str, chars: int) -> str:
    """The first ``chars`` characters of ``text``, shortened to the last whitespace."""
    if len(text) <= chars:
        return text
    head = text[:chars]
    return head[: max(head.rfind(" "), head.rfind("\n"), 1)]


def _mixed(docs: list[dict[str, str]], rng: random.Random) -> list[dict[str, str]]:
    heads = _english_heads()
    out = []
    for doc in docs:
        if doc["lang"] == "en" or len(doc["text"]) < 2_000:
            continue
        # navigation bars, search boxes and footers of several pages, as a crawl has them
        head = _cut("\n\n".join(rng.sample(heads, 4)), rng.randint(700, 1_400))
        out.append(dict(doc, text=head + "\n\n" + doc["text"]))
    return out


def _write(path: Path, docs: list[dict[str, str]]) -> None:
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        for i, doc in enumerate(docs):
            fh.write(json.dumps({"id": f"{path.name.split('.')[0]}-{i:05d}", **doc}) + "\n")


def build() -> tuple[Path, Path]:
    """Both sets, built once (delete ``benchmarks/.work/langid/*.jsonl.gz`` to rebuild)."""
    multi, mixed = WORK / "multilingual.jsonl.gz", WORK / "mixed.jsonl.gz"
    if multi.exists() and mixed.exists():
        return multi, mixed
    rng = random.Random(SEED)
    by_lang: dict[str, list[dict[str, str]]] = {}
    for doc in _documents(_texts(unpack()), rng):
        by_lang.setdefault(doc["lang"], []).append(doc)
    docs = []
    for lang in sorted(by_lang):
        pool = by_lang[lang]
        docs += rng.sample(pool, min(PER_LANGUAGE, len(pool)))
    _write(multi, docs)
    _write(mixed, _mixed(docs, rng))
    return multi, mixed


def load(path: Path) -> list[dict[str, str]]:
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


if __name__ == "__main__":
    for built in build():
        records = load(built)
        langs = sorted({r["lang"] for r in records})
        mean = sum(len(r["text"]) for r in records) / len(records)
        print(f"{built}: {len(records)} documents, {len(langs)} languages, mean {mean:,.0f} chars")
