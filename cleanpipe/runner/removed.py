"""What the document dedup removed, read back per map task from ``dedup/removed.parquet``.

Its own module because both later steps need it: the paragraph-dedup partitions (which
leave removed documents out, so a paragraph's kept copy is never in a document that is
gone) and the route step.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from cleanpipe.io import fs
from cleanpipe.io.layout import Layout
from cleanpipe.runner.tasks import MapTask


def signature_file(layout: Layout, task: MapTask) -> str:
    """The task's signature file relative to the output folder: the ``file`` of its drops
    in dedup/removed.parquet (relative, so a moved or copied output folder still works)."""
    return layout.relative(layout.staged(task.source, task.part, "sig.parquet"))


@dataclass(frozen=True)
class Removed:
    """A map task's staged rows that dedup removed: positions in the staged file (ascending)
    and each one's reason (``url``, ``exact``, ``near``, ``paragraphs_emptied``)."""

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
    """The staged rows of a map task that the document dedup removed. Only this task's drops
    are read: a task's memory does not grow with the duplicates of the whole source."""
    layout = Layout(root)
    if not fs.exists(layout.removed):
        return Removed(np.empty(0, np.int64), [])
    mine = [("file", "==", signature_file(layout, task))]
    table = fs.read_table(layout.removed, columns=["row", "reason"], filters=mine)
    table = table.sort_by("row")
    return Removed(table.column("row").to_numpy(), table.column("reason").to_pylist())
