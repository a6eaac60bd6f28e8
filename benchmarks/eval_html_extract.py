"""How much of a page's main content html_extract keeps, and how little else: token recall
and precision against the page's main element, per extractor, on real pages held out from
the web sample.

    apt-get download python3.11-doc debian-reference-en debian-reference-ja sphinx-doc \
        debian-handbook
    for f in *.deb; do dpkg-deb -x "$f" /tmp/html-src; done
    python benchmarks/eval_html_extract.py --src /tmp/html-src [--json out.json]

Pages: every page of Debian's ``python3.11-doc`` that the web sample does not already hold
(neither ``sample_data/web`` nor the sample archive: their URLs are read from the sample)
and that has content of its own (not the generated indexes, search, contents, copyright,
license and download pages), whose main element is Sphinx's ``div.body``; the chapters of
``debian-reference-en`` (the sample takes other languages) and the Japanese chapters the
sample does not hold, whose main element is the DocBook ``chapter``/``preface``/``appendix``
without its table of contents; and two packages the sample never took, with other layouts:
Sphinx's own documentation (``sphinx-doc``, its ``sphinx13`` theme, ``div.body``) and the
English Debian Administrator's Handbook (``debian-handbook``, Publican: the ``section`` or
``chapter`` element under ``<body>``, between the banner and the page navigation).

Reference text: the main element's text (lxml ``text_content``), without the permalink
anchors (``a.headerlink``). Tokens: lower-cased runs of letters and digits, and each CJK
character on its own (Japanese has no spaces). Recall = tokens of the reference found in the
extract (as a multiset: a word the page says five times counts five times) / tokens of the
reference; precision = the same overlap / tokens of the extract. Both are given micro-averaged
(all tokens of all pages) and as the median page, with the pages whose recall is below 0.8.
Bag-of-token precision is lenient (a menu word that the content also uses counts as
content), so "boilerplate kept" says it the other way round: of the tokens the page shows
outside its main element (navigation, sidebar, footer, as a multiset beyond what the main
element accounts for), the fraction that the extract has beyond the main element's.
Extraction goes through the ``HTMLExtract`` stage itself, with its defaults.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from cleanpipe import Document  # noqa: E402
from cleanpipe.stages import HTMLExtract  # noqa: E402

PY_ROOT = "usr/share/doc/python3.11/html"
DEBREF_ROOT = "usr/share/debian-reference"
SPHINX_ROOT = "usr/share/doc/sphinx-doc/html"
HANDBOOK_ROOT = "usr/share/doc/debian-handbook/html/en-US"
#: the main element of each kind of page
SPHINX_BODY = "//div[contains(concat(' ', normalize-space(@class), ' '), ' body ')]"
DOCBOOK_CHAPTER = "//div[@class='chapter' or @class='preface' or @class='appendix']"
PUBLICAN_MAIN = (
    "/html/body/div[contains(@class, 'section') or contains(@class, 'chapter')"
    " or contains(@class, 'preface') or contains(@class, 'appendix')]"
)
PYDOC_URL = "https://docs.python.org/3.11/"
DEBREF_URL = "https://www.debian.org/doc/manuals/debian-reference/"
#: generated pages without content of their own (the sample builder skips them too)
NOT_CONTENT = re.compile(
    r"(^|/)(genindex[^/]*|search|py-modindex|contents|copyright|license|index|download)\.html$"
)
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
SITES = ("python", "debian-reference", "sphinx", "debian-handbook")
TOKEN = re.compile(rf"[{_CJK}]|[^\W_{_CJK}]+")


def tokens(text: str) -> Counter:
    return Counter(TOKEN.findall(text.lower()))


def sample_urls() -> set[str]:
    """The page URLs (without ``?page=``) the web sample is made of: the JSONL pages and the
    pages of the sample archive (``sample_data/MANIFEST.json``)."""
    urls = set()
    for path in sorted((REPO / "sample_data" / "web").glob("*.jsonl.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as lines:
            for line in lines:
                try:
                    url = json.loads(line).get("url", "")
                except ValueError:  # the sample's deliberately broken lines
                    continue
                urls.add(url.split("?")[0])
    manifest = json.loads((REPO / "sample_data" / "MANIFEST.json").read_text(encoding="utf-8"))
    urls.update(page["url"] for page in manifest.get("web_archive", {}).get("pages", []))
    return urls


def held_out_pages(src: Path) -> list[tuple[str, Path, str]]:
    """(name, file, main-element XPath) of every held-out page."""
    used = sample_urls()
    pages = []
    py_root = src / PY_ROOT
    for path in sorted(py_root.rglob("*.html")):
        rel = path.relative_to(py_root).as_posix()
        if not NOT_CONTENT.search(rel) and PYDOC_URL + rel not in used:
            pages.append((f"python/{rel}", path, SPHINX_BODY))
    for path in sorted((src / DEBREF_ROOT).glob("*.html")):
        lang = path.name.split(".")[-2]
        if (
            lang in ("en", "ja")
            and not path.name.startswith("index.")
            and (DEBREF_URL + path.name not in used)
        ):
            pages.append((f"debian-reference/{path.name}", path, DOCBOOK_CHAPTER))
    # two packages the sample never took: other page layouts (Sphinx's own theme; Publican)
    sphinx = src / SPHINX_ROOT
    for path in sorted(sphinx.rglob("*.html")):
        rel = path.relative_to(sphinx).as_posix()
        if not NOT_CONTENT.search(rel) and not rel.startswith("_"):
            pages.append((f"sphinx/{rel}", path, SPHINX_BODY))
    for path in sorted((src / HANDBOOK_ROOT).glob("*.html")):
        if not NOT_CONTENT.search(path.name):
            pages.append((f"debian-handbook/{path.name}", path, PUBLICAN_MAIN))
    return pages


def main_and_page_text(html: str, xpath: str) -> tuple[str, str]:
    """The text of the page's main element, without permalinks and tables of contents, and
    the text of the whole ``<body>`` without scripts and styles."""
    import lxml.html

    root = lxml.html.document_fromstring(html.encode("utf-8"))  # XHTML may declare it
    for junk in root.xpath("//script | //style | //noscript"):
        junk.drop_tree()
    page = root.body.text_content() if root.find("body") is not None else ""
    found = root.xpath(xpath)
    if not found:
        return "", page
    main = found[0]
    for junk in main.xpath(".//a[contains(@class, 'headerlink')] | .//div[@class='toc']"):
        junk.drop_tree()
    return main.text_content(), page


def score(reference: Counter, extract: Counter) -> tuple[int, int, int]:
    """(overlap, reference tokens, extract tokens)."""
    return sum((reference & extract).values()), sum(reference.values()), sum(extract.values())


def evaluate(pages: list[tuple[str, Path, str]], extractor: str) -> dict:
    # no time limit: the figures must not depend on the machine's load
    stage = HTMLExtract(extractor=extractor, timeout=None)
    drops: dict[str, str] = {}
    stage.on_drop = lambda doc, reason, detail="": drops.__setitem__(doc.id, reason)
    rows = []
    seconds = 0.0
    for name, path, xpath in pages:
        html = path.read_text(encoding="utf-8")
        main, whole = main_and_page_text(html, xpath)
        reference = tokens(main)
        if sum(reference.values()) < 50:
            continue  # a page that is only a table of contents
        boilerplate = tokens(whole) - reference  # what the page shows outside its main element
        doc = Document(id=name, text=html)
        started = time.perf_counter()
        kept = list(stage([doc]))
        seconds += time.perf_counter() - started
        extract = tokens(kept[0].text) if kept else Counter()
        overlap, n_ref, n_ext = score(reference, extract)
        leaked = sum(((extract - reference) & boilerplate).values())
        rows.append(
            {
                "page": name,
                "recall": overlap / n_ref,
                "precision": overlap / n_ext if n_ext else 0.0,
                "overlap": overlap,
                "reference_tokens": n_ref,
                "extract_tokens": n_ext,
                "boilerplate_tokens": sum(boilerplate.values()),
                "boilerplate_kept": leaked,
                "dropped": drops.get(name, ""),
            }
        )
    return summarize(extractor, rows, seconds)


def summarize(extractor: str, rows: list[dict], seconds: float) -> dict:
    overlap = sum(r["overlap"] for r in rows)
    n_ref = sum(r["reference_tokens"] for r in rows)
    n_ext = sum(r["extract_tokens"] for r in rows)
    recall, precision = overlap / n_ref, overlap / n_ext
    return {
        "extractor": extractor,
        "pages": len(rows),
        "recall": round(recall, 4),
        "precision": round(precision, 4),
        "f1": round(2 * recall * precision / (recall + precision), 4),
        "median_page_recall": round(statistics.median(r["recall"] for r in rows), 4),
        "median_page_precision": round(statistics.median(r["precision"] for r in rows), 4),
        "boilerplate_kept": round(
            sum(r["boilerplate_kept"] for r in rows)
            / max(1, sum(r["boilerplate_tokens"] for r in rows)),
            4,
        ),
        "pages_recall_below_0.8": sorted(r["page"] for r in rows if r["recall"] < 0.8),
        "dropped": {r["page"]: r["dropped"] for r in rows if r["dropped"]},
        "ms_per_page": round(1000 * seconds / len(rows), 1),
        "by_site": {
            site: summarize_site([r for r in rows if r["page"].startswith(site)]) for site in SITES
        },
        "rows": rows,
    }


def summarize_site(rows: list[dict]) -> dict:
    overlap = sum(r["overlap"] for r in rows)
    boilerplate = sum(r["boilerplate_tokens"] for r in rows)
    return {
        "pages": len(rows),
        "boilerplate_kept": round(
            sum(r["boilerplate_kept"] for r in rows) / max(1, boilerplate), 4
        ),
        "recall": round(overlap / sum(r["reference_tokens"] for r in rows), 4),
        "precision": round(overlap / max(1, sum(r["extract_tokens"] for r in rows)), 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--src", type=Path, required=True, help="where the .debs are unpacked")
    parser.add_argument("--json", type=Path, help="write every page's figures here")
    parser.add_argument(
        "--extractors", nargs="+", default=["resiliparse", "trafilatura"], help="which to run"
    )
    args = parser.parse_args()
    pages = held_out_pages(args.src)
    if not pages:
        sys.exit(f"no pages under {args.src}: unpack the .debs there (see this script's doc)")
    results = [evaluate(pages, extractor) for extractor in args.extractors]
    print(
        "| extractor | pages | token recall | token precision | F1 | median page R / P |"
        " boilerplate kept | ms/page |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for r in results:
        print(
            f"| {r['extractor']} | {r['pages']} | {r['recall']:.3f} | {r['precision']:.3f} | "
            f"{r['f1']:.3f} | {r['median_page_recall']:.3f} / {r['median_page_precision']:.3f} |"
            f" {r['boilerplate_kept']:.3f} | {r['ms_per_page']} |"
        )
    for r in results:
        sites = ", ".join(
            f"{site}: {s['pages']} pages R {s['recall']:.3f} P {s['precision']:.3f}"
            f" boilerplate kept {s['boilerplate_kept']:.3f}"
            for site, s in r["by_site"].items()
        )
        low = r["pages_recall_below_0.8"]
        print(f"\n{r['extractor']}: {sites}; recall < 0.8 on {len(low)}: {', '.join(low)}")
        if r["dropped"]:
            print(f"{r['extractor']} dropped: {r['dropped']}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
