"""Benchmark of paragraph dedup (``dedup.paragraphs``): the barrier's time and peak memory on
the benchmark corpus, its growth with the corpus, and the map-side cost of the unit hashes.

    python benchmarks/bench_paragraph_dedup.py [--size 100k] [--partitions 1 4] [--repeat 2]

The corpus is ``benchmarks/corpus.py``'s (built or reused under ``benchmarks/.work/``). The
unit tables (what a map task writes beside its staged file, paragraph units, min_chars 20)
are computed once, with two processes, and cached in ``benchmarks/.work/paragraphs-<size>/``.
Each barrier then runs in a fresh child process so that its peak RSS (VmHWM) is its own:
every partition of :func:`cleanpipe.dedup.paragraphs.find_repeats` one after the other, as
one executor worker would run them. The baseline, in the same child, is the bare minimum
the barrier must do: read the hash column and ``np.unique`` it (sorted numpy, no
bookkeeping). The figure is the least CPU time over ``--repeat`` runs (the machine is
shared: wall time is reported but is noise).
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

import numpy as np
import pyarrow.parquet as pq
from bench_dedup import peak_rss_mb
from corpus import missing_derived_files

from cleanpipe.dedup.config import ParagraphConfig
from cleanpipe.dedup.paragraphs import UNIT_SCHEMA, find_repeats, unit_table

CONFIG = ParagraphConfig()
BATCH = 1024


def _texts(path: Path) -> list[str]:
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        return [json.loads(line)["text"] for line in fh]


def _units(job: tuple[str, str]) -> tuple[str, float, int]:
    """One corpus shard's unit table; returns (path, CPU seconds, documents)."""
    src, dst = job
    texts = _texts(Path(src))
    started = time.process_time()
    with pq.ParquetWriter(dst + ".tmp", UNIT_SCHEMA) as out:
        for lo in range(0, len(texts), BATCH):
            out.write_table(unit_table(texts[lo : lo + BATCH], lo, CONFIG))
    cpu = time.process_time() - started
    Path(dst + ".tmp").replace(dst)
    return dst, cpu, len(texts)


def ensure_units(size: str) -> tuple[Path, float | None]:
    """The cached unit tables of the corpus, and the map cost (CPU ms per 1,000 documents)
    when they were made now."""
    folder, jobs = missing_derived_files(size, "paragraphs", ".units.parquet")
    cost = None
    if jobs:
        cpu = docs = 0
        with multiprocessing.get_context("fork").Pool(2) as pool:
            for n, (_, seconds, count) in enumerate(pool.imap_unordered(_units, jobs), 1):
                cpu, docs = cpu + seconds, docs + count
                if n % 10 == 0 or n == len(jobs):
                    print(f"units: {n}/{len(jobs)}", file=sys.stderr)
        cost = cpu / docs * 1e6
    return folder, cost


def run_barrier(folder: str, partitions: int) -> None:
    """Child process: the barrier's partitions one after the other, or (``partitions`` 0)
    the baseline, so that each peak RSS is its own."""
    paths = sorted(str(p) for p in Path(folder).glob("*.units.parquet"))
    before = peak_rss_mb()
    started, wall = time.process_time(), time.perf_counter()
    if partitions == 0:
        hashes = [pq.read_table(p, columns=["hash"]).column(0).to_numpy() for p in paths]
        values, counts = np.unique(np.concatenate(hashes), return_counts=True)
        stats = {"units": int(counts.sum()), "units_cut": int((counts - 1).sum()), "chars_cut": 0}
    else:

        def parts():
            for file, path in enumerate(paths):
                for batch in pq.ParquetFile(path).iter_batches(batch_size=1 << 16):
                    yield file, batch

        stats = {"units": 0, "units_cut": 0, "chars_cut": 0}
        for part in range(partitions):
            found = find_repeats(parts(), part, partitions, CONFIG)
            stats["units"] += found["units"]
            stats["units_cut"] += found["cuts"].num_rows
            stats["chars_cut"] += int(found["cut_chars"].sum())
            del found
    stats.update(
        cpu_seconds=time.process_time() - started,
        seconds=time.perf_counter() - wall,
        peak_rss_mb=peak_rss_mb(),
        rss_before_mb=before,
    )
    print(json.dumps(stats))


def _best(folder: Path, partitions: int, repeat: int) -> dict:
    runs = []
    for _ in range(repeat):
        child = [sys.executable, __file__, "--child", str(folder), str(partitions)]
        out = subprocess.run(child, check=True, capture_output=True, text=True).stdout
        runs.append(json.loads(out.splitlines()[-1]))
    return min(runs, key=lambda r: r["cpu_seconds"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=["10k", "100k", "1M"], default="100k")
    parser.add_argument("--partitions", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run_barrier(args.child[0], int(args.child[1]))
        return
    folder, cost = ensure_units(args.size)
    if cost is not None:
        print(f"map side: unit_table {cost:.0f} us CPU per document")
    base = _best(folder, 0, args.repeat)
    print(
        f"{args.size} baseline (read hashes + np.unique): {base['units']:,} units, "
        f"{base['cpu_seconds']:.2f} s CPU, peak RSS {base['peak_rss_mb']:.0f} MB"
    )
    for partitions in args.partitions:
        best = _best(folder, partitions, args.repeat)
        assert best["units_cut"] == base["units_cut"], "keep: first cuts all but one copy"
        grown = best["peak_rss_mb"] - best["rss_before_mb"]
        print(
            f"{args.size} partitions={partitions}: {best['units']:,} units, "
            f"{best['units_cut']:,} cut ({best['chars_cut']:,} chars); "
            f"{best['cpu_seconds']:.2f} s CPU ({best['seconds']:.2f} s wall), "
            f"{best['cpu_seconds'] / base['cpu_seconds']:.2f}x the baseline; peak RSS "
            f"{best['peak_rss_mb']:.0f} MB ({grown:.0f} MB above the process at start, "
            f"{grown * 2**20 * partitions / best['units']:.0f} bytes per unit of a partition)"
        )


if __name__ == "__main__":
    main()
