"""Run step tasks as Ray tasks: ``cleanpipe run CONFIG --executor ray [--ray-address ADDR]``.

The runner's steps are plain top-level functions of picklable tuples that read and write
files under the output folder, so each item becomes one Ray task (1 CPU) that gets paths,
never data: inputs and outputs live on a filesystem every node mounts at the same path (see
docs/scale-out.md). Only the small per-task stats dicts travel back to the driver.

Ray is optional: ``pip install "cleanpipe[ray]"``. It is imported when a
:class:`RayExecutor` is made, never by ``import cleanpipe``.
"""

from __future__ import annotations

import logging
import os
import socket
import sys
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any, TypeVar

from cleanpipe.errors import RunError
from cleanpipe.executors.local import FORWARDED_ENV_PREFIX, make_progress

T = TypeVar("T")
R = TypeVar("R")

INSTALL_HINT = 'the Ray executor needs Ray: pip install "cleanpipe[ray]"'
#: object store of a local Ray instance: tasks exchange paths and small stats dicts only.
DEFAULT_OBJECT_STORE_MEMORY = 200 * 1024**2
#: Ray's notice that a new local instance uses token authentication (Ray >= 2.5x); it is
#: the safe default, so a local run does not print it.
_AUTH_NOTICE_LOGGER = "ray._private.authentication.authentication_token_setup"


def import_ray() -> ModuleType:
    """``import ray``, or a :class:`~cleanpipe.errors.RunError` saying how to install it."""
    try:
        import ray
    except ImportError as err:
        raise RunError(INSTALL_HINT) from err
    return ray


def _call_in_driver_cwd(fn: Callable[[T], R], item: T, cwd: str, env: dict[str, str]) -> R:
    """Runs on a Ray worker: ``fn(item)`` from the driver's working directory, with its
    ``CLEANPIPE_*`` variables, so relative input globs and output paths resolve as they do
    on the driver (the shared filesystem is mounted at the same path on every node)."""
    try:
        here: str | None = os.getcwd()
    except OSError:  # the worker's directory was removed
        here = None
    if here != cwd:
        try:
            os.chdir(cwd)
        except OSError as err:
            raise RunError(
                f"the driver's working directory {cwd} does not exist on Ray node "
                f"{socket.gethostname()}: input and output paths must be on a filesystem "
                "mounted at the same path on every node (see docs/scale-out.md)"
            ) from err
    os.environ.update(env)
    return fn(item)


def _add_note(err: BaseException, note: str) -> None:
    if sys.version_info >= (3, 11):
        err.add_note(note)


class RayExecutor:
    """Runs a step's tasks as Ray tasks, one task (1 CPU) per item.

    ``address`` is that of a running cluster (``"auto"``, ``"HOST:6379"`` from a cluster
    node, or ``"ray://HOST:10001"`` for Ray Client); ``None`` starts a new local Ray instance
    with ``num_cpus`` CPUs (default: all), even when ``RAY_ADDRESS`` is set or a cluster runs
    on this machine: pass ``"auto"`` to use those. If Ray is already initialised in this process (a
    notebook, a test), that connection is used and left open by :meth:`close`.

    A task whose worker dies (node lost, out of memory) is retried up to ``max_retries``
    times: tasks write atomically, so a retry is safe. An exception raised by a task is
    deterministic, so it is not retried; it is re-raised in the driver as the original
    exception (same type and message; the remote traceback is chained to it).
    """

    def __init__(
        self,
        address: str | None = None,
        num_cpus: int | None = None,
        progress: bool = True,
        *,
        max_retries: int = 3,
        object_store_memory: int | None = DEFAULT_OBJECT_STORE_MEMORY,
        log_to_driver: bool = False,
    ) -> None:
        if address is not None and num_cpus is not None:
            raise ValueError(
                "num_cpus applies to a local Ray instance; a cluster's CPUs are set where "
                "it is started (ray start --num-cpus N)"
            )
        ray = import_ray()
        self._ray = ray
        self.address = address
        self.progress_enabled = progress
        self.max_retries = max_retries
        self._remote: Any = None
        self._owns_connection = not ray.is_initialized()
        if not self._owns_connection:
            return
        # before init: no usage-stats prompt or upload (clusters keep their own setting)
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
        options: dict[str, Any] = {
            "logging_level": logging.WARNING,
            "log_to_driver": log_to_driver,
        }
        try:
            if address is None:
                logging.getLogger(_AUTH_NOTICE_LOGGER).setLevel(logging.ERROR)
                ray.init(
                    address="local",  # a new instance even if one was found on this machine
                    num_cpus=num_cpus,
                    object_store_memory=object_store_memory,
                    include_dashboard=False,
                    **options,
                )
            else:
                ray.init(address=address, **options)
        except ConnectionError as err:
            reason = str(err).rstrip(".")
            raise RunError(
                f"cannot connect to a Ray cluster at {address!r}: {reason}. Start one with "
                "`ray start --head`, or leave out --ray-address to run on a local Ray instance"
            ) from err

    @property
    def cluster_cpus(self) -> int:
        """CPUs of the cluster (or local instance) right now: at most this many tasks run at
        once."""
        return int(self._ray.cluster_resources().get("CPU", 0))

    def _remote_call(self) -> Any:
        if self._remote is None:
            self._remote = self._ray.remote(num_cpus=1, max_retries=self.max_retries)(
                _call_in_driver_cwd
            )
        return self._remote

    def map(self, fn: Callable[[T], R], items: Sequence[T], description: str) -> list[R]:
        """``[fn(item) for item in items]`` as Ray tasks, with a progress bar; results keep
        the order of ``items`` whatever order the tasks finish in. The first failure cancels
        the tasks not yet finished and is raised."""
        results: list[Any] = [None] * len(items)
        if not items:
            return results
        ray = self._ray
        remote = self._remote_call()
        cwd = os.getcwd()
        env = {k: v for k, v in os.environ.items() if k.startswith(FORWARDED_ENV_PREFIX)}
        index = {remote.remote(fn, item, cwd, env): i for i, item in enumerate(items)}
        pending = list(index)
        with make_progress(self.progress_enabled) as progress:
            bar = progress.add_task(description, total=len(items))
            try:
                while pending:
                    # block for one, then sweep up every other finished task in one call
                    ready, pending = ray.wait(pending, num_returns=1)
                    if pending:
                        more, pending = ray.wait(pending, num_returns=len(pending), timeout=0)
                        ready += more
                    for ref in ready:
                        results[index[ref]] = self._result(ref, index[ref], len(items), description)
                        progress.advance(bar)
            except BaseException:
                for ref in pending:
                    try:
                        ray.cancel(ref)
                    except Exception:  # noqa: BLE001 - best effort while failing
                        pass
                raise
        return results

    def _result(self, ref: Any, i: int, n: int, description: str) -> Any:
        """A task's result, or its failure as the original exception where possible."""
        ray = self._ray
        where = f"in Ray task {i + 1} of {n} of step {description!r}"
        try:
            return ray.get(ref)
        except ray.exceptions.RayTaskError as err:
            cause = getattr(err, "cause", None)
            if isinstance(cause, BaseException) and not isinstance(cause, ray.exceptions.RayError):
                _add_note(cause, where)
                raise cause from err  # err's message holds the remote traceback
            raise
        except ray.exceptions.RayError as err:  # worker or node died after all retries, OOM
            raise RunError(
                f"{where}: {type(err).__name__}: {err}\nrerun the same command to resume: "
                "finished tasks are kept"
            ) from err

    def close(self, wait: bool = True) -> None:
        """Shut down the local Ray instance this executor started, or disconnect from the
        cluster it connected to; a Ray connection made by someone else is left open.
        (``wait`` is for symmetry with the local pool: unfinished tasks were cancelled.)"""
        if self._owns_connection and self._ray.is_initialized():
            self._ray.shutdown()
        self._owns_connection = False
        self._remote = None

    def __enter__(self) -> RayExecutor:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
