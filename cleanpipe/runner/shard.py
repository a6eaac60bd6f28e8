"""The shard step: per output shard, gather its rows from every routed file, order them by
their seeded place, keep copies of one document apart, write the shard.

One slice at a time: a shard task holds about one slice (~32 MB of text), not the whole
shard. The result is the same as ordering the whole shard at once (see :func:`spread_keys`).
"""

from __future__ import annotations

from collections import Counter
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from cleanpipe.errors import RunError
from cleanpipe.io import fs
from cleanpipe.io.layout import Layout, shard_name, token_file_name
from cleanpipe.io.token_files import INDEX_EXT, TokenFileWriter, token_dtype
from cleanpipe.io.writers import DOCUMENT_SCHEMA, AtomicParquetWriter
from cleanpipe.runner.tasks import ShardJob, returns_memory
from cleanpipe.tokens import load_tokenizer

#: what a shard task sorts by: the seeded place, then the row's origin (unique) for ties.
SHARD_SORT = [
    ("_order", "ascending"),
    ("source", "ascending"),
    ("_file", "ascending"),
    ("_pos", "ascending"),
]
#: rows encoded at a time for the token files (a slice's ids at once would be ~300 MB).
ENCODE_BATCH = 1024
#: a row's identity in a shard: copies of one document share it.
Key = tuple[Any, ...]


def slice_row_groups(
    routed_paths: list[str], shard: int
) -> tuple[list[pq.FileMetaData], dict[int, list[tuple[int, list[int]]]]]:
    """Footers of the routed files, and per slice of ``shard``: (file, row groups) to read."""
    footers = []
    where: dict[int, list[tuple[int, list[int]]]] = {}
    for f, path in enumerate(routed_paths):
        meta = fs.parquet_file(path).metadata
        footers.append(meta)
        names = meta.schema.to_arrow_schema().names
        shard_col, slice_col = names.index("_shard"), names.index("_slice")
        groups: dict[int, list[int]] = {}
        for g in range(meta.num_row_groups):
            group = meta.row_group(g)
            if group.column(shard_col).statistics.min == shard:
                groups.setdefault(group.column(slice_col).statistics.min, []).append(g)
        for piece, row_groups in groups.items():
            where.setdefault(piece, []).append((f, row_groups))
    return footers, where


@returns_memory
def run_shard_task(job: ShardJob) -> dict[str, Any]:
    """Gather one shard's rows from every routed file, order them by their seeded key, write.

    One slice at a time (see :mod:`cleanpipe.runner.route`): a shard task holds about one slice
    (~32 MB of text), not the whole shard (256 MB by default held 1.2 GiB at the peak). Rows
    whose place :func:`spread_keys` cannot settle before it has seen the next slice are
    carried over to it, so the shard is the same as if it had been ordered whole.
    """
    config, routed_paths = job.config, list(job.routed_paths)
    footers, where = slice_row_groups(routed_paths, job.index)
    name = shard_name(job.index, job.layout.shards)
    path = Layout(job.root).shard(job.index, job.layout.shards)
    per_source: dict[str, Counter] = {}
    rows = 0
    carry: pa.Table | None = None  # read, not yet written: their place depends on what follows
    previous: Key | None = None  # the last row written
    slices = sorted(where)  # every slice that has rows: none is skipped, whatever its number
    with (
        AtomicParquetWriter(
            path,
            DOCUMENT_SCHEMA,
            config.output.compression if config.output.compression != "none" else "none",
            job.metadata,
        ) as out,
        _token_writer(job) as tokens,
    ):
        for n, piece in enumerate(slices):
            fresh = pa.concat_tables(
                [
                    fs.parquet_file(routed_paths[f], footers[f]).read_row_groups(
                        groups, use_threads=False
                    )
                    for f, groups in where[piece]
                ]
            )
            ordered = pc.sort_indices(
                fresh.select([k for k, _ in SHARD_SORT]), sort_keys=SHARD_SORT
            )
            fresh = fresh.drop_columns(["_shard", "_slice", "_order"]).take(ordered)
            # carried rows come first, in the order they were left in: all of their order
            # keys are below this slice's
            table = pa.concat_tables([carry, fresh]) if carry is not None else fresh
            del fresh
            keys = list(
                zip(
                    table.column("source").to_pylist(),
                    table.column("_file").to_pylist(),
                    table.column("_pos").to_pylist(),
                    strict=True,
                )
            )
            order, settled = spread_keys(keys, previous, final=n == len(slices) - 1)
            placed = np.asarray(order, np.int64)
            written = table.take(placed[:settled]).drop_columns(["_file", "_pos"])
            carry = table.take(placed[settled:]) if settled < len(order) else None
            if settled:
                previous = keys[order[settled - 1]]
            del table
            out.write(written)
            if tokens is not None:  # in batches: ids as Python lists take ~36 bytes each
                for batch in written.to_batches(max_chunksize=ENCODE_BATCH):
                    tokens.add(encode_rows(batch, job.config.mixture.tokenizer))
            rows += written.num_rows
            _count_rows(written, per_source)
            del written
    stats = {
        "shard": name,
        "rows": rows,
        "tokens": sum(v["tokens"] for v in per_source.values()),
        "bytes": fs.getsize(path),
        "sources": {s: dict(v) for s, v in sorted(per_source.items())},
    }
    if tokens is not None:
        stats["token_file"] = {"name": token_file_name(job.index, job.layout.shards, "bin")}
        stats["token_file"].update(tokens.summary)
    return stats


def _token_writer(job: ShardJob) -> AbstractContextManager[TokenFileWriter | None]:
    """The shard's token-file twin (``output.token_files``), or nothing."""
    fmt = job.config.output.token_files
    if fmt == "none":
        return nullcontext()
    tokenizer = load_tokenizer(job.config.mixture.tokenizer)
    layout, total = Layout(job.root), job.layout.shards
    return TokenFileWriter(
        layout.token_file(job.index, total, "bin"),
        layout.token_file(job.index, total, INDEX_EXT[fmt]),
        fmt,
        token_dtype(fmt, tokenizer.vocab_size),
        tokenizer.eos_id,
    )


def token_manifest(config: Any, shard_stats: list[dict[str, Any]]) -> dict[str, Any]:
    """``tokens/manifest.json``: the tokenizer, dtype, every file with its counts and digests,
    and per-source totals (equal to the report's ``output_docs`` / ``output_tokens``)."""
    fmt, tokenizer = config.output.token_files, load_tokenizer(config.mixture.tokenizer)
    sources: dict[str, Counter] = {}
    for shard in shard_stats:
        for source, totals in shard["sources"].items():
            sums = sources.setdefault(source, Counter())
            sums.update({"documents": totals["docs"], "tokens": totals["tokens"]})
    return {
        "tokenizer": {
            "name": tokenizer.name,
            "vocab_size": tokenizer.vocab_size,
            "eos_id": tokenizer.eos_id,
        },
        "dtype": token_dtype(fmt, tokenizer.vocab_size).name,
        "tokens_include_eos": False,
        "files": [shard["token_file"] for shard in shard_stats],
        "sources": {s: dict(v) for s, v in sorted(sources.items())},
    }


def encode_rows(written: pa.Table | pa.RecordBatch, tokenizer: Any) -> list[list[int]]:
    """The token ids of a written slice's texts, encoded with the tokenizer that counted them
    in the map step: each count must equal the row's ``tokens`` (counted once, see
    README "Training on the output"), else the token files would not be what was planned."""
    encode = load_tokenizer(tokenizer).encode
    ids = [encode(text) for text in written.column("text").to_pylist()]
    counts = written.column("tokens").to_pylist()
    for i, (doc, count) in enumerate(zip(ids, counts, strict=True)):
        if len(doc) != count:
            row_id = written.column("id")[i].as_py()
            raise RunError(
                f"document {row_id!r} encodes to {len(doc)} tokens but was counted as "
                f"{count} in the map step; the tokenizer changed since: rerun with --force"
            )
    return ids


def _count_rows(written: pa.Table, per_source: dict[str, Counter]) -> None:
    """Add a written slice's rows, tokens and distinct documents (``copy == 0``) per source:
    the report's accounting reads these, counted from the rows as written."""
    first = pc.cast(pc.equal(written.column("copy"), 0), pa.int64())
    counted = (
        written.select(["source", "tokens"])
        .append_column("first", first)
        .group_by("source")
        .aggregate([("tokens", "sum"), ("tokens", "count"), ("first", "sum")])
    )
    for row in counted.to_pylist():
        totals = per_source.setdefault(row["source"], Counter())
        totals.update(
            {"docs": row["tokens_count"], "tokens": row["tokens_sum"], "distinct": row["first_sum"]}
        )


def spread_keys(
    keys: list[Key], previous: Key | None = None, final: bool = True
) -> tuple[list[int], int]:
    """An order of rows in which no two copies of one document are neighbours, and how many
    rows of it are settled.

    Rows arrive in seeded-hash order, so copies are rarely adjacent; when they are, the later
    copy is swapped with the nearest following row that conflicts with neither side. With
    fewer distinct documents than copies (a shard of one repeated document) some adjacency
    cannot be avoided and is left as it is.

    For a shard ordered slice by slice: ``previous`` is the key of the last row written
    before these. Unless ``final``, more rows follow, and a clash whose fix would look at
    them (the search reaches the last row) stops the pass: the rows from there on are not
    settled and go, in their current order, in front of the next slice's rows. Every swap
    then happens exactly as in one pass over the whole shard. (A shard made of one repeated
    document carries everything to its end: it is held whole.)
    """
    head = [previous] if previous is not None else []
    keys = head + keys  # the previous row is a fixed row 0: rows only ever move forward
    order = list(range(len(keys)))
    end = len(order)

    def clashes(i: int, key: Key) -> bool:
        return (i > 0 and keys[order[i - 1]] == key) or (i + 1 < end and keys[order[i + 1]] == key)

    def result(settled: int) -> tuple[list[int], int]:
        return [i - len(head) for i in order[len(head) :]], settled - len(head)

    for i in range(1, end):
        if keys[order[i]] != keys[order[i - 1]]:
            continue
        for j in range(i + 1, end):
            if keys[order[j]] != keys[order[i - 1]]:
                if not final and j + 1 == end:
                    return result(i)  # j's right neighbour is in the next slice
                order[i], order[j] = order[j], order[i]
                if not clashes(j, keys[order[j]]):
                    break
                order[i], order[j] = order[j], order[i]
        else:
            if not final:
                return result(i)  # the fix, if there is one, is in the next slice
    return result(end)
