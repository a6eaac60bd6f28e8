"""Peak memory of one shard task: slice by slice (``runner.shard.run_shard_task``) vs whole.

    python benchmarks/shard_memory.py benchmarks/.work/runs/1M/cleanpipe-gopher_minhash-w2 \\
        --shard 0 --mode sliced --check        # then: --mode whole --check

Reads the routed rows of one shard of a finished run (``routing/*/part-*.parquet``), orders
them as the shard step does (seeded order key, then ``spread_keys``), writes them as zstd
Parquet to a temporary folder, and prints the rows, seconds and the process's peak RSS. Run
each mode in a fresh process (peak RSS is per process).

- ``sliced``: ``run_shard_task`` itself: one slice of the shard (a range of the order
  key, ~32 MB of text) read, ordered and written at a time;
- ``whole``: the baseline, as the shard step worked before slices: every slice's rows read
  at once, sorted and taken, ``spread_keys`` and taken again, written in one piece.

``--check`` compares the rows written with the run's own shard (they must be equal, in the
same order, in both modes).
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import resource
import tempfile
import time

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from cleanpipe.config import load_config
from cleanpipe.io.writers import DOCUMENT_SCHEMA
from cleanpipe.runner.shard import run_shard_task, slice_row_groups, spread_keys
from cleanpipe.runner.tasks import ShardJob, ShardLayout

KEYS = [(k, "ascending") for k in ("_order", "source", "_file", "_pos")]
IDENTITY = ["source", "_file", "_pos"]  # a row's origin: copies of one document share it


def whole_shard(paths: list[str], shard: int, out: str) -> int:
    """The baseline: the whole shard in memory, two full takes, one write."""
    _, where = slice_row_groups(paths, shard)
    pieces = [
        pq.ParquetFile(paths[f]).read_row_groups(groups)
        for piece in sorted(where)
        for f, groups in where[piece]
    ]
    table = pa.concat_tables(pieces)
    table = table.take(pc.sort_indices(table, sort_keys=KEYS))
    keys = list(zip(*(table.column(c).to_pylist() for c in IDENTITY), strict=True))
    table = table.take(spread_keys(keys)[0])
    table = table.drop_columns(["_file", "_pos", "_shard", "_slice", "_order"])
    with pq.ParquetWriter(out, DOCUMENT_SCHEMA, compression="zstd") as writer:
        writer.write_table(table)
    return table.num_rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("run", help="output folder of a finished cleanpipe run")
    parser.add_argument("--shard", type=int, default=0)
    parser.add_argument("--mode", choices=["sliced", "whole"], default="sliced")
    parser.add_argument("--check", action="store_true", help="compare with the run's shard")
    args = parser.parse_args()
    manifest = json.load(open(os.path.join(args.run, "manifest.json")))
    plan = json.load(open(os.path.join(args.run, "plan.json")))
    paths = sorted(glob.glob(f"{args.run}/routing/*/part-*.parquet"))
    tmp = tempfile.mkdtemp(prefix="shard-memory-")
    started = time.perf_counter()
    if args.mode == "sliced":
        config = load_config(manifest["config_path"], output=tmp)
        layout = ShardLayout(plan["n_shards"], plan["slices_per_shard"])
        stats = run_shard_task(ShardJob(args.shard, layout, tuple(paths), config, tmp, {}))
        rows, out = stats["rows"], os.path.join(tmp, "data", stats["shard"])
    else:
        out = os.path.join(tmp, "shard.parquet")
        rows = whole_shard(paths, args.shard, out)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{args.mode}: {rows:,} rows, {seconds:.1f} s, peak RSS {peak:,.0f} MiB")
    if args.check:
        shards = sorted(glob.glob(f"{args.run}/data/train-{args.shard:05d}-of-*.parquet"))
        same = pq.read_table(out).equals(pq.read_table(shards[0]))
        print(f"identical rows to {shards[0]}: {same}")


if __name__ == "__main__":
    main()
