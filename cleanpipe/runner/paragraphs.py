"""The paragraph-dedup barrier (:mod:`cleanpipe.dedup.paragraphs`) run as executor tasks.

Two steps after the document dedup, over the documents it kept, before the mixture plan:

1. one task per hash-prefix partition reads the unit hashes every map task wrote
   (``staging/<source>/part-N.units.parquet``) and writes the units to cut
   (``dedup/paragraphs/cuts-PPPP-of-NNNN.parquet``, by staged file, row, unit);
2. one task per staged file reads its cuts from every partition, cuts them out of its texts
   and recounts the tokens of the rows it edited, with the map step's token counter
   (``dedup/paragraphs/<source>/part-N.parquet``: row, text, tokens, emptied). The mixture
   plan and the route step read these edits, so the plan counts tokens after the cut, and a
   document left with fewer than ``min_doc_chars`` characters is removed as
   ``dedup:paragraphs_emptied``.

Files are taken in sorted path order (source, then part), the order the document dedup's
``keep: first`` uses (with ``keep: source_priority``, its sources first, in that order), so
the kept copy never depends on workers.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from cleanpipe.config import Config
from cleanpipe.dedup.config import ParagraphConfig
from cleanpipe.dedup.paragraphs import (
    CUT_SCHEMA,
    cut_units,
    find_repeats,
    split_units,
)
from cleanpipe.executors.base import Executor
from cleanpipe.io import fs
from cleanpipe.io.layout import TEMPORARY_INFIX, Layout, part_name
from cleanpipe.io.writers import AtomicParquetWriter, write_json_atomic, write_table_atomic
from cleanpipe.runner.removed import removed_rows
from cleanpipe.runner.tasks import MapTask, read_marker, returns_memory
from cleanpipe.tokens import TokenEstimator

__all__ = [
    "EDIT_SCHEMA",
    "PARTITION_UNITS",
    "Edits",
    "paragraph_edits",
    "run_paragraphs",
]

#: units per barrier partition: at ~40 bytes a unit (docs/dedup.md), about 670 MB a task.
PARTITION_UNITS = 1 << 24
#: rows per row group of a cuts file: an edit task reads the groups whose ``file``
#: statistics hold its file, not the partition's whole table.
CUTS_ROW_GROUP = 65_536
#: characters of a repeated unit shown in the report.
EXAMPLE_CHARS = 160
#: a staged file's edited rows: the text after the cut and its tokens, or emptied.
EDIT_SCHEMA = pa.schema(
    [
        pa.field("row", pa.int64()),
        pa.field("text", pa.string()),
        pa.field("tokens", pa.int64()),
        pa.field("units_cut", pa.int32()),
        pa.field("chars_cut", pa.int64()),
        pa.field("emptied", pa.bool_()),
    ]
)


def _units_path(layout: Layout, task: MapTask) -> str:
    return layout.staged(task.source, task.part, "units.parquet")


def _edits_path(layout: Layout, task: MapTask) -> str:
    return layout.file("dedup", "paragraphs", task.source, f"{part_name(task.part)}.parquet")


def _cuts_path(layout: Layout, partition: int, partitions: int) -> str:
    return layout.file("dedup", "paragraphs", f"cuts-{partition:04d}-of-{partitions:04d}.parquet")


@dataclass(frozen=True)
class PartitionJob:
    """One hash-prefix partition of the unit hashes of every file (sorted paths)."""

    paths: tuple[str, ...]
    tasks: tuple[MapTask, ...]  # the map task of each path, for its document-dedup drops
    root: str
    partition: int
    partitions: int
    config: ParagraphConfig
    out: str


@dataclass(frozen=True)
class EditJob:
    """One staged file's cuts applied: its index among the sorted unit files."""

    task: MapTask
    file: int
    config: Config
    root: str
    cuts: tuple[str, ...]


@returns_memory
def run_partition(job: PartitionJob) -> dict[str, Any]:
    """Find the repeats of one partition and write its cuts (sorted by file, row, unit)."""

    def parts():
        # documents the document dedup removed take no part: a paragraph's first copy kept
        # in a document that is gone would leave the paragraph nowhere in the output
        for file, (path, task) in enumerate(zip(job.paths, job.tasks, strict=True)):
            gone = removed_rows(job.root, task).rows
            for batch in fs.parquet_file(path).iter_batches(batch_size=1 << 16):
                if len(gone):
                    batch = batch.filter(pa.array(~np.isin(batch.column(0).to_numpy(), gone)))
                yield file, batch

    found = find_repeats(parts(), job.partition, job.partitions, job.config)
    cuts = found["cuts"]  # in input order: a file's cuts together
    with AtomicParquetWriter(job.out, CUT_SCHEMA) as out:
        for start in range(0, cuts.num_rows, CUTS_ROW_GROUP):
            out.write(cuts.slice(start, CUTS_ROW_GROUP))
    n_files = len(job.paths)
    return {
        "units": found["units"],
        "cut_units": np.bincount(found["cut_files"], minlength=n_files).tolist(),
        "cut_chars": np.bincount(found["cut_files"], weights=found["cut_chars"], minlength=n_files)
        .astype(np.int64)
        .tolist(),
        "top": found["top"],
    }


@returns_memory
def run_edit(job: EditJob) -> dict[str, Any]:
    """Cut one staged file's repeated units; write its edited rows with their new tokens."""
    layout, para = Layout(job.root), job.config.dedup.paragraphs
    mine = [("file", "==", job.file)]
    cuts = pa.concat_tables(
        [fs.read_table(p, columns=["row", "unit"], filters=mine) for p in job.cuts]
        or [CUT_SCHEMA.empty_table().select(["row", "unit"])]
    ).sort_by([("row", "ascending"), ("unit", "ascending")])
    rows = cuts.column("row").to_numpy()
    units = cuts.column("unit").to_numpy()
    edited = np.unique(rows)
    staged = fs.read_table(
        layout.staged(job.task.source, job.task.part), columns=["text", "_file", "_pos"]
    )
    picked = staged.take(pa.array(edited, pa.int64()))
    texts, counts, chars = [], [], []
    starts = np.searchsorted(rows, edited)
    ends = np.searchsorted(rows, edited, side="right")
    for text, lo, hi in zip(picked.column("text").to_pylist(), starts, ends, strict=True):
        new, n, c = cut_units(text, set(units[lo:hi].tolist()), para.unit)
        texts.append(new), counts.append(n), chars.append(c)
    emptied = [len(t) < para.min_doc_chars for t in texts]
    mixture = job.config.mixture
    counter = TokenEstimator(mixture.tokenizer, mixture.token_counting, job.config.seed)
    keys = [
        f"{f}:{p}"
        for f, p in zip(
            picked.column("_file").to_pylist(), picked.column("_pos").to_pylist(), strict=True
        )
    ]
    # the same counter as the map step's, keyed on the same origins: tokens after the cut
    live = [i for i, e in enumerate(emptied) if not e]
    tokens = [0] * len(texts)
    for i, n in zip(
        live, counter.count([keys[i] for i in live], [texts[i] for i in live]), strict=True
    ):
        tokens[i] = n
    table = pa.table(
        [
            pa.array(edited, pa.int64()),
            pa.array([None if e else t for t, e in zip(texts, emptied, strict=True)], pa.string()),
            pa.array(tokens, pa.int64()),
            pa.array(counts, pa.int32()),
            pa.array(chars, pa.int64()),
            pa.array(emptied, pa.bool_()),
        ],
        schema=EDIT_SCHEMA,
    )
    write_table_atomic(table, _edits_path(layout, job.task))
    return {"task": job.task.name, "edited": len(edited), "emptied": sum(emptied)}


@dataclass(frozen=True)
class Edits:
    """A staged file's paragraph edits: rows (ascending), new text (None: emptied), tokens."""

    rows: np.ndarray
    texts: list[str | None]
    tokens: np.ndarray
    chars_cut: np.ndarray
    emptied: np.ndarray

    @property
    def emptied_rows(self) -> np.ndarray:
        return self.rows[self.emptied]

    def apply(self, table: pa.Table) -> pa.Table:
        """The staged table (or some of its columns) with the edited rows' ``text`` and
        ``tokens`` replaced; emptied rows keep theirs: they are removed, and counted so."""
        if not len(self.rows):
            return table
        live = ~self.emptied
        rows = self.rows[live]
        names = table.schema.names
        if "text" in names:
            texts = table.column("text").to_pylist()
            new_texts = [t for t, alive in zip(self.texts, live.tolist(), strict=True) if alive]
            for row, text in zip(rows.tolist(), new_texts, strict=True):
                texts[row] = text
            at = names.index("text")
            table = table.set_column(at, table.schema.field(at), pa.array(texts, pa.string()))
        if "tokens" in names:
            at = names.index("tokens")
            tokens = table.column(at).to_numpy().copy()
            tokens[rows] = self.tokens[live]
            field = table.schema.field(at)
            table = table.set_column(at, field, pa.array(tokens, field.type))
        return table


def paragraph_edits(config: Config, root: str, task: MapTask) -> Edits:
    """The paragraph edits of a map task's staged file (none when paragraph dedup is off)."""
    empty = Edits(
        np.empty(0, np.int64), [], np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, bool)
    )
    if config.dedup is None or config.dedup.paragraphs is None:
        return empty
    path = _edits_path(Layout(root), task)
    if not fs.exists(path):
        return empty
    t = fs.read_table(path)
    return Edits(
        t.column("row").to_numpy(),
        t.column("text").to_pylist(),
        t.column("tokens").to_numpy(),
        t.column("chars_cut").to_numpy(),
        t.column("emptied").to_numpy(zero_copy_only=False),
    )


def run_paragraphs(
    config: Config, layout: Layout, tasks: list[MapTask], fingerprint: str, executor: Executor
) -> dict[str, Any]:
    """The paragraph-dedup barrier and edits; returns the report's ``paragraphs`` section.
    Reused when its marker's fingerprint matches."""
    para = config.dedup.paragraphs if config.dedup is not None else None
    marker_path = layout.file("dedup", "paragraphs.json")
    if para is None:
        fs.remove(marker_path)
        return {"enabled": False}
    marker = read_marker(marker_path)
    if marker is not None and marker.get("fingerprint") == fingerprint:
        return marker["info"]
    mine = sorted(
        (t for t in tasks if para.applies_to(t.source)),
        key=lambda t: _input_order(config, layout, t),
    )
    paths = tuple(_units_path(layout, t) for t in mine)
    total = sum(fs.parquet_file(p).metadata.num_rows for p in paths)
    partitions = max(1, -(-total // PARTITION_UNITS))
    _remove_stale(layout, partitions)
    jobs = [
        PartitionJob(
            paths, tuple(mine), layout.root, p, partitions, para, _cuts_path(layout, p, partitions)
        )
        for p in range(partitions)
    ]
    found = executor.map(run_partition, jobs, "paragraphs")
    cuts = tuple(job.out for job in jobs)
    edits = [EditJob(t, i, config, layout.root, cuts) for i, t in enumerate(mine)]
    edited = executor.map(run_edit, edits, "paragraph edits")
    for t in tasks:  # a source paragraph dedup does not cover has no edits
        if not para.applies_to(t.source):
            fs.remove(_edits_path(layout, t))
    info = _summary(layout, mine, found, edited, para)
    write_json_atomic({"fingerprint": fingerprint, "info": info}, marker_path)
    return info


def _input_order(config: Config, layout: Layout, task: MapTask) -> tuple[int, str]:
    """Where a file's units stand in input order: its path, as the document dedup's ``keep:
    first``; with ``keep: source_priority`` the listed sources first, in their order (so a
    paragraph's copy is kept where the document dedup keeps the document's)."""
    dedup = config.dedup
    rank = 0
    if dedup is not None and dedup.keep == "source_priority" and dedup.source_priority:
        listed = dedup.source_priority
        rank = listed.index(task.source) if task.source in listed else len(listed)
    return rank, _units_path(layout, task)


def _remove_stale(layout: Layout, partitions: int) -> None:
    folder = layout.file("dedup", "paragraphs")
    for name in fs.listdir(folder):
        stale = name.startswith("cuts-") and not name.endswith(f"-of-{partitions:04d}.parquet")
        if stale or TEMPORARY_INFIX in name:
            fs.remove(fs.join(folder, name))


def _summary(
    layout: Layout,
    tasks: list[MapTask],
    found: list[dict[str, Any]],
    edited: list[dict[str, Any]],
    para: ParagraphConfig,
) -> dict[str, Any]:
    """Units and characters cut per source, documents edited and emptied, the most repeated
    units (their first copy's text, truncated)."""
    units_cut: Counter = Counter()
    chars_cut: Counter = Counter()
    docs_edited: Counter = Counter()
    docs_emptied: Counter = Counter()
    for f in found:
        for t, n, c in zip(tasks, f["cut_units"], f["cut_chars"], strict=True):
            units_cut[t.source] += n
            chars_cut[t.source] += c
    for t, e in zip(tasks, edited, strict=True):
        docs_edited[t.source] += e["edited"]
        docs_emptied[t.source] += e["emptied"]
    top = sorted(
        (u for f in found for u in f["top"]),
        key=lambda u: (-u["copies"], u["file"], u["row"], u["unit"]),
    )[: para.examples]
    examples = []
    for u in top:
        task = tasks[u["file"]]
        text = fs.read_table(layout.staged(task.source, task.part), columns=["text"])
        unit = split_units(text.column("text")[u["row"]].as_py(), para.unit)[0][u["unit"]]
        short = unit if len(unit) <= EXAMPLE_CHARS else unit[: EXAMPLE_CHARS - 1] + "\u2026"
        examples.append(
            {"copies": u["copies"], "chars": u["chars"], "source": task.source, "text": short}
        )
    return {
        "enabled": True,
        **para.to_dict(),
        "partitions": len(found),
        "units": int(sum(f["units"] for f in found)),
        "units_cut": int(sum(units_cut.values())),
        "chars_cut": int(sum(chars_cut.values())),
        "units_cut_per_source": dict(sorted(units_cut.items())),
        "chars_cut_per_source": dict(sorted(chars_cut.items())),
        "docs_edited_per_source": dict(sorted(docs_edited.items())),
        "docs_emptied_per_source": dict(sorted(docs_emptied.items())),
        "most_repeated": examples,
    }
