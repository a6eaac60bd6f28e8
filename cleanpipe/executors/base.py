"""What the runner needs of an executor: run one step's tasks, give the results in order.

Tasks are plain functions of one picklable, typed task description (see
:mod:`cleanpipe.runner.tasks`) that read and write files under the output folder, so any
executor that can call a function elsewhere can run a step: :class:`LocalExecutor` (a
process pool) and :class:`RayExecutor` (Ray tasks) both satisfy this protocol.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class Executor(Protocol):
    """Runs a step's tasks; results keep the order of ``items``."""

    def map(self, fn: Callable[[T], R], items: Sequence[T], description: str) -> list[R]:
        """``[fn(item) for item in items]``, in parallel where it can, showing progress under
        ``description``."""
        ...

    def close(self, wait: bool = True) -> None:
        """Release the workers; ``wait=False`` stops them at once (Ctrl-C, a failed run)."""
        ...
