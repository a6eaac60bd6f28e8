"""The barrier: once, over what every map task wrote.

Dedup across ALL sources (dedup/removed.parquet: one row per removed staged row), the
(row hash, tokens) of every surviving document for the mixture plan, the shard layout, and
the checks that need the whole picture (a source with nothing left, repeated ids). Every
decision keys on a staged row (file + position), never on the user's id.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cleanpipe.config import Config
from cleanpipe.dedup.clusters import find_duplicates
from cleanpipe.errors import RunError
from cleanpipe.hashing import stable_hash
from cleanpipe.io import fs
from cleanpipe.io.layout import TEMPORARY_INFIX, Layout
from cleanpipe.io.writers import AtomicParquetWriter, write_json_atomic
from cleanpipe.mixture import MixturePlan
from cleanpipe.runner.paragraphs import Edits, paragraph_edits
from cleanpipe.runner.removed import Removed, removed_rows
from cleanpipe.runner.tasks import MapTask, ShardLayout, read_marker

#: rows per row group of dedup/removed.parquet: a task's drops are found by the row groups'
#: ``file`` statistics, so it reads about one group, not the whole file.
REMOVED_ROW_GROUP = 65_536
#: text bytes a shard task holds at once: a shard is written one slice of this size at a time.
SHARD_SLICE_BYTES = 32_000_000
#: repeated ids shown in the report, per source.
REPEATED_ID_EXAMPLES = 5


def row_hash(seed: int, source: str, file: str, position: int) -> int:
    """The seeded hash that orders a source's documents for the fractional epoch, keyed on
    the document's origin (input file as written, record position), which is unique by
    construction: users' ids repeat."""
    return stable_hash(seed, "sample", source, file, position)


# -- dedup ----------------------------------------------------------------------------------


def run_dedup(config: Config, layout: Layout, tasks: list[MapTask], fingerprint: str) -> dict:
    """The dedup barrier: which staged documents are duplicates, across all sources; returns
    the report's dedup section. Reused when its marker's fingerprint matches."""
    marker = read_marker(layout.dedup_marker)
    if marker is not None and marker.get("fingerprint") == fingerprint:
        return marker["info"]
    if config.dedup is None:
        fs.remove(layout.removed)
        info: dict[str, Any] = {"enabled": False}
    else:
        paths = [layout.staged(t.source, t.part, "sig.parquet") for t in tasks]
        result = find_duplicates(paths, config.dedup, layout.file("dedup"))
        removed = result.drops  # ordered by row: the drops of one file together
        for column in ("file", "duplicate_of_file"):
            files = removed.column(column).combine_chunks().dictionary_encode()
            relative = pa.array([layout.relative(p) for p in files.dictionary.to_pylist()])
            removed = removed.set_column(
                removed.schema.get_field_index(column),
                column,
                pa.DictionaryArray.from_arrays(files.indices, relative).cast(pa.string()),
            )
        with AtomicParquetWriter(layout.removed, removed.schema) as out:
            for start in range(0, removed.num_rows, REMOVED_ROW_GROUP):
                out.write(removed.slice(start, REMOVED_ROW_GROUP))
        info = {"enabled": True, **result.summary()}
    write_json_atomic({"fingerprint": fingerprint, "info": info}, layout.dedup_marker)
    # the per-band pair caches only serve a barrier interrupted midway
    for name in fs.listdir(layout.file("dedup")):
        if name.startswith("pairs-") or TEMPORARY_INFIX in name:
            fs.remove(layout.file("dedup", name))
    return info


def dedup_inputs(config: Config, fingerprints: list[str]) -> dict[str, Any]:
    """What the dedup barrier's result depends on (fingerprinted by the driver)."""
    return {
        "dedup": dataclasses.asdict(config.dedup) if config.dedup else None,
        "map": fingerprints,
    }


def removed_and_edits(config: Config, root: str, task: MapTask) -> tuple[Removed, Edits]:
    """A map task's removed rows (document dedup, then the documents paragraph dedup
    emptied: ``paragraphs_emptied``) and its paragraph edits. Paragraph dedup leaves the
    removed documents out, so no row is both; the set difference keeps it that way."""
    removed = removed_rows(root, task)
    edits = paragraph_edits(config, root, task)
    emptied = np.setdiff1d(edits.emptied_rows, removed.rows)
    if not len(emptied):
        return removed, edits
    rows = np.concatenate([removed.rows, emptied])
    reasons = removed.reasons + ["paragraphs_emptied"] * len(emptied)
    order = np.argsort(rows, kind="stable")
    return Removed(rows[order], [reasons[i] for i in order.tolist()]), edits


# -- the mixture plan's inputs ----------------------------------------------------------------


def _row_hashes(seed: int, source: str, table: pa.Table) -> np.ndarray:
    files = table.column("_file").to_pylist()
    positions = table.column("_pos").to_pylist()
    return np.fromiter(
        (row_hash(seed, source, f, p) for f, p in zip(files, positions, strict=True)),
        dtype=np.uint64,
        count=table.num_rows,
    )


def surviving_hashes(
    config: Config, root: str, tasks: list[MapTask]
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """(row hash, tokens) of every staged document not removed by dedup, per source, its
    tokens counted after the paragraph cut."""
    layout = Layout(root)
    hashes: dict[str, list[np.ndarray]] = {s: [] for s in config.sources}
    tokens: dict[str, list[np.ndarray]] = {s: [] for s in config.sources}
    for task in tasks:
        table = fs.read_table(
            layout.staged(task.source, task.part), columns=["_file", "_pos", "tokens"]
        )
        removed, edits = removed_and_edits(config, root, task)
        # the tokens after the paragraph cut: the mixture plans what the shards will hold
        table = edits.apply(table).filter(pa.array(removed.mask(table.num_rows)))
        hashes[task.source].append(_row_hashes(config.seed, task.source, table))
        tokens[task.source].append(table.column("tokens").to_numpy().astype(np.int64))
    return (
        {s: np.concatenate(v or [np.empty(0, np.uint64)]) for s, v in hashes.items()},
        {s: np.concatenate(v or [np.empty(0, np.int64)]) for s, v in tokens.items()},
    )


def shard_layout(config: Config, plan: MixturePlan, map_stats: list[dict[str, Any]]) -> ShardLayout:
    """Shards for the planned bytes at ``output.shard_size`` (uncompressed text), each cut
    into slices of about :data:`SHARD_SLICE_BYTES`."""
    bytes_per_token: dict[str, float] = {}
    for source in config.sources:
        b = sum(s["kept"].get("bytes", 0) for s in map_stats if s["source"] == source)
        t = sum(s["kept"].get("tokens", 0) for s in map_stats if s["source"] == source)
        bytes_per_token[source] = b / t if t else 0.0
    planned = sum(p.sampled_tokens * bytes_per_token[s] for s, p in plan.sources.items())
    n_shards = max(1, int(np.ceil(planned / config.output.shard_size)))
    return ShardLayout(n_shards, max(1, int(np.ceil(planned / n_shards / SHARD_SLICE_BYTES))))


# -- checks that need every source ------------------------------------------------------------


def rows_written(layout: Layout, tasks: list[MapTask]) -> dict[str, dict[str, int]]:
    """Rows in each source's staging/ and rejects/ files, from their footers: the accounting
    counts what was written, not what a task said it wrote."""
    written: dict[str, dict[str, int]] = {}
    for t in tasks:
        counts = written.setdefault(t.source, {"staged": 0, "rejected": 0})
        counts["staged"] += fs.parquet_file(layout.staged(t.source, t.part)).metadata.num_rows
        counts["rejected"] += fs.parquet_file(layout.rejects(t.source, t.part)).metadata.num_rows
    return written


def _id_hashes(layout: Layout, task: MapTask) -> np.ndarray:
    ids = fs.read_table(layout.staged(task.source, task.part), columns=["id"]).column("id")
    return np.fromiter((stable_hash(0, i) for i in ids.to_pylist()), np.uint64, len(ids))


def repeated_ids(layout: Layout, tasks: list[MapTask]) -> dict[str, dict[str, Any]]:
    """Per source: how many ids occur on more than one staged document, on how many
    documents, and a few of them. Harmless (every decision keys on the row), but a user
    seeing one id twice in the output should know why."""
    out: dict[str, dict[str, Any]] = {}
    for source in sorted({t.source for t in tasks}):
        mine = [t for t in tasks if t.source == source]
        hashed = [_id_hashes(layout, t) for t in mine]
        every = np.concatenate(hashed or [np.empty(0, np.uint64)])
        values, counts = np.unique(every, return_counts=True)
        repeated = values[counts > 1]
        examples: list[str] = []
        for t, h in zip(mine, hashed, strict=True):
            hits = np.flatnonzero(np.isin(h, repeated)) if len(repeated) else []
            if len(examples) >= REPEATED_ID_EXAMPLES or not len(hits):
                continue
            ids = fs.read_table(layout.staged(t.source, t.part), columns=["id"]).column("id")
            for i in hits.tolist():
                if (doc_id := ids[i].as_py()) not in examples:
                    examples.append(doc_id)
        out[source] = {
            "ids": int(len(repeated)),
            "rows": int(counts[counts > 1].sum()),
            "examples": examples[:REPEATED_ID_EXAMPLES],
        }
    return out


def check_sources_left(
    config: Config,
    layout: Layout,
    tasks: list[MapTask],
    map_stats: list[dict[str, Any]],
    tokens: dict[str, np.ndarray],
) -> None:
    """A source with nothing left cannot be mixed: say where its records went (the most
    common reasons, with the first reject's detail), not just "0 tokens available"."""
    problems = []
    for source in sorted(config.sources):
        if tokens[source].sum() > 0:
            continue
        mine = [s for s in map_stats if s["source"] == source]
        records = sum(s["read"].get("records", 0) for s in mine)
        if not records:
            files = sum(len(s["files"]) for s in mine)
            problems.append(f"source {source!r}: its {files} input file(s) hold no records")
            continue
        reasons: Counter = Counter()
        for s in mine:
            reasons.update({k: v for k, v in s["read"].items() if k.startswith("read:")})
            for st in s["stages"]:
                reasons.update(st["dropped"])
        if staged := sum(s["kept"].get("docs", 0) for s in mine):
            reasons["dedup (duplicates of documents elsewhere)"] += staged
        top = reasons.most_common(3)
        detail = _first_reject_detail(layout, [t for t in tasks if t.source == source], top[0][0])
        what = "rejected" if all(r.startswith("read:") for r, _ in top) else "dropped"
        listing = ", ".join(f"{reason} {count:,}" for reason, count in top)
        problems.append(
            f"source {source!r}: all {records:,} records {what}: {listing}"
            + (f" ({detail})" if detail else "")
        )
    if problems:
        raise RunError(
            "nothing left to mix from " + "; ".join(problems) + ". See rejects/ for every "
            "record's reason (check text_field, id_field and the input format)"
        )


def _first_reject_detail(layout: Layout, tasks: list[MapTask], reason: str) -> str:
    for t in tasks:
        table = fs.read_table(layout.rejects(t.source, t.part), columns=["reason", "detail"])
        hits = table.filter(pc.equal(table.column("reason"), reason))
        if hits.num_rows:
            return hits.column("detail")[0].as_py() or ""
    return ""
