"""Benchmark of MinHash deduplication: signatures per second (ours vs datasketch, same run) and
the barrier's time and peak memory on synthetic signatures.

    python benchmarks/bench_dedup.py [--docs 4000] [--barrier-docs 1000000]

Documents are ~2.4 KB of real English (Python standard library docstrings). Every figure
includes shingling: datasketch gets the usual pure-Python shingler (lowercased ``\\w+`` words,
5-grams joined by spaces, UTF-8). Ratios are measured in the same run, on the same core.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from _common import stdlib_docstrings

from cleanpipe.dedup.config import DedupConfig, MinHashConfig
from cleanpipe.dedup.signatures import (
    band_columns,
    dedup_signatures,
    minhash_signatures,
    signature_schema,
)
from cleanpipe.document import Document

WORD = re.compile(r"\w+")


def real_documents(count: int, size: int = 2400) -> list[str]:
    """``count`` documents of about ``size`` characters cut from stdlib docstrings."""
    words = [word for doc in stdlib_docstrings() for word in doc.split()]
    docs, i = [], 0
    while len(docs) < count:
        chunk, length = [], 0
        while length < size:
            chunk.append(words[i % len(words)])
            length += len(chunk[-1]) + 1
            i += 7  # a stride, so documents do not repeat each other
        docs.append(" ".join(chunk))
    return docs


def datasketch_shingles(text: str, n: int = 5) -> list[bytes]:
    words = WORD.findall(text.lower())
    return [" ".join(words[i : i + n]).encode() for i in range(max(len(words) - n + 1, 1))]


def rate(run: Callable[[], object], docs: int, repeat: int = 3) -> tuple[float, float]:
    """Best documents per second over ``repeat`` runs: (wall clock, CPU time of this process).
    CPU time is the per-core figure on a machine shared with other jobs."""
    wall = cpu = float("inf")
    for _ in range(repeat):
        started, started_cpu = time.perf_counter(), time.process_time()
        run()
        wall = min(wall, time.perf_counter() - started)
        cpu = min(cpu, time.process_time() - started_cpu)
    return docs / wall, docs / max(cpu, 1e-9)


def bench_signatures(count: int) -> dict[str, tuple[float, float]]:
    import datasketch

    texts = real_documents(count)
    slow = texts[: max(count // 8, 200)]
    config = MinHashConfig()
    batches = [texts[i : i + 1000] for i in range(0, len(texts), 1000)]
    docs = [Document(id=str(i), text=t, source="web") for i, t in enumerate(texts)]
    doc_batches = [docs[i : i + 1000] for i in range(0, len(docs), 1000)]
    minhash_signatures(texts[:10], config)  # builds the Unicode table once
    preshingled = [datasketch_shingles(text) for text in slow]

    def ours(cfg: MinHashConfig) -> Callable[[], object]:
        return lambda: [minhash_signatures(b, cfg) for b in batches]

    def ds_batch() -> None:
        for text in slow:
            m = datasketch.MinHash(num_perm=112, seed=1)
            m.update_batch(datasketch_shingles(text))

    def ds_batch_preshingled() -> None:
        for grams in preshingled:
            m = datasketch.MinHash(num_perm=112, seed=1)
            m.update_batch(grams)

    def ds_update() -> None:
        for text in slow[:200]:
            m = datasketch.MinHash(num_perm=112, seed=1)
            for gram in datasketch_shingles(text):
                m.update(gram)

    return {
        "ours_fast": rate(ours(config), len(texts)),
        "ours_map_step": rate(
            lambda: [dedup_signatures(b, DedupConfig()) for b in doc_batches], len(texts)
        ),
        "ours_sha1": rate(ours(MinHashConfig(hashfunc="sha1")), len(texts), repeat=1),
        "ours_legacy": rate(ours(MinHashConfig(scheme="legacy")), len(texts), repeat=1),
        "datasketch_update_batch": rate(ds_batch, len(slow), repeat=2),
        "datasketch_update_batch_preshingled": rate(ds_batch_preshingled, len(slow), repeat=2),
        "datasketch_update": rate(ds_update, min(len(slow), 200), repeat=1),
        "doc_chars": (float(np.mean([len(t) for t in texts])),) * 2,
    }


def write_synthetic(directory: str, count: int, files: int = 10, seed: int = 0) -> list[str]:
    """Signature files with random signatures; 10% exact and 10% near copies of earlier rows
    (each value kept with probability 0.9, so most bands still collide)."""
    config = DedupConfig()
    mh = config.minhash
    assert mh is not None
    schema = signature_schema(config)
    rng = np.random.default_rng(seed)
    paths = []
    per_file = count // files
    for f in range(files):
        n = per_file
        sig = rng.integers(0, 2**32, size=(n, mh.num_perm), dtype=np.uint32)
        exact = rng.integers(0, 2**63, size=(n, 2), dtype=np.int64)
        copies = rng.choice(np.arange(n // 2, n), size=n // 5, replace=False)
        sources = rng.integers(0, n // 2, size=len(copies))
        sig[copies] = sig[sources]
        exact[copies[: len(copies) // 2]] = exact[sources[: len(copies) // 2]]
        near = copies[len(copies) // 2 :]
        noise = rng.random((len(near), mh.num_perm)) < 0.1
        sig[near] = np.where(noise, rng.integers(0, 2**32, noise.shape, dtype=np.uint32), sig[near])
        ids = [f"doc-{f:03d}-{i:07d}" for i in range(n)]
        arrays = [
            pa.array(ids),
            pa.array(["web" if i % 3 else "books" for i in range(n)]),
            pa.array(rng.integers(100, 10_000, n, dtype=np.int32)),
            pa.array(np.full(n, 400, dtype=np.int32)),
            pa.array([f"head of {i}" for i in ids]),
            pa.Array.from_buffers(pa.binary(16), n, [None, pa.py_buffer(exact.tobytes())]),
        ]
        for band, _ in enumerate(band_columns(mh)):
            values = sig[:, band * mh.rows : (band + 1) * mh.rows].astype("<u4", order="C")
            arrays.append(
                pa.Array.from_buffers(
                    pa.binary(4 * mh.rows), n, [None, pa.py_buffer(values.tobytes())]
                )
            )
        path = os.path.join(directory, f"part-{f:03d}.sig.parquet")
        pq.write_table(pa.Table.from_arrays(arrays, schema=schema), path)
        paths.append(path)
    return paths


def peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM on Linux; ru_maxrss elsewhere)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_barrier(directory: str) -> None:
    """Child process: the barrier alone, so the peak memory is its own."""
    from cleanpipe.dedup.clusters import find_duplicates

    paths = sorted(str(p) for p in Path(directory).glob("*.sig.parquet"))
    base = peak_rss_mb()
    started = time.perf_counter()
    result = find_duplicates(paths, DedupConfig())
    seconds = time.perf_counter() - started
    peak = peak_rss_mb()
    print(
        json.dumps(
            {
                "seconds": seconds,
                "peak_rss_mb": peak,
                "rss_before_mb": base,
                "removed": len(result),
                "clusters": result.stats["clusters"],
            }
        )
    )


def bench_barrier(count: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as directory:
        write_synthetic(directory, count)
        child = subprocess.run(
            [sys.executable, __file__, "--run-barrier", directory],
            capture_output=True,
            text=True,
            check=True,
        )
    return json.loads(child.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=4000, help="0 skips the signature benchmark")
    parser.add_argument("--barrier-docs", type=int, default=1_000_000, help="0 skips the barrier")
    parser.add_argument("--run-barrier", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run_barrier:
        run_barrier(args.run_barrier)
        return
    if args.docs:
        sig = bench_signatures(args.docs)
        chars = sig.pop("doc_chars")[0]
        print(f"signatures, 112 permutations, documents of {chars:.0f} chars, docs/s:")
        print(f"  {'':38s} {'wall':>9s} {'per CPU-s':>10s}")
        for name, (wall, cpu) in sig.items():
            print(f"  {name:38s} {wall:9,.0f} {cpu:10,.0f}")
        fast = sig["ours_fast"][1]
        for name in (
            "datasketch_update_batch",
            "datasketch_update_batch_preshingled",
            "datasketch_update",
        ):
            print(f"  ratio ours_fast / {name}: {fast / sig[name][1]:.1f}x")
        sha1 = sig["ours_sha1"][1] / sig["datasketch_update_batch"][1]
        print(f"  ratio ours_sha1 / datasketch_update_batch: {sha1:.1f}x")
    if args.barrier_docs:
        bar = bench_barrier(args.barrier_docs)
        print(f"barrier over {args.barrier_docs:,} synthetic signatures (14 x 8, 10 files):")
        print(
            f"  {bar['seconds']:.1f} s, peak RSS {bar['peak_rss_mb']:.0f} MB "
            f"({bar['rss_before_mb']:.0f} MB before), removed {bar['removed']:,} "
            f"in {bar['clusters']:,} clusters"
        )


if __name__ == "__main__":
    main()
