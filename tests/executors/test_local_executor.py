"""The local process pool: workers started early, and stopped at once when a run cannot go on."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from cleanpipe.executors.local import LocalExecutor


def test_workers_started_early_run_the_tasks_in_order() -> None:
    with LocalExecutor(workers=2, progress=False) as pool:
        pool.start(preload=["cleanpipe.runner"])
        assert pool.map(abs, [-3, 1, -2, 5], "test") == [3, 1, 2, 5]


def test_close_without_waiting_stops_workers_in_the_middle_of_their_imports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a module whose import takes a minute: a worker busy with it must still stop at once
    (tmp_path / "slow_to_import_for_test.py").write_text("import time\ntime.sleep(60)\n")
    monkeypatch.syspath_prepend(str(tmp_path))  # spawned workers get the parent's sys.path
    pool = LocalExecutor(workers=2, progress=False)
    pool.start(preload=["slow_to_import_for_test"])
    pids = list(pool._pool._processes)  # type: ignore[union-attr]
    assert len(pids) == 2
    pool.close(wait=False)
    # by pid: the pool's own thread reaps the workers, so Process.is_alive() can't tell
    deadline = time.monotonic() + 20  # far below the minute the imports would take
    while any(_running(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_running(pid) for pid in pids)


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ")[1][0] not in "ZX"  # a zombie has stopped
    except (FileNotFoundError, ProcessLookupError):  # gone (between open and read: ESRCH)
        return False


def test_one_worker_starts_no_processes() -> None:
    pool = LocalExecutor(workers=1, progress=False)
    pool.start(preload=["cleanpipe.runner"])
    assert pool._pool is None
    assert pool.map(abs, [-1], "test") == [1]


def _variable(name: str) -> str | None:
    return os.environ.get(name)


def _ignores_ctrl_c(_: int) -> bool:
    return signal.getsignal(signal.SIGINT) is signal.SIG_IGN


def test_tasks_see_cleanpipe_variables_set_after_the_workers_started(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # the CLI starts the workers before it reads the config (which sets the plugin path)
    with LocalExecutor(workers=2, progress=False) as pool:
        pool.start(preload=["cleanpipe.runner"])
        monkeypatch.setenv("CLEANPIPE_PLUGIN_PATH", "/srv/project")
        names = ["CLEANPIPE_PLUGIN_PATH"] * 4
        assert pool.map(_variable, names, "test") == ["/srv/project"] * 4


def test_workers_ignore_ctrl_c_the_driver_stops_them() -> None:
    with LocalExecutor(workers=2, progress=False) as pool:
        assert pool.map(_ignores_ctrl_c, [1, 2, 3], "test") == [True] * 3


def _exited(pid: int, timeout: float = 60.0) -> bool:
    """Whether process ``pid`` has ended (gone, or a zombie not yet reaped). Not
    ``Process.join``: the pool's own thread may reap the worker first, and then ``join`` waits
    out its timeout and ``is_alive`` stays true (multiprocessing's poll swallows ECHILD)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/stat") as fh:
                state = fh.read().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            return True
        if state in ("Z", "X"):
            return True
        time.sleep(0.05)
    return False


def test_a_step_of_one_task_stops_idle_workers_and_a_later_step_starts_them_again() -> None:
    with LocalExecutor(workers=2, progress=False) as pool:
        pool.start(preload=["cleanpipe.runner"])
        started = list(pool._pool._processes.values())  # type: ignore[union-attr]
        # one task runs in this process: the workers, which only ran start()'s imports,
        # would take the cores from it, so they are stopped
        assert pool.map(abs, [-7], "one") == [7]
        assert pool._pool is None
        for process in started:
            assert _exited(process.pid)
        # a step of several tasks starts workers again, and then they stay for the next step
        assert pool.map(abs, [-1, -2, -3], "several") == [1, 2, 3]
        again = pool._pool
        assert again is not None
        assert pool.map(abs, [-4], "one again") == [4]
        assert pool._pool is again


def test_close_after_a_finished_step_does_not_wait_for_the_workers_own_exit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # workers whose interpreter exit takes a minute (an atexit hook standing in for the
    # teardown of big modules and caches): with every result in, close() stops them at once
    (tmp_path / "slow_to_exit_for_test.py").write_text(
        "import atexit, time\natexit.register(time.sleep, 60)\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    pool = LocalExecutor(workers=2, progress=False)
    pool.start(preload=["slow_to_exit_for_test"])
    assert pool.map(abs, [-1, -2, -3, -4], "test") == [1, 2, 3, 4]
    pids = list(pool._pool._processes)  # type: ignore[union-attr]
    closed = time.monotonic()
    pool.close()
    assert time.monotonic() - closed < 30  # far below the minute each exit would take
    assert not any(_running(pid) for pid in pids)
