"""cleanpipe vs datatrove on the same corpus and the same job: throughput and peak memory.

    python benchmarks/harness.py --size 10k                      # both tools, 1 and 2 workers
    python benchmarks/harness.py --size 100k --workers 2 --only cleanpipe
    python benchmarks/harness.py --size 1M --workers 2 --only cleanpipe --llama --timeout 3600
    python benchmarks/harness.py --size 100k --workers 2 --only cleanpipe --profile
    python benchmarks/harness.py --summary                       # tables of every stored result

What it does, in order (everything it writes is under ``benchmarks/.work/``, git-ignored):

1. builds or reuses the corpus of ``--size`` (``benchmarks/corpus.py``: 10k, 100k or 1M
   documents of ~2 KB of real text with near-duplicates and low-quality pages, gzip JSONL
   shards of 10,000 documents, 5,000 for 10k);
2. creates the datatrove virtualenv ``benchmarks/.work/dt-venv`` when it is missing
   (``datatrove[processing]`` + spaCy for its English word tokenizer + pyarrow and orjson for
   Parquet and JSONL; datatrove is never a cleanpipe dependency);
3. for each ``--workers`` N, runs the job with each tool as a subprocess, one after the other
   (so both see the same machine load, as far as a shared machine allows):
   - cleanpipe: ``cleanpipe run benchmarks/configs/bench_gopher_minhash.yaml --workers N``
     (Gopher quality + repetition, MinHash 14 x 8, zstd Parquet, every kept document once);
   - datatrove: ``benchmarks/datatrove_job.py`` in its virtualenv (the same filters, its
     4-stage MinHash, ``ParquetWriter(compression="zstd")``), laid out as datatrove's
     ``examples/fineweb.py`` and ``examples/minhash_deduplication.py``;
   - with ``--llama``: also the full llama-style pipeline ``bench_llama.yaml`` (cleanpipe);
4. measures wall time, documents/s and MB/s (of input text, UTF-8), and the peak memory of
   the whole process tree (the sum of RSS, and of PSS, which counts pages shared between
   forked workers once) by sampling ``/proc`` every 0.2 s (no psutil needed); per step from
   the tools' own markers and logs, per stage from their stats (summed over workers);
5. stores ``results/<size>-<tool>-<job>-w<N>-<time>.json`` and prints Markdown tables with
   the ratio to datatrove of the same run.

``--profile`` runs cleanpipe under ``py-spy record --subprocesses`` (``pip install py-spy``)
and prints the functions with the largest share of samples. ``--timeout S`` stops a run after
S seconds (its process group only) and records how far it got, for an extrapolation.
"""

from __future__ import annotations

import argparse
import glob
import hashlib
import json
import os
import platform
import resource
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import corpus  # noqa: E402  (benchmarks/corpus.py, next to this file)

REPO = corpus.REPO
WORK = corpus.WORK
RESULTS = WORK / "results"
VENV = WORK / "dt-venv"
CONFIGS = REPO / "benchmarks" / "configs"
#: what the datatrove virtualenv gets; DATATROVE_SPEC overrides the first item.
DATATROVE_REQUIREMENTS = [
    os.environ.get("DATATROVE_SPEC", "datatrove[processing]==0.10.1"),
    "spacy",  # GopherQualityFilter / MinHash word tokenizer for English (spaCy's blank "en")
    "pyarrow",  # ParquetWriter
    "orjson",  # JsonlReader
]
JOBS = {"gopher_minhash": "bench_gopher_minhash.yaml", "llama": "bench_llama.yaml"}
PAGE = os.sysconf("SC_PAGE_SIZE")


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# -- memory of a process tree ------------------------------------------------------------


def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as fh:
                stat = fh.read()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(b")") + 2 :].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    return children


def tree_pids(root: int) -> list[int]:
    children = _children_map()
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, []))
    return out


CLK_TCK = os.sysconf("SC_CLK_TCK")


def _cpu_ticks(pid: int) -> int:
    """utime + stime of one process, in clock ticks (0 if it is gone)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            fields = fh.read().rsplit(b")", 1)[1].split()
        return int(fields[11]) + int(fields[12])
    except (OSError, ValueError, IndexError):
        return 0


def _rss_pss(pid: int) -> tuple[int, int]:
    try:
        with open(f"/proc/{pid}/statm", "rb") as fh:
            rss = int(fh.read().split()[1]) * PAGE
        pss = 0
        with open(f"/proc/{pid}/smaps_rollup", "rb") as fh:
            for line in fh:
                if line.startswith(b"Pss:"):
                    pss = int(line.split()[1]) * 1024
                    break
        return rss, pss
    except (OSError, ValueError, IndexError):
        return 0, 0


class TreeSampler(threading.Thread):
    """Samples the summed RSS and PSS of a process and all its descendants."""

    def __init__(self, pid: int, interval: float = 0.2) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.interval = interval
        #: (time, summed RSS, summed PSS, processes, RSS of the largest process)
        self.samples: list[tuple[float, int, int, int, int]] = []
        self._stop_event = threading.Event()
        #: last CPU ticks seen per process of the tree (a process that is never waited for,
        #: like a forkserver's workers, is missing from RUSAGE_CHILDREN but not from here)
        self.cpu_ticks: dict[int, int] = {}

    @property
    def cpu_seconds(self) -> float:
        return sum(self.cpu_ticks.values()) / CLK_TCK

    def run(self) -> None:
        while not self._stop_event.is_set():
            pids = tree_pids(self.pid)
            rss = pss = largest = 0
            for pid in pids:
                r, p = _rss_pss(pid)
                rss += r
                pss += p
                largest = max(largest, r)
                ticks = _cpu_ticks(pid)
                if ticks > self.cpu_ticks.get(pid, 0):
                    self.cpu_ticks[pid] = ticks
            self.samples.append((time.time(), rss, pss, len(pids), largest))
            self._stop_event.wait(self.interval)

    def stop(self) -> None:
        self._stop_event.set()
        self.join()

    def peak(self, start: float | None = None, end: float | None = None) -> dict[str, int]:
        window = [
            s
            for s in self.samples
            if (start is None or s[0] >= start - 0.2) and (end is None or s[0] <= end + 0.2)
        ]
        if not window:
            return {"rss": 0, "pss": 0, "processes": 0, "largest_process_rss": 0}
        return {
            "rss": max(s[1] for s in window),
            "pss": max(s[2] for s in window),
            "processes": max(s[3] for s in window),
            "largest_process_rss": max(s[4] for s in window),
        }


def timeline(sampler: TreeSampler, start: float, points: int = 200) -> list[list[float]]:
    """At most ``points`` samples: [seconds since start, tree RSS MiB, largest process MiB]."""
    step = max(1, len(sampler.samples) // points)
    return [
        [round(s[0] - start, 1), round(s[1] / 2**20), round(s[4] / 2**20)]
        for s in sampler.samples[::step]
    ]


def measure(
    cmd: list[str], log_path: Path, timeout: float | None = None, cwd: Path = REPO
) -> dict[str, Any]:
    """Run ``cmd`` in its own process group; wall time and peak memory of its tree."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "wb") as out:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.time()
        proc = subprocess.Popen(
            cmd, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        sampler = TreeSampler(proc.pid)
        sampler.start()
        timed_out = False
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        ended = time.time()
        sampler.stop()
    # CPU of every process of the tree that was waited for (pool workers are joined by their
    # parent, so their time rolls up): cpu / wall shows how many cores the run really got.
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    waited = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    cpu = max(waited, sampler.cpu_seconds)
    return {
        "cpu_seconds": cpu,
        "cmd": cmd,
        "returncode": proc.returncode,
        "timed_out": timed_out,
        "start": started,
        "end": ended,
        "wall": ended - started,
        "peak": sampler.peak(),
        "sampler": sampler,
        "log": str(log_path.relative_to(REPO)),
    }


# -- environments ------------------------------------------------------------------------


def ensure_datatrove_venv() -> Path:
    """The datatrove virtualenv's python, created on first use (a few minutes)."""
    python = VENV / "bin" / "python"
    probe = "import datatrove, spacy, pyarrow, orjson, xxhash"
    if (
        python.exists()
        and subprocess.run([python, "-c", probe], capture_output=True).returncode == 0
    ):
        return python
    log(f"creating the datatrove virtualenv {VENV} (first run only, a few minutes)")
    subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    pip = [str(python), "-m", "pip", "install", "--quiet"]
    subprocess.run(pip + ["--upgrade", "pip"], check=True)
    subprocess.run(pip + DATATROVE_REQUIREMENTS, check=True)
    subprocess.run([python, "-c", probe], check=True)
    return python


def _cleanpipe_cmd() -> list[str]:
    exe = shutil.which("cleanpipe")
    if exe:
        return [exe]
    return [sys.executable, "-c", "from cleanpipe.cli import main; main()"]


def _version(python: str | Path, package: str) -> str:
    code = f"from importlib.metadata import version; print(version({package!r}))"
    done = subprocess.run([python, "-c", code], capture_output=True, text=True)
    return done.stdout.strip() or "-"


def machine_info() -> dict[str, Any]:
    cpu = "?"
    with open("/proc/cpuinfo") as fh:
        for line in fh:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as fh:
        mem_kb = int(fh.readline().split()[1])
    info = {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "ram_gib": round(mem_kb / 2**20, 1),
        "python": platform.python_version(),
        "loadavg_start": os.getloadavg(),
    }
    git = ["git", "-C", str(REPO)]
    info["git_head"] = subprocess.run(
        git + ["rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    info["cleanpipe_files_changed_since_head"] = len(
        subprocess.run(
            git + ["status", "--porcelain", "cleanpipe"], capture_output=True, text=True
        ).stdout.splitlines()
    )
    # other engineers edit the package while benchmarks run: fingerprint the code measured
    digest = hashlib.sha256()
    for path in sorted((REPO / "cleanpipe").rglob("*.py")):
        digest.update(str(path.relative_to(REPO)).encode() + b"\0" + path.read_bytes())
    info["cleanpipe_source_digest"] = digest.hexdigest()[:12]
    for package in ("cleanpipe", "pyarrow", "numpy"):
        info[package] = _version(sys.executable, package)
    if (VENV / "bin" / "python").exists():
        info["datatrove"] = _version(VENV / "bin" / "python", "datatrove")
        info["datatrove_venv_pyarrow"] = _version(VENV / "bin" / "python", "pyarrow")
        info["datatrove_venv_numpy"] = _version(VENV / "bin" / "python", "numpy")
    return info


# -- the runs ----------------------------------------------------------------------------


def job_config(job: str, size: str) -> Path:
    """A copy of the job's config with its source pointed at the corpus of ``size``."""
    import yaml

    template = CONFIGS / JOBS[job]
    config = yaml.safe_load(template.read_text())
    folder = corpus.corpus_dir(size).relative_to(REPO)
    for source in config["sources"].values():
        source["paths"] = [f"{folder}/*.jsonl.gz"]
    path = WORK / "configs" / f"{job}-{size}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    header = f"# generated by benchmarks/harness.py from {template.relative_to(REPO)}\n"
    path.write_text(header + yaml.safe_dump(config, sort_keys=False))
    return path


def _mtime(pattern: str) -> float | None:
    times = [os.path.getmtime(p) for p in glob.glob(pattern)]
    return max(times) if times else None


def cleanpipe_steps(out: Path, start: float, end: float) -> list[dict[str, Any]]:
    """Wall time of each step of a cleanpipe run, from the files each step finishes with."""
    marks = [
        ("map (start, read, stages, staging, signatures)", _mtime(f"{out}/staging/*/*.done.json")),
        ("barrier (dedup, mixture plan)", _mtime(f"{out}/plan.json")),
        ("route", _mtime(f"{out}/routing/*/*.done.json")),
        ("shard (write Parquet)", _mtime(f"{out}/data/*.parquet")),
        ("report and exit", end),
    ]
    steps, previous = [], start
    for name, mark in marks:
        if mark is None:
            break
        steps.append({"step": name, "start": previous, "end": mark, "seconds": mark - previous})
        previous = mark
    return steps


def cleanpipe_stage_stats(out: Path) -> list[dict[str, Any]]:
    """Per-stage stats summed over the map tasks' markers (``staging/*/*.done.json``)."""
    stages: dict[str, dict[str, Any]] = {}
    for path in sorted(glob.glob(f"{out}/staging/*/*.done.json")):
        for s in json.loads(Path(path).read_text()).get("stages", []):
            entry = stages.setdefault(
                s["stage"],
                {"stage": s["stage"], "in": 0, "out": 0, "cpu_seconds": 0.0, "chars_in": 0},
            )
            entry["in"] += s["in"]
            entry["out"] += s["out"]
            entry["cpu_seconds"] += s["seconds"]
            entry["chars_in"] += s.get("chars_in", 0)
    return list(stages.values())


def run_cleanpipe(
    size: str, workers: int, job: str, timeout: float | None, profile: bool, stamp: str
) -> dict[str, Any]:
    config = job_config(job, size)
    out = WORK / "runs" / size / f"cleanpipe-{job}-w{workers}"
    shutil.rmtree(out, ignore_errors=True)
    cmd = _cleanpipe_cmd() + [
        "run", str(config.relative_to(REPO)), "--output", str(out.relative_to(REPO)),
        "--workers", str(workers), "--force", "--quiet",
    ]  # fmt: skip
    profile_path = None
    if profile:
        pyspy = shutil.which("py-spy")
        if not pyspy:
            raise SystemExit("--profile needs py-spy: pip install py-spy")
        profile_path = WORK / "profiles" / f"{size}-{job}-w{workers}-{stamp}.txt"
        profile_path.parent.mkdir(parents=True, exist_ok=True)
        cmd = [
            pyspy, "record", "--subprocesses", "--rate", "50", "--format", "raw",
            "--output", str(profile_path), "--",
        ] + cmd  # fmt: skip
    log(f"cleanpipe {job} {size} workers={workers}: {' '.join(cmd)}")
    run = measure(cmd, WORK / "logs" / f"cleanpipe-{job}-{size}-w{workers}.log", timeout)
    sampler = run.pop("sampler")
    result: dict[str, Any] = {"tool": "cleanpipe", "job": job, "size": size, "workers": workers}
    result["memory_timeline"] = timeline(sampler, run["start"])
    result.update(run)
    result["steps"] = cleanpipe_steps(out, run["start"], run["end"])
    for step in result["steps"]:
        step["peak"] = sampler.peak(step["start"], step["end"])
    report_path = out / "report.json"
    if report_path.exists():
        report = json.loads(report_path.read_text())
        source = report["sources"]["web"]
        result["stages"] = cleanpipe_stage_stats(out)
        result["kept_after_filters"] = source["stages"][-1]["out"] if source["stages"] else None
        result["duplicates_removed"] = source["duplicates_removed"]
        result["output_rows"] = report["run"]["total_docs"]
        result["output_bytes"] = sum(s["bytes"] for s in report["run"]["shards"])
        result["output_files"] = report["run"]["shards_written"]
        result["map_tasks"] = report["run"]["map_tasks"]
        map_cpu = 0.0
        for path in glob.glob(f"{out}/staging/*/*.done.json"):
            map_cpu += json.loads(Path(path).read_text()).get("seconds", 0.0)
        result["map_task_seconds"] = round(map_cpu, 2)
    else:
        done = glob.glob(f"{out}/staging/*/*.done.json")
        result["map_tasks_done"] = len(done)
        result["map_tasks_total"] = len(corpus_manifest(size)["shards"])
    if profile_path is not None:
        result["profile"] = str(profile_path.relative_to(REPO))
        result["profile_top"] = summarize_profile(profile_path)
    return result


def datatrove_stage_rows(steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per pipeline block of each datatrove step, from its ``stats.json``."""
    rows = []
    for step in steps:
        for block in step.get("blocks", []):
            stats = block["stats"]
            name = block["name"].encode("ascii", "ignore").decode().replace("  ", " ").strip(" -")
            rows.append(
                {
                    "stage": f"{step['step']}: {name}",
                    "in": stats.get("total", stats.get("documents")),
                    "out": stats.get("forwarded"),
                    "cpu_seconds": block["seconds"],
                    "chars_in": stats.get("doc_len"),
                }
            )
    return rows


def run_datatrove(size: str, workers: int, timeout: float | None, stamp: str) -> dict[str, Any]:
    python = ensure_datatrove_venv()
    work = WORK / "runs" / size / f"datatrove-w{workers}"
    shutil.rmtree(work, ignore_errors=True)
    result_path = WORK / "runs" / size / f"datatrove-w{workers}.json"
    result_path.unlink(missing_ok=True)
    cmd = [
        str(python), str(REPO / "benchmarks" / "datatrove_job.py"),
        "--input", str(corpus.corpus_dir(size)), "--work", str(work),
        "--workers", str(workers), "--result", str(result_path),
    ]  # fmt: skip
    log(f"datatrove {size} workers={workers}: {' '.join(cmd)}")
    run = measure(cmd, WORK / "logs" / f"datatrove-{size}-w{workers}.log", timeout)
    sampler = run.pop("sampler")
    result: dict[str, Any] = {
        "tool": "datatrove", "job": "gopher_minhash", "size": size, "workers": workers,
    }  # fmt: skip
    result["memory_timeline"] = timeline(sampler, run["start"])
    result.update(run)
    if result_path.exists():
        inner = json.loads(result_path.read_text())
        result["datatrove"] = inner["datatrove"]
        result["steps"] = []
        for step in inner["steps"]:
            entry = {
                "step": step["step"],
                "start": step["start"],
                "end": step["end"],
                "seconds": step["end"] - step["start"],
                "peak": sampler.peak(step["start"], step["end"]),
                "blocks": step["blocks"],
            }
            result["steps"].append(entry)
        result["stages"] = datatrove_stage_rows(result["steps"])
        quality = [s for s in inner["steps"] if s["step"] == "filter"][0]["blocks"]
        result["kept_after_filters"] = next(
            (b["stats"].get("forwarded") for b in reversed(quality) if "forwarded" in b["stats"]),
            None,
        )
        result["output_rows"] = inner["output_rows"]
        result["output_bytes"] = inner["output_bytes"]
        result["output_files"] = inner["output_files"]
        if result["kept_after_filters"] is not None:
            result["duplicates_removed"] = result["kept_after_filters"] - inner["output_rows"]
    else:
        result["steps"] = []
    return result


# -- profiles ----------------------------------------------------------------------------


def summarize_profile(path: Path, top: int = 25) -> dict[str, Any]:
    """Self and inclusive shares of samples per function from py-spy's raw (collapsed) output.

    A line is ``frame;frame;...;frame count``; with ``--subprocesses`` the first frame names
    the process. Shares are of all samples of all processes (py-spy skips idle threads, so
    this is close to a share of CPU time); the inclusive list keeps cleanpipe's functions.
    """
    self_counts: Counter = Counter()
    incl_counts: Counter = Counter()
    by_process: Counter = Counter()
    total = 0
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        process = ""
        while stack.startswith("process "):  # 'process PID:"cmd";' for parent, then child
            end = stack.find('";')
            process, stack = stack[: end + 1], stack[end + 2 :]
        by_process[_process_kind(process)] += count
        funcs = [_short_frame(f) for f in stack.split(";") if f]
        if not funcs:
            continue
        self_counts[funcs[-1]] += count
        for func in set(funcs):
            if "cleanpipe/" in func:
                incl_counts[func] += count
    if not total:
        return {"samples": 0}
    return {
        "samples": total,
        "self": [(f, round(100 * c / total, 1)) for f, c in self_counts.most_common(top)],
        "inclusive": [(f, round(100 * c / total, 1)) for f, c in incl_counts.most_common(top)],
        "processes": [(p, round(100 * c / total, 1)) for p, c in by_process.most_common(8)],
    }


def _process_kind(process: str) -> str:
    if "spawn_main" in process or "forkserver" in process:
        return "workers"
    return "driver (cleanpipe run)" if process else "?"


def _short_frame(frame: str) -> str:
    """``func (path/to/module.py:123)`` -> ``func (module.py)``: line numbers merged."""
    name, _, where = frame.partition(" (")
    where = where.rstrip(")")
    filename = where.rsplit(":", 1)[0]
    parts = filename.split("/")
    if "cleanpipe" in parts:
        filename = "/".join(parts[parts.index("cleanpipe") :])
    else:
        filename = parts[-1]
    return f"{name} ({filename})" if filename else name


# -- tables ------------------------------------------------------------------------------


def corpus_manifest(size: str) -> dict[str, Any]:
    return json.loads((corpus.corpus_dir(size) / "MANIFEST.json").read_text())


def _mb(n: float) -> float:
    return n / 1e6


def headline(result: dict[str, Any]) -> dict[str, Any]:
    manifest = corpus_manifest(result["size"])
    wall = result["wall"]
    return {
        "docs_s": manifest["docs"] / wall,
        "mb_s": _mb(manifest["text_bytes"]) / wall,
        "rss": result["peak"]["rss"],
        "pss": result["peak"]["pss"],
    }


def _fmt_int(x: float | None) -> str:
    return "-" if x is None else f"{x:,.0f}"


def _cpu(result: dict[str, Any]) -> str:
    cpu = result.get("cpu_seconds")
    return f"{cpu:.0f} ({cpu / result['wall']:.2f})" if cpu else "-"


def _gb(n: int) -> str:
    return f"{n / 2**30:.2f} GiB" if n >= 2**30 else f"{n / 2**20:.0f} MiB"


def tables(results: list[dict[str, Any]], every: list[dict[str, Any]] | None = None) -> str:
    """Markdown tables of a set of results (one run per tool/job/size/workers); the growth
    from 100k to 1M is looked for in ``every`` result (default: ``results``)."""
    lines: list[str] = []
    sizes = sorted({r["size"] for r in results}, key=lambda s: corpus.SIZES[s])
    lines += [
        "| size | job | tool | workers | wall s | CPU s (cores used) | docs/s | MB/s "
        "| peak RSS (tree) | peak PSS | kept after filters | dup removed | rows out "
        "| vs datatrove (wall) | vs datatrove (CPU) |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for size in sizes:
        for r in sorted(
            (r for r in results if r["size"] == size),
            key=lambda r: (r["job"], r["tool"], r["workers"]),
        ):
            h = headline(r)
            ratio = cpu_ratio = "-"
            dt = [
                x
                for x in results
                if x["tool"] == "datatrove" and x["size"] == size and x["workers"] == r["workers"]
            ]
            if r["tool"] == "cleanpipe" and r["job"] == "gopher_minhash" and dt:
                d = dt[0]
                if not d.get("timed_out") and not r.get("timed_out"):
                    ratio = f"**{d['wall'] / r['wall']:.1f}×**"
                    if d.get("cpu_seconds") and r.get("cpu_seconds"):
                        cpu_ratio = f"{d['cpu_seconds'] / r['cpu_seconds']:.1f}×"
            status = " (stopped)" if r.get("timed_out") else ""
            if r.get("returncode") not in (0, None) and not r.get("timed_out"):
                status = f" (exit {r['returncode']})"
            lines.append(
                f"| {size} | {r['job']} | {r['tool']}{status} | {r['workers']} | "
                f"{r['wall']:.1f} | {_cpu(r)} | {h['docs_s']:,.0f} | {h['mb_s']:.2f} | "
                f"{_gb(h['rss'])} | "
                f"{_gb(h['pss'])} | {_fmt_int(r.get('kept_after_filters'))} | "
                f"{_fmt_int(r.get('duplicates_removed'))} | {_fmt_int(r.get('output_rows'))} "
                f"| {ratio} | {cpu_ratio} |"
            )
    lines.append("")
    lines += [
        "Per step (wall seconds and share of the run, peak tree RSS during the step):",
        "",
        "| size | tool | job | workers | step | seconds | share | peak RSS | largest process |",
        "|---|---|---|---:|---|---:|---:|---:|---:|",
    ]
    for r in results:
        for step in r.get("steps", []):
            lines.append(
                f"| {r['size']} | {r['tool']} | {r['job']} | {r['workers']} | {step['step']} | "
                f"{step['seconds']:.1f} | {100 * step['seconds'] / r['wall']:.0f}% | "
                f"{_gb(step.get('peak', {}).get('rss', 0))} | "
                f"{_gb(step.get('peak', {}).get('largest_process_rss', 0))} |"
            )
    lines.append("")
    lines += [
        "Per stage (CPU seconds summed over workers, as the tools report them; docs/s and MB/s "
        "per core):",
        "",
        "| size | tool | job | workers | stage | docs in | docs out | CPU s | docs/s/core "
        "| MB/s/core |",
        "|---|---|---|---:|---|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        rows = datatrove_stage_rows(r["steps"]) if r["tool"] == "datatrove" else r.get("stages")
        for s in rows or []:
            cpu = s.get("cpu_seconds") or 0
            rate = f"{s['in'] / cpu:,.0f}" if cpu and s.get("in") else "-"
            mbs = f"{_mb(s['chars_in']) / cpu:.2f}" if cpu and s.get("chars_in") else "-"
            lines.append(
                f"| {r['size']} | {r['tool']} | {r['job']} | {r['workers']} | {s['stage']} | "
                f"{_fmt_int(s.get('in'))} | {_fmt_int(s.get('out'))} | {cpu:.1f} | {rate} | "
                f"{mbs} |"
            )
    lines.append("")
    growth = _growth(every if every is not None else results)
    if growth:
        lines += ["Growth from 100k to 1M documents (wall time ratio; linear = 10×):", ""]
        lines += growth
    return "\n".join(lines)


def _growth(results: list[dict[str, Any]]) -> list[str]:
    """1M vs 100k wall time per tool/job/workers; pairs runs of the same cleanpipe code
    (``machine.cleanpipe_source_digest``) when there are such, else the closest in time."""
    out = []
    ok = [r for r in results if not r.get("timed_out") and r.get("returncode") == 0]
    for tool, job, workers in sorted({(r["tool"], r["job"], r["workers"]) for r in ok}):
        same = [r for r in ok if (r["tool"], r["job"], r["workers"]) == (tool, job, workers)]
        for big in (r for r in same if r["size"] == "1M"):
            small = [r for r in same if r["size"] == "100k"]
            if not small:
                continue
            digest = big["machine"].get("cleanpipe_source_digest")
            paired = [r for r in small if r["machine"].get("cleanpipe_source_digest") == digest]
            pick = min(paired or small, key=lambda r: abs(r["start"] - big["start"]))
            note = "same code" if paired else "different code versions"
            out.append(
                f"- {tool} {job}, {workers} worker(s): {pick['wall']:.0f} s -> "
                f"{big['wall']:.0f} s = **{big['wall'] / pick['wall']:.2f}×** ({note})"
            )
    return out


def profile_table(result: dict[str, Any]) -> str:
    top = result.get("profile_top") or {}
    if not top.get("samples"):
        return ""
    lines = [
        f"Profile ({top['samples']:,} samples at 50 Hz over all processes): "
        f"{result.get('profile')}",
        "",
        "| function (self time) | share | function (inclusive) | share |",
        "|---|---:|---|---:|",
    ]
    for (f1, s1), (f2, s2) in zip(top["self"], top["inclusive"], strict=False):
        lines.append(f"| `{f1}` | {s1}% | `{f2}` | {s2}% |")
    lines += ["", "| process | share |", "|---|---:|"]
    lines += [f"| {p} | {s}% |" for p, s in top["processes"]]
    return "\n".join(lines)


def all_results() -> list[dict[str, Any]]:
    return [json.loads(path.read_text()) for path in sorted(RESULTS.glob("*.json"))]


def latest_results() -> list[dict[str, Any]]:
    """The newest stored result per (size, tool, job, workers, profiled)."""
    newest: dict[tuple, dict[str, Any]] = {}
    for result in all_results():
        key = (result["size"], result["tool"], result["job"], result["workers"],
               bool(result.get("profile")))  # fmt: skip
        newest[key] = result
    return [r for k, r in sorted(newest.items()) if not k[4]]


# -- main --------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", choices=list(corpus.SIZES), default="10k")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--only", choices=["cleanpipe", "datatrove"])
    parser.add_argument("--llama", action="store_true", help="also the full llama-style job")
    parser.add_argument(
        "--no-gopher-minhash", action="store_true", help="skip the comparison job (with --llama)"
    )
    parser.add_argument("--profile", action="store_true", help="cleanpipe under py-spy")
    parser.add_argument("--timeout", type=float, default=None, help="seconds per run")
    parser.add_argument("--seed", type=int, default=corpus.DEFAULT_SEED)
    parser.add_argument("--summary", action="store_true", help="print stored results; no runs")
    parser.add_argument("--profile-summary", metavar="RAW", help="summarize a py-spy raw file")
    args = parser.parse_args()
    os.chdir(REPO)

    if args.summary:
        print(tables(latest_results(), all_results()))
        return
    if args.profile_summary:
        path = Path(args.profile_summary)
        print(profile_table({"profile": str(path), "profile_top": summarize_profile(path)}))
        return

    manifest = corpus.ensure_corpus(args.size, args.seed, log=log)
    log(
        f"corpus {args.size}: {manifest['docs']:,} documents, "
        f"{manifest['text_bytes'] / 1e6:,.0f} MB of text, {len(manifest['shards'])} shards"
    )
    tools = [args.only] if args.only else ["cleanpipe", "datatrove"]
    if "datatrove" in tools:
        ensure_datatrove_venv()
    info = machine_info()
    stamp = time.strftime("%Y%m%d-%H%M%S")
    RESULTS.mkdir(parents=True, exist_ok=True)
    results = []
    for workers in args.workers:
        plan: list[tuple[str, str]] = []
        if not args.no_gopher_minhash:
            plan += [(tool, "gopher_minhash") for tool in tools]
        if args.llama and "cleanpipe" in tools:
            plan.append(("cleanpipe", "llama"))
        for tool, job in plan:
            if tool == "cleanpipe":
                result = run_cleanpipe(args.size, workers, job, args.timeout, args.profile, stamp)
            else:
                result = run_datatrove(args.size, workers, args.timeout, stamp)
            result["machine"] = info
            result["loadavg_end"] = os.getloadavg()
            name = f"{args.size}-{tool}-{job}-w{workers}{'-profile' if args.profile else ''}"
            (RESULTS / f"{name}-{stamp}.json").write_text(json.dumps(result, indent=1))
            h = headline(result)
            state = "stopped at timeout" if result["timed_out"] else f"exit {result['returncode']}"
            log(
                f"{tool} {job} {args.size} w{workers}: {state}, {result['wall']:.1f}s, "
                f"{h['docs_s']:,.0f} docs/s, {h['mb_s']:.2f} MB/s, peak RSS {_gb(h['rss'])}, "
                f"PSS {_gb(h['pss'])}"
            )
            results.append(result)
    report = tables(results)
    for result in results:
        if result.get("profile_top"):
            report += "\n\n" + profile_table(result)
    print(report)
    (RESULTS / f"{args.size}-{stamp}.md").write_text(report + "\n")


if __name__ == "__main__":
    main()
