"""Small runs (issue 17, part 3): the fixed cost of `cleanpipe run` and the time to the first
document, this checkout against another one, measured in turn in the same invocation.

    python benchmarks/bench_small_runs.py --baseline /tmp/old-checkout [--runs 5]

The job is the harness's (benchmarks/configs/bench_gopher_minhash.yaml: Gopher quality +
repetition, MinHash 14 x 8, zstd Parquet) on 2 workers, over (a) the first 10 pages of
sample_data/web (one file: every step has one task) and (b) the first 2,700 documents of the
harness's 10k corpus (two files; built with benchmarks/corpus.py when missing). Each run is a
fresh `python -m cleanpipe run ... --force` process; wall time is measured around it. The time
to the first document is when the first document reaches the first stage, seen by a plugin
stage (`first_doc_clock`, a no-op) that records the clock in the worker. The figure to quote
is the median over runs, and the ratio pair by pair (runs of the two checkouts alternate).
"""

from __future__ import annotations

import argparse
import gzip
import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import REPO  # noqa: E402

PLUGIN = '''
import os, time
from cleanpipe.stages.base import Transform, register

@register("first_doc_clock")
class FirstDocClock(Transform):
    """Writes the wall clock of the first document this process sees, then does nothing."""
    seen = False
    def transform(self, doc):
        if not FirstDocClock.seen:
            FirstDocClock.seen = True
            path = os.path.join(os.environ["FIRST_DOC_DIR"], str(os.getpid()))
            with open(path, "w") as fh:
                fh.write(repr(time.time()))
        return doc.text
'''


def _inputs(work: Path) -> dict[str, Path]:
    """The two input folders: 10 sample pages in one file, 2,700 corpus documents in two."""
    small, medium = work / "in-10", work / "in-2700"
    small.mkdir()
    medium.mkdir()
    with gzip.open(REPO / "sample_data/web/crawl-000.jsonl.gz", "rt", encoding="utf-8") as fh:
        (small / "part-0.jsonl").write_text("".join(itertools.islice(fh, 10)), encoding="utf-8")
    corpus = REPO / "benchmarks/.work/corpus-10k/part-00000.jsonl.gz"
    if not corpus.exists():
        subprocess.run([sys.executable, str(REPO / "benchmarks/corpus.py"), "--size", "10k"])
    with gzip.open(corpus, "rt", encoding="utf-8") as fh:
        lines = list(itertools.islice(fh, 2700))
    for i in range(2):
        with gzip.open(medium / f"part-{i}.jsonl.gz", "wt", compresslevel=1) as out:
            out.write("".join(lines[i * 1350 : (i + 1) * 1350]))
    return {"10 docs": small, "2,700 docs": medium}


def _config(work: Path, name: str, folder: Path) -> Path:
    config = yaml.safe_load((REPO / "benchmarks/configs/bench_gopher_minhash.yaml").read_text())
    config["plugins"] = ["first_doc_clock"]
    config["output"]["path"] = str(work / "out")
    source = config["sources"]["web"]
    source["paths"] = [str(folder / "*.jsonl*")]
    source["stages"] = ["first_doc_clock", *source["stages"]]
    path = work / f"{name.split()[0]}.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def _run_once(code: Path, config: Path, clocks: Path) -> tuple[float, float]:
    """Wall seconds of one CLI run, and seconds from its start to the first document."""
    for stale in clocks.iterdir():
        stale.unlink()
    env = {**os.environ, "PYTHONPATH": str(code), "FIRST_DOC_DIR": str(clocks)}
    cmd = [sys.executable, "-m", "cleanpipe", "run", str(config), "--workers", "2"]
    started = time.time()
    subprocess.run([*cmd, "--quiet", "--force"], env=env, check=True, cwd=code)
    wall = time.time() - started
    first = min(float(p.read_text()) for p in clocks.iterdir())
    return wall, first - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--baseline", type=Path, required=True, help="another checkout")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    codes = {"this": REPO, "baseline": args.baseline.resolve()}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "first_doc_clock.py").write_text(PLUGIN, encoding="utf-8")
        clocks = work / "clocks"
        clocks.mkdir()
        for name, folder in _inputs(work).items():
            config = _config(work, name, folder)
            times: dict[str, list[tuple[float, float]]] = {c: [] for c in codes}
            for _ in range(args.runs + 1):  # the first round warms the page cache
                for label, code in codes.items():
                    times[label].append(_run_once(code, config, clocks))
            rows = {label: runs[1:] for label, runs in times.items()}
            ratios = [a[0] / b[0] for a, b in zip(rows["this"], rows["baseline"], strict=True)]
            result = {
                label: {
                    "wall_s": round(statistics.median(r[0] for r in runs), 2),
                    "first_doc_s": round(statistics.median(r[1] for r in runs), 2),
                }
                for label, runs in rows.items()
            }
            result["wall_ratio_median"] = round(statistics.median(ratios), 2)
            print(f"{name}: {json.dumps(result)}")


if __name__ == "__main__":
    main()
