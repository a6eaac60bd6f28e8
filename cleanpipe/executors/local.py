"""Run step tasks in a local process pool (the default executor)."""

from __future__ import annotations

import importlib
import multiprocessing
import os
import signal
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from typing import Any, TypeVar

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

T = TypeVar("T")
R = TypeVar("R")


def default_workers() -> int:
    return os.cpu_count() or 1


def make_progress(enabled: bool) -> Progress:
    return Progress(
        TextColumn("{task.description:<10}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        disable=not enabled,
        transient=False,
    )


#: environment variables of the driver that every task sees too (CLEANPIPE_LID_MODEL, the
#: plugin path ...): workers start before the driver has read its config.
FORWARDED_ENV_PREFIX = "CLEANPIPE_"


def _import_modules(names: tuple[str, ...]) -> None:
    for name in names:
        importlib.import_module(name)


def arrow_without_pandas() -> None:
    """Keep pyarrow from importing pandas in this process (0.3-0.4 s, more than all of
    cleanpipe's own imports) when pandas is installed but nothing here uses it.

    pyarrow imports pandas the first time it converts Python data (``pa.array(list)``) to
    ask whether the data is a pandas object. It asks once: with pandas hidden for that one
    question, it remembers "no pandas" and never imports it for such checks. Explicit pandas
    calls (``Table.to_pandas``) still import it. Only for processes cleanpipe owns (the CLI
    driver, pool workers), where no pandas objects are converted; not when pandas is already
    imported (a library caller's process)."""
    if "pandas" in sys.modules:
        return
    import pyarrow as pa

    sys.meta_path.insert(0, _NoPandas)
    try:
        pa.array([0])
    finally:
        sys.meta_path.remove(_NoPandas)


class _NoPandas:
    """A finder that makes ``import pandas`` fail (pyarrow's Cython import does not honour
    ``sys.modules["pandas"] = None``)."""

    @staticmethod
    def find_spec(name: str, *args: Any) -> None:
        if name == "pandas":
            raise ModuleNotFoundError("pandas hidden from pyarrow's first check", name=name)


def _init_worker() -> None:
    """Worker initializer: Ctrl-C goes to the whole process group, but only the driver acts
    on it (it stops the workers), so no worker prints a traceback; and no pandas."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    arrow_without_pandas()


def forwarded_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k.startswith(FORWARDED_ENV_PREFIX)}


def _call_with_env(fn: Callable[[T], R], item: T, env: dict[str, str]) -> R:
    """Runs in a worker: ``fn(item)`` with the driver's ``CLEANPIPE_*`` variables."""
    os.environ.update(env)
    return fn(item)


class LocalExecutor:
    """Runs a step's tasks on ``workers`` processes; ``workers=1`` runs them in this process.

    Workers are started with ``spawn`` (a clean interpreter: no locks inherited from the
    driver's progress thread) and reused by every step of a run. They ignore Ctrl-C: the
    driver gets the ``KeyboardInterrupt`` and stops them (:meth:`close` with ``wait=False``).
    """

    def __init__(self, workers: int | None = None, progress: bool = True) -> None:
        self.workers = max(1, workers or default_workers())
        self.progress_enabled = progress
        self._pool: ProcessPoolExecutor | None = None
        self._pool_used = False  # has the pool run a task (not just start()'s imports)?
        self._busy = False  # may a worker still be running a task of a failed map?

    def _get_pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_init_worker,
            )
        return self._pool

    def start(self, preload: Sequence[str] = ()) -> None:
        """Start the workers now and have each import ``preload`` (module names), so that
        their start-up (~0.5 s of imports each) overlaps with whatever the driver does
        before its first step, instead of delaying that step."""
        if self.workers > 1:
            pool = self._get_pool()
            for _ in range(self.workers):
                pool.submit(_import_modules, tuple(preload))

    def map(self, fn: Callable[[T], R], items: Sequence[T], description: str) -> list[R]:
        """``[fn(item) for item in items]``, in parallel, with a progress bar; results keep the
        order of ``items`` whatever order the tasks finish in."""
        results: list[Any] = [None] * len(items)
        if not items:
            return results
        with make_progress(self.progress_enabled) as progress:
            bar = progress.add_task(description, total=len(items))
            if self.workers == 1 or len(items) == 1:
                self._stop_idle_workers()
                for i, item in enumerate(items):
                    results[i] = fn(item)
                    progress.advance(bar)
                return results
            pool = self._get_pool()
            self._pool_used = True
            env = forwarded_env()
            self._busy = True
            futures: dict[Future[R], int] = {
                pool.submit(_call_with_env, fn, item, env): i for i, item in enumerate(items)
            }
            try:
                for future in as_completed(futures):
                    results[futures[future]] = future.result()
                    progress.advance(bar)
            except KeyboardInterrupt:
                # the workers ignore Ctrl-C: stop them now rather than after their tasks
                # (not cancelling the futures first: the pool marks them failed itself)
                self.close(wait=False)
                raise
            except BaseException:
                for future in futures:
                    future.cancel()
                raise
            self._busy = False
        return results

    def _stop_idle_workers(self) -> None:
        """Stop workers that have only run :meth:`start`'s imports before a task runs in this
        process: on 2 cores they took CPU from it (a one-file run never uses them; a later
        step with several tasks starts the pool again)."""
        if self._pool is not None and not self._pool_used:
            self.close(wait=False)

    def close(self, wait: bool = True) -> None:
        """Shut the workers down; ``wait=False`` stops them at once, even in the middle of
        :meth:`start`'s imports (a config error should not wait for them).

        Workers with no task (every result is in) are stopped at once too: a worker's own
        exit (interpreter teardown of its modules and caches) took 0.5-1.6 s of a 2,700-document
        run's wall, and an idle worker has nothing left to finish (task outputs are written
        atomically before their result is sent)."""
        if self._pool is not None:
            if not wait or not self._busy:
                # ProcessPoolExecutor has no public way to stop a busy worker before 3.14
                for process in list(getattr(self._pool, "_processes", {}).values()):
                    process.terminate()
            self._pool.shutdown(wait=wait, cancel_futures=True)
            self._pool = None

    def __enter__(self) -> LocalExecutor:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
