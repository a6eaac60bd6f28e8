"""url_filter at blocklist scale: load time, memory and lookups/s with 1M and 3M domains.

    python benchmarks/bench_url_filter.py [--sizes 1000000 3000000]

Real blocklists list millions of domains (UT1's ``adult`` category is the largest), so a
list must load in seconds and cost no more per page than a few set probes. The lists are
written into ``benchmarks/.work/url-lists/`` (git-ignored): domain names made of words of
the web sample's text joined as sites name themselves (``word-word.tld``, ``sub.word.tld``),
with one IP address in 50 as UT1 lists them. The pages: 200,000 URLs of which one in five is
on a listed domain or a subdomain of one, the others on look-alike hosts
(``notword-word.tld``, ``word-word.tld.org``). Measured in CPU seconds of this process (the
machine may be shared): the time to build the stage (reading and normalizing the list; the
per-process cache is cleared first), the resident memory it adds, and pages/s of
``URLFilter.check``; against a baseline that scans the list for every page (``host == d or
host.endswith("." + d)``), timed on 20 pages.
"""

from __future__ import annotations

import argparse
import random
import re
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))

import corpus  # noqa: E402
from _common import sample_texts  # noqa: E402

from cleanpipe import Document  # noqa: E402
from cleanpipe.stages import URLFilter  # noqa: E402
from cleanpipe.stages.url_filter import _load  # noqa: E402

WORK = corpus.WORK / "url-lists"
TLDS = ["com", "net", "org", "de", "fr", "ru", "info", "co.uk", "com.br", "xyz"]


def vocabulary() -> list[str]:
    words = set()
    for text in sample_texts("web/*.jsonl.gz"):
        words.update(w.lower() for w in re.findall(r"[A-Za-z]{4,12}", text))
    return sorted(words)


def domain(rng: random.Random, words: list[str]) -> str:
    if rng.random() < 0.02:
        return ".".join(str(rng.randrange(1, 255)) for _ in range(4))
    name = "-".join(rng.choice(words) for _ in range(rng.choice((1, 2, 2, 3))))
    sub = f"{rng.choice(words)}." if rng.random() < 0.2 else ""
    return f"{sub}{name}{rng.randrange(100) if rng.random() < 0.3 else ''}.{rng.choice(TLDS)}"


def write_list(size: int, words: list[str]) -> tuple[Path, list[str]]:
    rng = random.Random(size)
    domains = list(dict.fromkeys(domain(rng, words) for _ in range(size)))
    path = WORK / f"domains-{size}"
    if not path.exists():
        WORK.mkdir(parents=True, exist_ok=True)
        path.write_text("# synthetic UT1-style list\n" + "\n".join(domains) + "\n")
    return path, domains


def pages(domains: list[str], n: int) -> list[Document]:
    rng = random.Random(7)
    urls = []
    for i in range(n):
        d = rng.choice(domains)
        if i % 5 == 0:
            host = d if rng.random() < 0.5 or d[0].isdigit() else f"www.{d}"
        else:
            host = rng.choice([f"not{d}", f"{d}.org", f"{d}x"])
        urls.append(f"https://{host}/articles/{i}.html?ref=feed")
    return [Document(id=str(i), text="", meta={"url": u}) for i, u in enumerate(urls)]


def rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * resource.getpagesize() / 1e6


def bench(size: int, words: list[str]) -> dict:
    path, domains = write_list(size, words)
    docs = pages(domains, 200_000)
    _load.cache_clear()
    before = rss_mb()
    started = time.process_time()
    stage = URLFilter(block_domains=str(path))
    load = time.process_time() - started
    memory = rss_mb() - before
    started = time.process_time()
    blocked = sum(stage.check(doc) is not None for doc in docs)
    per_page = (time.process_time() - started) / len(docs)
    listed = list(domains)  # the baseline scans the list as read
    started = time.process_time()
    for doc in docs[:20]:
        host = doc.meta["url"].split("/")[2]
        any(host == d or host.endswith("." + d) for d in listed)
    naive = (time.process_time() - started) / 20
    return {
        "entries": len(domains),
        "load_s": load,
        "memory_mb": memory,
        "pages_per_s": 1 / per_page,
        "blocked": blocked / len(docs),
        "naive_pages_per_s": 1 / naive,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 3_000_000])
    args = parser.parse_args()
    words = vocabulary()
    print("| domains listed | load (s) | memory (MB) | pages/s | blocked | scan-the-list pages/s |")
    print("|---|---|---|---|---|---|")
    for size in args.sizes:
        r = bench(size, words)
        print(
            f"| {r['entries']:,} | {r['load_s']:.1f} | {r['memory_mb']:.0f} | "
            f"{r['pages_per_s']:,.0f} | {r['blocked']:.0%} | {r['naive_pages_per_s']:.1f} |"
        )


if __name__ == "__main__":
    main()
