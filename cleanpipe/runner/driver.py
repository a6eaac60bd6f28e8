"""One run, in flow order: map -> barrier (dedup, mixture plan) -> route -> shard -> report.

See DESIGN.md "Flow of one run". The driver handles lists of files and per-task summaries;
the work happens in the step modules' task functions, run by an executor (a local process
pool or Ray). A failed run still writes its report, with the error in it.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

import cleanpipe.runner.barrier as barrier
from cleanpipe import __version__
from cleanpipe.config import Config
from cleanpipe.errors import PlanError, RunError
from cleanpipe.executors.base import Executor
from cleanpipe.executors.local import LocalExecutor
from cleanpipe.hashing import fingerprint
from cleanpipe.io import fs
from cleanpipe.io.layout import Layout
from cleanpipe.io.writers import write_json_atomic
from cleanpipe.mixture import plan_mixture
from cleanpipe.report.build import build_report, write_reports
from cleanpipe.runner.folder import (
    output_lock,
    prepare_output_folder,
    remove_stale_shards,
    remove_stale_task_files,
)
from cleanpipe.runner.map import run_map_task
from cleanpipe.runner.paragraphs import run_paragraphs
from cleanpipe.runner.route import run_route_task
from cleanpipe.runner.shard import run_shard_task, token_manifest
from cleanpipe.runner.tasks import (
    MARKER_FORMAT,
    MapJob,
    RouteJob,
    ShardJob,
    finished,
    map_fingerprint,
    map_tasks,
    package_versions,
)

#: packages whose versions the manifest records (they shape the output).


@dataclass
class RunResult:
    out: str
    report: dict[str, Any]
    map_tasks: int
    map_tasks_skipped: int
    seconds: float


def run(
    config: Config,
    *,
    workers: int | None = None,
    force: bool = False,
    strict: bool = False,
    progress: bool = True,
    executor: Executor | None = None,
) -> RunResult:
    """Run the whole job described by ``config``; returns the report and what was reused.

    ``strict`` turns bad input records (which otherwise go to ``rejects/``) into a failure
    after the map step. ``executor`` defaults to a :class:`LocalExecutor` of ``workers``.
    """
    root = config.output.path
    with output_lock(root):
        prepare_output_folder(root, force)
        own = executor is None
        runner = executor or LocalExecutor(workers, progress=progress)
        try:
            return _Run(config, runner).run(strict)
        finally:
            if own:
                runner.close()


class _Run:
    """The steps of one run over one output folder."""

    def __init__(self, config: Config, executor: Executor) -> None:
        self.config, self.executor = config, executor
        self.layout = Layout(config.output.path)
        self.started = time.perf_counter()
        self.tasks = map_tasks(config)
        self.fingerprints = {t.name: map_fingerprint(t, config) for t in self.tasks}
        self.manifest = {
            "config_fingerprint": config.fingerprint(),
            "config": config.to_dict(),
            "config_path": config.path,
            "seed": config.seed,
            "cleanpipe_version": __version__,
            "versions": package_versions(),
        }

    def run(self, strict: bool) -> RunResult:
        write_json_atomic(self.manifest, self.layout.file("manifest.json"))
        map_stats, reused = self.map()
        written = barrier.rows_written(self.layout, self.tasks)
        try:
            if strict:
                _fail_on_bad_records(map_stats)
            parts = self.after_map(map_stats)
        except (RunError, PlanError) as err:
            # a failed run still says what happened: `cleanpipe report OUT` shows the cause
            failed = {"dedup_info": None, "plan": None, "route_stats": None, "shard_stats": []}
            report = self.report(map_stats, written, reused, **failed, error=str(err))
            write_reports(report, self.layout.root)
            raise
        report = self.report(map_stats, written, reused, **parts)
        write_reports(report, self.layout.root)
        seconds = time.perf_counter() - self.started
        return RunResult(self.layout.root, report, len(self.tasks), reused, seconds)

    def map(self) -> tuple[list[dict[str, Any]], int]:
        """The map step; returns every task's stats (reused or fresh) and how many were reused."""
        layout, tasks = self.layout, self.tasks
        remove_stale_task_files(layout, tasks)
        marker = lambda t: layout.staged(t.source, t.part, "done.json")  # noqa: E731
        done = finished(tasks, marker, self.fingerprints)
        reused = len(done)
        todo = [
            MapJob(t, self.config, layout.root, self.fingerprints[t.name])
            for t in tasks
            if t.name not in done
        ]
        for stats in self.executor.map(run_map_task, todo, "map"):
            done[stats["task"]] = stats
        return [done[t.name] for t in tasks], reused

    def after_map(self, map_stats: list[dict[str, Any]]) -> dict[str, Any]:
        """Barrier, route and shard; returns the report's parts."""
        config, layout, tasks = self.config, self.layout, self.tasks
        inputs = barrier.dedup_inputs(config, [self.fingerprints[t.name] for t in tasks])
        dedup_fp = fingerprint(inputs)
        # document dedup (URL, exact, near) decides on the staged text; paragraph dedup then
        # runs over the documents it kept, so a paragraph's kept copy is never in a removed
        # document; its edits are what the route step writes and the mixture counts (executor
        # tasks: one per hash partition, one per file)
        dedup_info = barrier.run_dedup(config, layout, tasks, dedup_fp)
        paragraphs = run_paragraphs(config, layout, tasks, dedup_fp, self.executor)
        if dedup_info.get("enabled") or paragraphs["enabled"]:
            dedup_info = {**dedup_info, "enabled": True, "paragraphs": paragraphs}
        hashes, tokens = barrier.surviving_hashes(config, layout.root, tasks)
        barrier.check_sources_left(config, layout, tasks, map_stats, tokens)
        plan = plan_mixture(config, hashes, tokens)
        shards = barrier.shard_layout(config, plan, map_stats)
        barrier_fp = fingerprint(
            [dedup_fp, plan.to_dict(), shards.shards, shards.slices, config.seed, MARKER_FORMAT]
        )
        write_json_atomic(
            {
                "fingerprint": barrier_fp,
                "n_shards": shards.shards,
                "slices_per_shard": shards.slices,
                **plan.to_dict(),
            },
            layout.file("plan.json"),
        )

        same = {t.name: barrier_fp for t in tasks}
        marker = lambda t: layout.routed(t.source, t.part, "done.json")  # noqa: E731
        routed = finished(tasks, marker, same)
        todo = [
            RouteJob(t, config, layout.root, plan.to_dict(), shards, barrier_fp)
            for t in tasks
            if t.name not in routed
        ]
        for stats in self.executor.map(run_route_task, todo, "route"):
            routed[stats["task"]] = stats

        # shard: cheap next to map, so always rewritten from the routed rows
        remove_stale_shards(layout)
        paths = tuple(layout.routed(t.source, t.part) for t in tasks)
        metadata = {
            "cleanpipe.version": __version__,
            "cleanpipe.seed": str(config.seed),
            "cleanpipe.config_fingerprint": config.fingerprint(),
        }
        jobs = [
            ShardJob(s, shards, paths, config, layout.root, metadata) for s in range(shards.shards)
        ]
        shard_stats = self.executor.map(run_shard_task, jobs, "shards")
        if config.output.token_files != "none":
            write_json_atomic(token_manifest(config, shard_stats), layout.tokens_manifest)
        return {
            "dedup_info": dedup_info,
            "plan": plan,
            "route_stats": [routed[t.name] for t in tasks],
            "shard_stats": shard_stats,
            "repeated_ids": barrier.repeated_ids(layout, tasks),
        }

    def report(self, map_stats: list, written: dict, reused: int, **parts: Any) -> dict:
        """report.json of this run (``parts``: what the steps after the map produced)."""
        layout, tasks = self.layout, self.tasks

        def collected(source: str) -> Any:  # folded one task at a time
            for t, stats in zip(tasks, map_stats, strict=True):
                if t.source == source:
                    signals = fs.read_table(layout.staged(t.source, t.part, "signals.parquet"))
                    yield stats["collected"], signals

        report = build_report(
            self.config,
            map_stats,
            manifest=self.manifest,
            collected=collected,
            written=written,
            **parts,
        )
        report["run"]["map_tasks"] = len(tasks)
        report["run"]["map_tasks_reused"] = reused
        report["run"]["seconds"] = round(time.perf_counter() - self.started, 2)
        return report


def _fail_on_bad_records(map_stats: list[dict[str, Any]]) -> None:
    bad: Counter = Counter()
    for stats in map_stats:
        bad.update({k: v for k, v in stats["read"].items() if k.startswith("read:")})
    if bad:
        listing = ", ".join(f"{k.removeprefix('read:')} {v}" for k, v in sorted(bad.items()))
        raise RunError(
            f"--strict: {sum(bad.values())} bad input records ({listing}); see rejects/ for "
            "each one's file, line and reason"
        )


__all__ = ["RunResult", "run"]
