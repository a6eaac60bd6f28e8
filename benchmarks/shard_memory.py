"""Peak memory of one shard task: as ``runner.run_shard_task`` does it, and two alternatives.

    python benchmarks/shard_memory.py benchmarks/.work/runs/1M/cleanpipe-gopher_minhash-w2 \\
        --shard 0 --mode current        # then: --mode keys, --mode combined

Reads the routed rows of one shard of a finished run (``routing/*/part-*.parquet``), orders
them as the shard step does (seeded order key, then ``spread_repeats``), writes them as zstd
Parquet to a temporary file, and prints the rows, seconds and the process's peak RSS. Run
each mode in a fresh process; the written tables are identical (``--check`` compares them
with the run's own shard).

- ``current``: sort the whole table, ``take``; ``spread_repeats``, ``take`` again (two full
  copies), then write it in one piece;
- ``keys``: sort and spread on the key columns only, compose the two permutations, apply it
  once in slices of 16,384 rows, each written as it is made;
- ``combined``: ``keys`` after ``combine_chunks()`` of the gathered rows, with the pieces
  read from each routed file released.
"""

from __future__ import annotations

import argparse
import glob
import os
import resource
import tempfile
import time

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from cleanpipe.io.writers import DOCUMENT_SCHEMA
from cleanpipe.runner import spread_repeats

KEYS = [("_order", "ascending"), ("source", "ascending"), ("id", "ascending")]
SLICE = 16_384


def gather(run: str, shard: int) -> list[pa.Table]:
    """The row groups of every routed file that belong to ``shard`` (as the shard step)."""
    pieces = []
    for path in sorted(glob.glob(f"{run}/routing/*/part-*.parquet")):
        parquet = pq.ParquetFile(path)
        column = parquet.schema_arrow.get_field_index("_shard")
        groups = [
            g
            for g in range(parquet.metadata.num_row_groups)
            if parquet.metadata.row_group(g).column(column).statistics.min == shard
        ]
        if groups:
            pieces.append(parquet.read_row_groups(groups))
    return pieces


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("run", help="output folder of a finished cleanpipe run")
    parser.add_argument("--shard", type=int, default=0)
    parser.add_argument("--mode", choices=["current", "keys", "combined"], default="current")
    parser.add_argument("--check", action="store_true", help="compare with the run's shard")
    args = parser.parse_args()
    started = time.perf_counter()
    pieces = gather(args.run, args.shard)
    table = pa.concat_tables(pieces)
    out = os.path.join(tempfile.mkdtemp(prefix="shard-memory-"), "shard.parquet")
    if args.mode == "current":
        table = table.take(pc.sort_indices(table, sort_keys=KEYS))
        table = table.take(spread_repeats(table.column("source"), table.column("id")))
        table = table.drop_columns(["_shard", "_order"])
        with pq.ParquetWriter(out, DOCUMENT_SCHEMA, compression="zstd") as writer:
            writer.write_table(table)
    else:
        if args.mode == "combined":
            table = table.combine_chunks()
            del pieces
        order = pc.sort_indices(table.select(["_order", "source", "id"]), sort_keys=KEYS)
        keys = table.select(["source", "id"]).take(order)
        spread = pa.array(spread_repeats(keys.column("source"), keys.column("id")), pa.int64())
        permutation = order.take(spread)
        del keys
        table = table.drop_columns(["_shard", "_order"])
        with pq.ParquetWriter(out, DOCUMENT_SCHEMA, compression="zstd") as writer:
            for start in range(0, len(permutation), SLICE):
                writer.write_table(table.take(permutation[start : start + SLICE]))
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{args.mode}: {table.num_rows:,} rows, {seconds:.1f} s, peak RSS {peak:,.0f} MiB")
    if args.check:
        shards = sorted(glob.glob(f"{args.run}/data/train-{args.shard:05d}-of-*.parquet"))
        same = pq.read_table(out).equals(pq.read_table(shards[0]))
        print(f"identical to {shards[0]}: {same}")
    os.remove(out)


if __name__ == "__main__":
    main()
