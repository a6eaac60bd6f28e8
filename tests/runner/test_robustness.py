"""Runs survive bad data and being killed: rejects with reasons, --strict, resume after SIGKILL."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cleanpipe.config import load_config
from cleanpipe.runner import RunError, run
from tests.conftest import ENGLISH, write_config

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def dirty(tmp_path: Path) -> Path:
    """One folder with every kind of broken input a real crawl delivers."""
    d = tmp_path / "in"
    d.mkdir()
    good = [json.dumps({"id": f"good-{i}", "text": t}) for i, t in enumerate(ENGLISH)]
    (d / "a-mixed.jsonl").write_bytes(
        "\n".join(
            [
                good[0],
                '{"id": "cut", "text": "The quick brown',
                json.dumps({"id": "no-text", "title": "Untitled"}),
                json.dumps({"id": "list-text", "text": ["a", "b"]}),
            ]
        ).encode()
        + b"\n"
        + b'{"id": "bad-bytes", "text": "na\xefve caf\xe9"}\n'
    )
    (d / "b-empty.jsonl").write_bytes(b"")
    blob = gzip.compress(("\n".join(good * 50) + "\n").encode())
    (d / "c-truncated.jsonl.gz").write_bytes(blob[: len(blob) // 3])
    huge = {"id": "huge", "text": ("All work and no play makes Jack a dull boy. " * 1_200_000)}
    (d / "d-huge.jsonl").write_text(json.dumps(huge) + "\n" + good[1] + "\n")
    pq.write_table(pa.table({"content": ENGLISH}), d / "e-other-schema.parquet")
    return d


def test_bad_records_go_to_rejects_with_file_location_and_reason(
    dirty: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    config_path = write_config(
        tmp_path,
        f"""
seed: 1
output: {{path: {out}}}
sources:
  web:
    paths: ["{dirty}/*"]
    weight: 1
    stages: [normalize]
dedup: false
mixture: {{total_tokens: max, max_epochs: 1}}
""",
    )
    result = run(load_config(str(config_path)), workers=2, progress=False)
    web = result.report["sources"]["web"]
    assert web["accounting"]["balanced"]
    rejects = pq.read_table(out / "rejects").to_pylist()
    found = {(Path(r["file"]).name, r["location"], r["reason"]) for r in rejects}
    assert ("a-mixed.jsonl", "line 2", "read:malformed_json") in found
    assert ("a-mixed.jsonl", "line 3", "read:missing_text") in found
    assert ("a-mixed.jsonl", "line 4", "read:text_not_string") in found
    assert ("a-mixed.jsonl", "line 5", "read:invalid_utf8") in found
    assert any(f == "c-truncated.jsonl.gz" and r == "read:truncated_file" for f, _, r in found)
    assert ("d-huge.jsonl", "line 1", "read:too_large") in found
    assert sum(r == "read:missing_text" and f == "e-other-schema.parquet" for f, _, r in found) == 3
    kept = set(pq.read_table(out / "data").column("id").to_pylist())
    assert {"good-0", "good-1"} <= kept
    assert web["dropped"]["read:too_large"] == 1
    with pytest.raises(RunError, match="--strict: .* bad input records"):
        run(load_config(str(config_path)), workers=1, progress=False, strict=True)


def digests(out: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted((out / "data").glob("*.parquet"))
    }


def test_sigkill_mid_run_then_resume_is_byte_identical(tmp_path: Path) -> None:
    cmd = [
        sys.executable,
        "-m",
        "cleanpipe.cli",
        "run",
        "configs/mixtures/llama.yaml",
        "-q",
        "--workers",
        "2",
    ]
    reference = tmp_path / "reference"
    subprocess.run(cmd + ["--output", str(reference)], cwd=REPO, check=True)

    killed = tmp_path / "killed"
    proc = subprocess.Popen(cmd + ["--output", str(killed)], cwd=REPO, start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        done = list((killed / "staging").glob("*/*.done.json"))
        if len(done) >= 3:
            break
        time.sleep(0.05)
    assert proc.poll() is None, "the run finished before it could be killed"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    finished_before = len(list((killed / "staging").glob("*/*.done.json")))
    assert not (killed / "report.json").exists()
    assert not list((killed / "data").glob("*.parquet")) if (killed / "data").exists() else True

    resumed = subprocess.run(
        cmd[:-3] + ["--workers", "2", "--output", str(killed)],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert resumed.returncode == 0, resumed.stderr
    assert f"map tasks reused: {finished_before}/" in resumed.stderr
    assert digests(killed) == digests(reference)
    assert not list(killed.rglob("*.tmp-*"))
