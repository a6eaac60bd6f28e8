"""Wall time of the sample run on Ray tasks against the local process pool.

    python benchmarks/bench_executors.py [--repeat 2] [--workers 2] [--config CONFIG]
                                         [--ray-address ADDR]

Runs ``configs/mixtures/llama.yaml`` (from the repository root, output to a temporary folder,
``--force`` each time) ``--repeat`` times on each of, in turn:

- ``local``: a fresh ``LocalExecutor(workers)`` per run, as ``cleanpipe run`` does (its worker
  processes start, import and load the models inside the run);
- ``local-warm``: one ``LocalExecutor`` for all runs (workers already warm after the first);
- ``ray``: one ``RayExecutor`` for all runs (a local Ray instance of ``--workers`` CPUs, or
  the cluster at ``--ray-address``); its workers are warm after the first run too.

Ray's start and stop are timed apart: a cluster starts once and serves many runs, while a
one-off ``cleanpipe run --executor ray`` without an address pays start + a cold run + stop.
The shards of every run are compared: all executors must write the same bytes.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from cleanpipe.config import load_config
from cleanpipe.executors.local import LocalExecutor
from cleanpipe.executors.ray import RayExecutor
from cleanpipe.runner import run

REPO = Path(__file__).resolve().parent.parent


def timed_run(config_path: str, out: Path, executor: Any) -> tuple[float, dict[str, str]]:
    config = load_config(config_path, output=str(out))
    started = time.perf_counter()
    run(config, executor=executor, force=True, progress=False)
    seconds = time.perf_counter() - started
    digests = {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted((out / "data").glob("*.parquet"))
    }
    return seconds, digests


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2, help="local workers = Ray CPUs")
    parser.add_argument("--config", default="configs/mixtures/llama.yaml")
    parser.add_argument("--ray-address", default=None)
    args = parser.parse_args()
    os.chdir(REPO)
    tmp = Path(tempfile.mkdtemp(prefix="bench-executors-"))
    load_before = os.getloadavg()[0]
    times: dict[str, list[float]] = {"local": [], "local-warm": [], "ray": []}
    digests: set[tuple[tuple[str, str], ...]] = set()

    def record(name: str, executor: Any) -> None:
        seconds, shards = timed_run(args.config, tmp / name, executor)
        times[name].append(seconds)
        digests.add(tuple(shards.items()))

    try:
        started = time.perf_counter()
        num_cpus = None if args.ray_address else args.workers
        ray_executor = RayExecutor(args.ray_address, num_cpus=num_cpus, progress=False)
        ray_start = time.perf_counter() - started
        warm = LocalExecutor(args.workers, progress=False)
        try:
            for i in range(args.repeat):
                with LocalExecutor(args.workers, progress=False) as local:
                    record("local", local)
                record("local-warm", warm)
                record("ray", ray_executor)
                line = ", ".join(f"{k} {v[-1]:.2f} s" for k, v in times.items())
                print(f"round {i + 1}: {line}", flush=True)
        finally:
            warm.close()
            started = time.perf_counter()
            ray_executor.close()
            ray_stop = time.perf_counter() - started
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    med = {k: statistics.median(v) for k, v in times.items()}
    where = args.ray_address or f"local instance, {args.workers} CPUs"
    print(f"config {args.config}; local pool {args.workers} workers; Ray {where}")
    for name, values in times.items():
        print(f"{name:<11} run median {med[name]:6.2f} s  (runs: {_fmt(values)})")
    print(f"ray start / stop       {ray_start:6.2f} s / {ray_stop:.2f} s")
    ratio = med["ray"] / med["local-warm"]
    print(f"ratio ray / local-warm (both with warm workers): {ratio:.2f}x")
    cold = ray_start + times["ray"][0] + ray_stop
    print(
        f"one-off run: ray start + first run + stop {cold:.2f} s vs local {med['local']:.2f} s: "
        f"{cold / med['local']:.2f}x"
    )
    print(f"shards byte-identical across all runs: {len(digests) == 1}")
    print(f"load average (1 min) before / after: {load_before:.1f} / {os.getloadavg()[0]:.1f}")


def _fmt(values: list[float]) -> str:
    return ", ".join(f"{v:.2f}" for v in values)


if __name__ == "__main__":
    main()
