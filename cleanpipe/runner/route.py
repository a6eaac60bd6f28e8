"""The route step: per staged file, drop the duplicates, take each document's planned copies,
give each copy a shard and a place in it.

The place is a seeded 64-bit ``_order``; it also names the copy's slice of the shard: slice
``k`` of ``n`` holds the orders in ``[k, k+1) * 2**64 / n``, so writing the slices one after
the other, each sorted, is the whole shard sorted. Rows are written one row group per
(shard, slice), so a shard task reads one slice at a time.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cleanpipe.hashing import stable_hash
from cleanpipe.io import fs
from cleanpipe.io.layout import Layout
from cleanpipe.io.writers import STAGED_SCHEMA, AtomicParquetWriter, write_json_atomic
from cleanpipe.mixture import MixturePlan, SourcePlan
from cleanpipe.runner.barrier import removed_and_edits, row_hash
from cleanpipe.runner.tasks import RouteJob, ShardLayout, returns_memory

#: routed rows: staged columns, the copy number, and where the copy goes.
ROUTE_SCHEMA = (
    STAGED_SCHEMA.append(pa.field("copy", pa.int32(), nullable=False))
    .append(pa.field("_shard", pa.int32()))
    .append(pa.field("_slice", pa.int32()))
    .append(pa.field("_order", pa.uint64()))
)


def _copies(
    seed: int, source: str, plan: SourcePlan, layout: ShardLayout, table: pa.Table, survives: list
) -> tuple[list[tuple[int, int, int, int, int]], int]:
    """``(shard, slice, order, row, copy)`` of every planned copy, sorted, and how many
    surviving rows got no copy. Keys on the row's origin, never on the user's id; the copies
    of one document go to consecutive shards from a seeded start, so they share a shard only
    when there are more copies than shards."""
    files = table.column("_file").to_pylist()
    positions = table.column("_pos").to_pylist()
    copies = []
    unsampled = 0
    for i in range(table.num_rows):
        if not survives[i]:
            continue
        origin = (source, files[i], positions[i])
        n_copies = plan.copies(row_hash(seed, *origin))
        unsampled += n_copies == 0
        first_shard = stable_hash(seed, "shard", *origin) % layout.shards
        for copy in range(n_copies):
            order = stable_hash(seed, "order", *origin, copy)
            shard = (first_shard + copy) % layout.shards
            copies.append((shard, (order * layout.slices) >> 64, order, i, copy))
    copies.sort()
    return copies, unsampled


@returns_memory
def run_route_task(job: RouteJob) -> dict[str, Any]:
    """Route one staged file; writes routing/<source>/part-N.parquet and its marker."""
    task, config = job.task, job.config
    layout = Layout(job.root)
    plan = MixturePlan.from_dict(job.plan).sources[task.source]
    removed, edits = removed_and_edits(config, job.root, task)
    original = fs.read_table(layout.staged(task.source, task.part))
    # the documents kept carry the text (and tokens) after the paragraph cut
    table = edits.apply(original)
    survives = removed.mask(table.num_rows).tolist()
    removed_text = original.column("text").take(pa.array(removed.rows, pa.int64()))
    survived_edits = ~np.isin(edits.rows, removed.rows)
    copies, unsampled = _copies(config.seed, task.source, plan, job.layout, table, survives)
    shards, slices, orders, rows, copy_no = ([c[k] for c in copies] for k in range(5))
    routed = (
        table.take(pa.array(rows, pa.int64()))
        .append_column("copy", pa.array(copy_no, pa.int32()))
        .append_column("_shard", pa.array(shards, pa.int32()))
        .append_column("_slice", pa.array(slices, pa.int32()))
        .append_column("_order", pa.array(orders, pa.uint64()))
    )
    # min/max of the two columns a shard task selects row groups by, and of nothing else:
    # the text's and meta's would make the footer ~0.7 MB, held once per routed file
    with AtomicParquetWriter(
        layout.routed(task.source, task.part), ROUTE_SCHEMA, statistics=["_shard", "_slice"]
    ) as out:
        start = 0  # rows are sorted by (shard, slice): each group is a run of rows
        for _, n in sorted(Counter(zip(shards, slices, strict=True)).items()):
            out.write(routed.slice(start, n))
            start += n
    stats = {
        "task": task.name,
        "fingerprint": job.fingerprint,
        "rows": len(rows),
        "per_shard": {str(k): v for k, v in sorted(Counter(shards).items())},
        # the accounting of this file's staged rows, each counted once by _copies
        "staged": table.num_rows,
        "removed": removed.counts(),
        # whole removed documents, and the paragraphs cut from the documents kept
        "removed_chars": (pc.sum(pc.utf8_length(removed_text)).as_py() or 0)
        + int(edits.chars_cut[survived_edits].sum()),
        "sampled": sum(1 for c in copy_no if c == 0),
        "not_sampled": unsampled,
    }
    write_json_atomic(stats, layout.routed(task.source, task.part, "done.json"))
    return stats
