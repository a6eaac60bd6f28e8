"""The cost of ``output.token_files`` (issue 14): the same run with and without token files.

    python benchmarks/bench_token_files.py --size 100k --workers 2     # ~2-3 min on 2 cores

Method. One source (the corpus of :mod:`corpus`, no stages, no dedup, every document once,
exact cl100k counts: what token files require), run once in full without token files. Then,
on the same folder, map and route tasks are reused and only the shard step runs again:
``none`` (the baseline) and ``megatron`` / ``numpy``, each best of ``--repeat``. The difference
is what token files cost; it is reported against the full run too.

Per core: the shard step's extra work (re-encoding each row with the tokenizer that counted it
in the map step, checking the count, writing the ``.bin``) timed in this process on one
shard, as tokens per CPU-second.

The alternative to re-encoding, keeping the map step's ids in the staged and routed files, is
measured on the same shard: the size of an ``ids`` list column in zstd Parquet and the time to
write and read it back (it would be written twice, staged and routed, and read twice).
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from corpus import corpus_dir, ensure_corpus  # noqa: E402

from cleanpipe.config import parse_config  # noqa: E402
from cleanpipe.io.token_files import TokenFileWriter, token_dtype  # noqa: E402
from cleanpipe.runner import run  # noqa: E402
from cleanpipe.runner.shard import encode_rows  # noqa: E402
from cleanpipe.tokens import load_tokenizer  # noqa: E402


def config(size: str, out: Path, token_files: str):  # noqa: ANN201 - a Config
    return parse_config(
        {
            "seed": 42,
            "output": {"path": str(out), "shard_size": "64MB", "token_files": token_files},
            "sources": {
                "web": {"paths": [str(corpus_dir(size) / "*.jsonl.gz")], "weight": 1, "stages": []}
            },
            "dedup": False,
            "mixture": {"total_tokens": "max", "max_epochs": 1, "tokenizer": "cl100k"},
        }
    )


def timed_run(size: str, out: Path, token_files: str, workers: int, force: bool = False) -> tuple:
    started = time.perf_counter()
    report = run(config(size, out, token_files), workers=workers, force=force, progress=False)
    return time.perf_counter() - started, report.report


def per_core(shard: Path, tmp: Path) -> dict[str, float]:
    """Re-encode + write one shard in this process; and the keep-the-ids alternative."""
    table = pq.read_table(shard, columns=["id", "text", "tokens"])
    tokens = sum(table.column("tokens").to_pylist())
    tok = load_tokenizer("cl100k")
    started = time.process_time()
    ids = encode_rows(table, "cl100k")
    encoded = time.process_time() - started
    with TokenFileWriter(
        str(tmp / "b.bin"), str(tmp / "b.idx"), "megatron", token_dtype("megatron", 100277), 100257
    ) as writer:
        writer.add(ids)
    total = time.process_time() - started
    column = pa.table({"ids": pa.array(ids, pa.list_(pa.uint32()))})
    text = table.select(["text"])
    started = time.process_time()
    buffer = io.BytesIO()
    pq.write_table(column, buffer, compression="zstd")
    pq.read_table(io.BytesIO(buffer.getvalue()))
    kept = time.process_time() - started
    text_buffer = io.BytesIO()
    pq.write_table(text, text_buffer, compression="zstd")
    return {
        "tokens": tokens,
        "tokens_per_cpu_second": tokens / total,
        "encode_share": encoded / total,
        "keep_ids_write_read_seconds": kept,
        "keep_ids_bytes_per_token": len(buffer.getvalue()) / tokens,
        "keep_ids_size_vs_text": len(buffer.getvalue()) / len(text_buffer.getvalue()),
        "reencode_seconds": total,
        "eos_id": tok.eos_id,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", default="100k")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    ensure_corpus(args.size)
    out = HERE / ".work" / "runs" / args.size / "token_files"
    full, report = timed_run(args.size, out, "none", args.workers, force=True)
    shard_step = {}
    for fmt in ("none", "megatron", "numpy"):
        shard_step[fmt] = min(
            timed_run(args.size, out, fmt, args.workers)[0] for _ in range(args.repeat)
        )
    timed_run(args.size, out, "megatron", args.workers)  # leave the files for per_core
    first = sorted((out / "data").glob("*.parquet"))[0]
    core = per_core(first, out)
    results = {
        "size": args.size,
        "workers": args.workers,
        "docs": report["run"]["total_docs"],
        "tokens": report["run"]["total_tokens"],
        "full_run_seconds": round(full, 2),
        "rerun_seconds": {k: round(v, 2) for k, v in shard_step.items()},
        "cost_seconds": {k: round(shard_step[k] - shard_step["none"], 2) for k in shard_step},
        "cost_vs_full_run": {
            k: round((shard_step[k] - shard_step["none"]) / full, 3) for k in shard_step
        },
        "per_core": {k: round(v, 3) for k, v in core.items()},
    }
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
