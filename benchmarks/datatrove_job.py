"""The datatrove side of ``benchmarks/harness.py``: Gopher quality + repetition, MinHash
14 x 8 and zstd Parquet output, laid out as datatrove's own examples do it.

Runs inside the datatrove virtualenv (never cleanpipe's environment; the harness creates it):

    benchmarks/.work/dt-venv/bin/python benchmarks/datatrove_job.py \\
        --input benchmarks/.work/corpus-10k --work /tmp/dt --workers 2 --result dt.json

Follows ``examples/fineweb.py`` and ``examples/minhash_deduplication.py`` of datatrove:

1. ``filter``: ``JsonlReader`` -> ``GopherQualityFilter`` -> ``GopherRepetitionFilter`` ->
   ``JsonlWriter`` (FineWeb's base processing writes its kept documents as gzip JSONL);
2. ``signatures``: ``JsonlReader`` of those -> ``MinhashDedupSignature``;
3. ``buckets``: ``MinhashDedupBuckets``, one task per bucket (14);
4. ``clusters``: ``MinhashDedupCluster``, one task;
5. ``dedup_write``: ``JsonlReader`` -> ``MinhashDedupFilter`` -> ``ParquetWriter(zstd)``.

``MinhashConfig(n_grams=5, num_buckets=14, hashes_per_bucket=8)`` with 64-bit hashes
(FineWeb's ``use_64bit_hashes=True``). Each step is a ``LocalPipelineExecutor`` with one task
per input file and ``--workers`` processes. The filters run in the same order as the cleanpipe
config (quality, then repetition; FineWeb runs repetition first). Writes a JSON result: wall
seconds per step, datatrove's own per-block time and document counts, and the output rows.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import time
from importlib.metadata import version

from datatrove.executor.local import LocalPipelineExecutor
from datatrove.pipeline.dedup import MinhashDedupSignature
from datatrove.pipeline.dedup.minhash import (
    MinhashConfig,
    MinhashDedupBuckets,
    MinhashDedupCluster,
    MinhashDedupFilter,
)
from datatrove.pipeline.filters import GopherQualityFilter, GopherRepetitionFilter
from datatrove.pipeline.readers import JsonlReader
from datatrove.pipeline.writers.jsonl import JsonlWriter
from datatrove.pipeline.writers.parquet import ParquetWriter
from datatrove.utils.hashing import HashConfig


def block_stats(logging_dir: str) -> list[dict]:
    """datatrove's merged stats of one executor: per pipeline block, time and counters."""
    path = os.path.join(logging_dir, "stats.json")
    if not os.path.exists(path):
        return []
    with open(path) as fh:
        data = json.load(fh)
    out = []
    for block in data:
        time_stats = block.get("time_stats") or {}
        out.append(
            {
                "name": block.get("name"),
                "seconds": time_stats.get("total"),
                "stats": {
                    k: (v["total"] if isinstance(v, dict) and "total" in v else v)
                    for k, v in (block.get("stats") or {}).items()
                },
            }
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--input", required=True, help="folder of *.jsonl.gz")
    parser.add_argument("--work", required=True, help="empty folder for everything written")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--result", required=True, help="JSON file for the timings")
    args = parser.parse_args()

    files = sorted(glob.glob(os.path.join(args.input, "*.jsonl.gz")))
    tasks = len(files)
    work = os.path.abspath(args.work)
    filtered = f"{work}/filtered"
    minhash = f"{work}/minhash"
    logs = f"{work}/logs"
    minhash_config = MinhashConfig(
        n_grams=5,
        num_buckets=14,
        hashes_per_bucket=8,
        hash_config=HashConfig(precision=64),  # FineWeb: use_64bit_hashes=True
    )

    def executor(name: str, pipeline: list, n_tasks: int) -> LocalPipelineExecutor:
        return LocalPipelineExecutor(
            pipeline=pipeline,
            tasks=n_tasks,
            workers=args.workers,
            logging_dir=f"{logs}/{name}",
        )

    steps = [
        (
            "filter",
            executor(
                "filter",
                [
                    JsonlReader(args.input, glob_pattern="*.jsonl.gz"),
                    GopherQualityFilter(),
                    GopherRepetitionFilter(),
                    JsonlWriter(filtered),
                ],
                tasks,
            ),
        ),
        (
            "signatures",
            executor(
                "signatures",
                [
                    JsonlReader(filtered),
                    MinhashDedupSignature(
                        output_folder=f"{minhash}/signatures", config=minhash_config
                    ),
                ],
                tasks,
            ),
        ),
        (
            "buckets",
            executor(
                "buckets",
                [
                    MinhashDedupBuckets(
                        input_folder=f"{minhash}/signatures",
                        output_folder=f"{minhash}/buckets",
                        config=minhash_config,
                    )
                ],
                minhash_config.num_buckets,
            ),
        ),
        (
            "clusters",
            executor(
                "clusters",
                [
                    MinhashDedupCluster(
                        input_folder=f"{minhash}/buckets",
                        output_folder=f"{minhash}/remove_ids",
                        config=minhash_config,
                    )
                ],
                1,
            ),
        ),
        (
            "dedup_write",
            executor(
                "dedup_write",
                [
                    JsonlReader(filtered),
                    MinhashDedupFilter(input_folder=f"{minhash}/remove_ids"),
                    ParquetWriter(f"{work}/output", compression="zstd"),
                ],
                tasks,
            ),
        ),
    ]
    result: dict = {
        "tool": "datatrove",
        "datatrove": version("datatrove"),
        "tasks": tasks,
        "workers": args.workers,
        "steps": [],
    }
    started = time.time()
    for name, step in steps:
        t0 = time.time()
        step.run()
        t1 = time.time()
        result["steps"].append(
            {"step": name, "start": t0, "end": t1, "blocks": block_stats(f"{logs}/{name}")}
        )
    result["start"] = started
    result["end"] = time.time()
    import pyarrow.parquet as pq

    outputs = sorted(glob.glob(f"{work}/output/*.parquet"))
    result["output_rows"] = sum(pq.ParquetFile(p).metadata.num_rows for p in outputs)
    result["output_bytes"] = sum(os.path.getsize(p) for p in outputs)
    result["output_files"] = len(outputs)
    with open(args.result, "w") as fh:
        json.dump(result, fh, indent=1)


if __name__ == "__main__":
    main()
