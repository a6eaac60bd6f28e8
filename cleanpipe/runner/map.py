"""The map step: one task per input file (or group of text files) of one source.

Read -> the source's stages -> staged Parquet, with dedup signatures beside it, every drop
and bad record in rejects/, and the task's stats in its marker. Every staged row carries its
origin (input file, record position): the identity the later steps key on, since users'
ids repeat.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

from cleanpipe.config import SourceConfig
from cleanpipe.dedup.paragraphs import UNIT_SCHEMA, unit_table
from cleanpipe.dedup.signatures import dedup_signatures, signature_schema
from cleanpipe.document import Document
from cleanpipe.errors import RunError
from cleanpipe.io import fs
from cleanpipe.io.layout import Layout
from cleanpipe.io.readers import BadRecord, ReadOptions, Skipped, read_input
from cleanpipe.io.rejects import RejectsWriter
from cleanpipe.io.writers import (
    STAGED_SCHEMA,
    AtomicParquetWriter,
    staged_table,
    write_json_atomic,
    write_table_atomic,
)
from cleanpipe.report.samples import SignalCollector
from cleanpipe.runner.tasks import MapJob, MapTask, returns_memory
from cleanpipe.stages.base import Stage, batched
from cleanpipe.tokens import TokenEstimator

#: documents per batch between stages, tokenizer and writer in a map task.
MAP_BATCH = 512


class Origins:
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


class _MapState:
    """What one map task accumulates besides its output rows."""

    def __init__(self, job: MapJob) -> None:
        layout = Layout(job.root)
        task, config = job.task, job.config
        self.rejects = RejectsWriter(layout.rejects(task.source, task.part), task.source)
        self.read: Counter = Counter()
        #: records that are no documents (a crawler's requests, images ...), by reason
        self.skipped: Counter = Counter()
        self.kept: Counter = Counter()
        self.collector = SignalCollector()
        self.origins = Origins()
        mixture = config.mixture
        self.counter = TokenEstimator(mixture.tokenizer, mixture.token_counting, config.seed)

    def on_drop(self, doc: Document, reason: str, detail: str = "") -> None:
        """The stages' drop sink: the document's own file and position (with lazy stages the
        reader may already be in the next file)."""
        file, position = self.origins.pop(doc) or (None, None)
        location = f"record {position}" if position is not None else ""
        self.rejects.add_dropped(doc, reason, detail, file=file, location=location)
        self.collector.observe(doc, reason, key=f"{file}:{position}")


def _documents(task: MapTask, source: SourceConfig, state: _MapState) -> Iterator[Document]:
    """Documents of the task's files; bad records go to rejects and are counted, records
    that are no documents (:class:`Skipped`) are only counted."""
    options = ReadOptions(source.name, source.text_field, source.id_field, source.max_doc_bytes)
    for item in task.files:
        name = fs.display(item.path)
        state.rejects.current_file = name
        for position, record in enumerate(read_input(item, options)):
            if isinstance(record, Skipped):
                state.skipped[record.reason] += 1
                continue
            state.read["records"] += 1
            if isinstance(record, BadRecord):
                reason = f"read:{record.reason}"
                state.read[reason] += 1
                state.rejects.add_bad_record(record)
                state.collector.add_example(reason, record.id, record.raw, f"{name}:{position}")
            else:
                state.read["documents"] += 1
                state.origins.add(record, name, position)
                yield record


def _stage_documents(job: MapJob, docs: Iterator[Document], state: _MapState) -> None:
    """Write the documents that leave the stages, with their origins, token counts and
    (with dedup on) signatures; all files appear together or not at all."""
    layout, task, dedup = Layout(job.root), job.task, job.config.dedup
    signatures = units = None
    if dedup is not None:
        path = layout.staged(task.source, task.part, "sig.parquet")
        signatures = AtomicParquetWriter(path, signature_schema(dedup))
    para = dedup.paragraphs if dedup is not None else None
    if para is not None and para.applies_to(task.source):
        units = AtomicParquetWriter(
            layout.staged(task.source, task.part, "units.parquet"), UNIT_SCHEMA
        )
    writers = [w for w in (signatures, units) if w is not None]
    try:
        with AtomicParquetWriter(layout.staged(task.source, task.part), STAGED_SCHEMA) as out:
            for batch in batched(docs, MAP_BATCH):
                where = state.origins.take(batch)
                # calibration sampling keys on the origin too: ids may repeat
                keys = [f"{file}:{position}" for file, position in where]
                tokens = state.counter.count(keys, [d.text for d in batch])
                out.write(staged_table(batch, tokens, where))
                if units is not None:  # the paragraph hashes, keyed on the staged row
                    units.write(unit_table([d.text for d in batch], state.kept["docs"], para))
                state.kept["docs"] += len(batch)
                state.kept["tokens"] += sum(tokens)
                state.kept["chars"] += sum(len(d.text) for d in batch)
                state.kept["bytes"] += sum(len(d.text.encode("utf-8")) for d in batch)
                for doc, key in zip(batch, keys, strict=True):
                    state.collector.observe(doc, key=key)
                if signatures is not None:
                    signatures.write(dedup_signatures(batch, dedup))
        for writer in writers:
            writer.close()
        state.rejects.close()
    except BaseException:
        for writer in writers:
            writer.abort()
        state.rejects.abort()
        raise


@returns_memory
def run_map_task(job: MapJob) -> dict[str, Any]:
    """Read -> the source's stages -> staged Parquet (+ dedup signatures, rejects, stats)."""
    task, config = job.task, job.config
    layout = Layout(job.root)
    started = time.perf_counter()
    source = config.sources[task.source]
    state = _MapState(job)
    stages: list[Stage] = [spec.build() for spec in source.stages]
    docs: Iterator[Document] = _documents(task, source, state)
    for stage in stages:
        stage.on_drop = state.on_drop
        docs = stage(docs)
    _stage_documents(job, docs, state)
    counter = state.counter
    stats = {
        "task": task.name,
        "source": task.source,
        "part": task.part,
        "fingerprint": job.fingerprint,  # the driver's, so its resume check matches
        "files": [fs.display(f.path) for f in task.files],
        "read": dict(sorted(state.read.items())),
        "skipped": dict(sorted(state.skipped.items())),
        "stages": [stage.stats.to_dict() for stage in stages],
        "stage_extra": {s.name: s.report_extra() for s in stages if s.report_extra()},
        "kept": dict(state.kept),
        "collected": state.collector.to_dict(),
        "token_estimate": counter.stats.to_dict() if counter.mode == "estimate" else None,
        "seconds": round(time.perf_counter() - started, 3),
    }
    # the signal sample (42k values for the Gopher filters) lives beside the marker, not in
    # it: the driver keeps every marker, and folds the samples one file at a time
    signals = state.collector.signal_table()
    write_table_atomic(signals, layout.staged(task.source, task.part, "signals.parquet"))
    write_json_atomic(stats, layout.staged(task.source, task.part, "done.json"))
    return stats


__all__ = ["MAP_BATCH", "Origins", "run_map_task"]
