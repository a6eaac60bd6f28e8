"""The output folder between runs: one run at a time (a lock), what an earlier or killed run
left (stale task files, temporary files, shards of another shard count), ``--force``."""

from __future__ import annotations

import fcntl
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager

from cleanpipe.errors import RunError
from cleanpipe.io import fs
from cleanpipe.io.layout import (
    LOCK_FILE,
    ROOT_FILES,
    STEP_FOLDERS,
    TEMPORARY_INFIX,
    Layout,
    part_name,
)
from cleanpipe.runner.tasks import MapTask, read_marker


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
    with open(os.path.join(root, LOCK_FILE), "a+") as fh:
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


def prepare_output_folder(root: str, force: bool) -> None:
    """Remove what a killed run left at the top; with ``force`` everything a run wrote.

    An earlier run of another config is fine: each task's marker says what it was made
    from, and only tasks whose inputs are unchanged are reused. A folder that is not a
    cleanpipe output folder is never written into.
    """
    layout = Layout(root)
    for name in fs.listdir(root):
        # <file>.tmp-<pid>-<random>: left by a killed run (we hold the lock)
        if TEMPORARY_INFIX in name and name.split(TEMPORARY_INFIX, 1)[0] in ROOT_FILES:
            fs.remove(layout.file(name))
    if force:
        for sub in STEP_FOLDERS:
            fs.rmtree(layout.file(sub))
        for name in ROOT_FILES:
            fs.remove(layout.file(name))
        return
    if read_marker(layout.file("manifest.json")) is None and fs.isdir(root):
        known = {*STEP_FOLDERS, "plan.json", LOCK_FILE}
        if not set(fs.listdir(root)) <= known:
            raise RunError(
                f"{root} exists and is not a cleanpipe output folder; choose another "
                "--output or empty it"
            )


def remove_stale_task_files(layout: Layout, tasks: list[MapTask]) -> None:
    """Files of tasks that no longer exist (a source or input file removed from the config)
    would otherwise be read by the barrier or shown in rejects; and temporary files of a
    killed run (we hold the lock: no one else writes)."""
    current = {(t.source, part_name(t.part)) for t in tasks}
    for step in ("staging", "rejects", "routing"):
        for source in fs.listdir(layout.file(step)):
            for name in fs.listdir(layout.file(step, source)):
                if (source, name.split(".", 1)[0]) not in current or TEMPORARY_INFIX in name:
                    fs.remove(layout.file(step, source, name))


def remove_stale_shards(layout: Layout) -> None:
    """Every shard and token file of an earlier run goes before the shard step writes its
    own (it always rewrites them all): shards of another shard count would mix with the new
    ones, and after a shard step that failed midway, old shards of the same count would sit
    beside new ones and pass for this run's. Also when this run writes no token files: an
    old tokens/ must not pass for this one's. Temporary files of a killed run go too."""
    fs.rmtree(layout.data)
    fs.rmtree(layout.tokens)
