"""Benchmark of URL dedup (``dedup.urls``): the dedup barrier's time and peak memory with URL
dedup on vs off, on the benchmark corpus, in one run; and the map-side cost of its columns.

    python benchmarks/bench_url_dedup.py [--size 1M] [--repeat 2]

The corpus is ``benchmarks/corpus.py``'s (built or reused under ``benchmarks/.work/``). Its
pages carry a ``url``; each gets a ``warc_date``, one of six Common Crawl snapshot dates
chosen by a hash of its id, as a multi-snapshot crawl would. The signature tables (exact +
MinHash 14 x 8, as a run writes them) are computed once, with two processes, and cached in
``benchmarks/.work/url-dedup-<size>/``. Each barrier then runs in a fresh child process
(``find_duplicates`` over those files) so that its peak RSS (VmHWM) is its own: content
dedup alone, content + URL dedup, URL dedup alone, in turns, ``--repeat`` times each; the
figure is the least CPU time of each (the machine is shared, so wall time is reported but
is noise), the ratio is against content dedup alone from the same run.
"""

from __future__ import annotations

import argparse
import gzip
import json
import multiprocessing
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
from bench_dedup import peak_rss_mb
from corpus import corpus_dir, ensure_corpus, missing_derived_files

from cleanpipe.dedup.config import DedupConfig
from cleanpipe.dedup.signatures import dedup_signatures, signature_schema
from cleanpipe.dedup.urls import url_columns
from cleanpipe.document import Document
from cleanpipe.hashing import stable_hash

#: the 2023 Common Crawl snapshots' start dates (CC-MAIN-2023-06 ... -50)
SNAPSHOTS = [
    "2023-01-26T00:00:00Z",
    "2023-03-20T00:00:00Z",
    "2023-05-27T00:00:00Z",
    "2023-09-21T00:00:00Z",
    "2023-11-28T00:00:00Z",
    "2023-12-01T00:00:00Z",
]
CONFIGS = {
    "content": DedupConfig(),
    "content+urls": DedupConfig(urls=True),
    "urls": DedupConfig(exact=False, minhash=None, urls=True),
}
BATCH = 1024


def _documents(path: Path) -> list[Document]:
    docs = []
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            r = json.loads(line)
            date = SNAPSHOTS[stable_hash(0, r["id"]) % len(SNAPSHOTS)]
            docs.append(Document(r["id"], r["text"], "web", {"url": r["url"], "warc_date": date}))
    return docs


def _signatures(job: tuple[str, str]) -> str:
    """One corpus shard's signature table (what a map task writes beside its staged file)."""
    src, dst = job
    docs = _documents(Path(src))
    config = CONFIGS["content+urls"]
    with pq.ParquetWriter(dst + ".tmp", signature_schema(config)) as out:
        for lo in range(0, len(docs), BATCH):
            out.write_table(dedup_signatures(docs[lo : lo + BATCH], config))
    Path(dst + ".tmp").replace(dst)
    return dst


def ensure_signatures(size: str) -> Path:
    folder, jobs = missing_derived_files(size, "url-dedup", ".sig.parquet")
    if jobs:
        started = time.perf_counter()
        with multiprocessing.get_context("fork").Pool(2) as pool:
            for n, _ in enumerate(pool.imap_unordered(_signatures, jobs), 1):
                if n % 10 == 0 or n == len(jobs):
                    print(f"signatures: {n}/{len(jobs)} ({time.perf_counter() - started:.0f}s)")
    return folder


def map_cost(size: str) -> dict[str, float]:
    """CPU seconds (this machine is shared: wall time is noise) per 1,000 documents of one
    shard: url columns alone vs the whole signature table (which includes them)."""
    shard = ensure_corpus(size)["shards"][0]["file"]
    docs = _documents(corpus_dir(size) / shard)
    best = {"url_columns": float("inf"), "signatures": float("inf")}
    for _ in range(3):
        for name, run in (
            ("url_columns", lambda b: url_columns(b)),
            ("signatures", lambda b: dedup_signatures(b, CONFIGS["content+urls"])),
        ):
            started = time.process_time()
            for lo in range(0, len(docs), BATCH):
                run(docs[lo : lo + BATCH])
            best[name] = min(best[name], time.process_time() - started)
    return {k: v / len(docs) * 1000 for k, v in best.items()}


def run_barrier(folder: str, name: str) -> None:
    """Child process: one barrier, so the peak memory is its own."""
    from cleanpipe.dedup.clusters import find_duplicates

    paths = sorted(str(p) for p in Path(folder).glob("*.sig.parquet"))
    before = peak_rss_mb()
    started, cpu = time.perf_counter(), time.process_time()
    result = find_duplicates(paths, CONFIGS[name])
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    reasons = result.drops.column("reason").to_pylist()
    stats = {k: v for k, v in result.stats.items() if k.startswith("url_")}
    print(
        json.dumps(
            {
                "seconds": seconds,
                "cpu_seconds": cpu,
                "peak_rss_mb": peak_rss_mb(),
                "rss_before_mb": before,
                "removed": {r: reasons.count(r) for r in ("url", "exact", "near")},
                **stats,
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=["10k", "100k", "1M"], default="1M")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--run-barrier", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run_barrier:
        run_barrier(*args.run_barrier)
        return
    folder = ensure_signatures(args.size)
    cost = map_cost(args.size)
    share = cost["url_columns"] / cost["signatures"]
    print(
        f"map side, per 1,000 documents: url columns {cost['url_columns'] * 1000:.1f} ms of "
        f"{cost['signatures'] * 1000:.1f} ms for the whole signature table ({share:.1%})"
    )
    best: dict[str, dict] = {}
    for _ in range(args.repeat):
        for name in CONFIGS:
            child = subprocess.run(
                [sys.executable, __file__, "--run-barrier", str(folder), name],
                capture_output=True,
                text=True,
                check=True,
            )
            found = json.loads(child.stdout)
            if name not in best or found["cpu_seconds"] < best[name]["cpu_seconds"]:
                best[name] = found
    base = best["content"]
    print(f"dedup barrier over the {args.size} corpus (best of {args.repeat}):")
    for name, found in best.items():
        ratio = found["cpu_seconds"] / base["cpu_seconds"]
        print(
            f"  {name:13s} {found['cpu_seconds']:6.1f} CPU-s ({ratio:.2f}x), "
            f"{found['seconds']:6.1f} s wall  peak RSS {found['peak_rss_mb']:6.0f} MB "
            f"({found['rss_before_mb']:.0f} before)"
            f"  removed {found['removed']}"
            + (f"  url groups {found['url_groups']:,}" if "url_groups" in found else "")
        )


if __name__ == "__main__":
    main()
