"""--executor ray: the same steps as Ray tasks give the same bytes as the local process pool.

One local Ray instance (2 CPUs) serves the whole module. Skipped only when Ray is not
installed (``pip install "cleanpipe[ray]"``).
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from cleanpipe.config import load_config
from cleanpipe.executors.local import LocalExecutor
from cleanpipe.executors.ray import RayExecutor, import_ray
from cleanpipe.runner import RunError, run

REPO = Path(__file__).resolve().parents[2]
#: what a source's report must agree on, whichever executor ran the steps (not timings).
SOURCE_KEYS = [
    "input_docs",
    "funnel",
    "dropped",
    "duplicates_removed",
    "tokens_available",
    "achieved_share",
    "epochs",
    "output_docs",
    "output_tokens",
    "languages",
    "accounting",
]


def shard_digests(out: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted((out / "data").glob("*.parquet"))
    }


@pytest.fixture(scope="module")
def ray_executor() -> Iterator[RayExecutor]:
    pytest.importorskip("ray", reason='Ray is not installed: pip install "cleanpipe[ray]"')
    with pytest.MonkeyPatch.context() as mp:
        # no address: a new local instance, whatever RAY_ADDRESS or a running cluster says
        mp.setenv("RAY_ADDRESS", "127.0.0.1:9")
        executor = RayExecutor(num_cpus=2, progress=False)
    try:
        yield executor
    finally:
        executor.close()


def _run_llama(out: Path, executor: Any) -> dict[str, Any]:
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(REPO)  # the config's globs are relative to the repository root
        config = load_config("configs/mixtures/llama.yaml", output=str(out))
        run(config, executor=executor, force=True, progress=False)
    return json.loads((out / "report.json").read_text())


@pytest.fixture(scope="module")
def both_runs(
    ray_executor: RayExecutor, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, tuple[Path, dict[str, Any]]]:
    runs = {}
    local_out = tmp_path_factory.mktemp("llama-local")
    with LocalExecutor(workers=2, progress=False) as local:
        runs["local"] = (local_out, _run_llama(local_out, local))
    ray_out = tmp_path_factory.mktemp("llama-ray")
    runs["ray"] = (ray_out, _run_llama(ray_out, ray_executor))
    return runs


def test_ray_writes_the_same_shard_bytes_as_the_local_pool(both_runs: dict) -> None:
    local = shard_digests(both_runs["local"][0])
    ray = shard_digests(both_runs["ray"][0])
    assert len(local) >= 2
    assert ray == local


def test_ray_report_accounts_for_every_document_as_the_local_pool(both_runs: dict) -> None:
    local, ray = both_runs["local"][1], both_runs["ray"][1]
    assert ray["accounting_ok"] is local["accounting_ok"] is True
    assert sorted(ray["sources"]) == sorted(local["sources"])
    for name, src in local["sources"].items():
        for key in SOURCE_KEYS:
            assert ray["sources"][name].get(key) == src.get(key), (name, key)
    for key in ("total_tokens", "total_docs", "shards_written", "map_tasks"):
        assert ray["run"][key] == local["run"][key], key


def test_ray_removes_the_same_url_duplicates_as_the_local_pool(both_runs: dict) -> None:
    # configs/mixtures/llama.yaml has dedup.urls: the barrier's decisions match row for row
    local, ray = both_runs["local"][1]["dedup"], both_runs["ray"][1]["dedup"]
    assert local["url_duplicates"] > 0
    for key in ("url_docs", "url_groups", "url_duplicates", "removed_url_per_source"):
        assert ray[key] == local[key], key
    removed = [pq.read_table(both_runs[k][0] / "dedup" / "removed.parquet") for k in both_runs]
    assert removed[0].equals(removed[1])
    assert "url" in removed[0].column("reason").to_pylist()


def test_task_error_is_raised_as_the_original_exception(ray_executor: RayExecutor) -> None:
    missing = str(REPO / "no-such-input.jsonl")
    with pytest.raises(FileNotFoundError, match="no-such-input.jsonl") as info:
        ray_executor.map(os.stat, [str(REPO), missing], "stat")
    assert type(info.value) is FileNotFoundError
    if sys.version_info >= (3, 11):
        assert "in Ray task 2 of 2 of step 'stat'" in info.value.__notes__


def test_tasks_run_in_the_driver_cwd_with_its_cleanpipe_variables(
    ray_executor: RayExecutor, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CLEANPIPE_TEST_VALUE", "from-the-driver")
    assert ray_executor.map(os.path.abspath, ["a", "b/c"], "cwd") == [
        str(tmp_path / "a"),
        str(tmp_path / "b" / "c"),
    ]
    assert ray_executor.map(os.environ.get, ["CLEANPIPE_TEST_VALUE"], "env") == ["from-the-driver"]
    assert ray_executor.map(os.stat, [], "nothing") == []


def test_close_leaves_a_ray_connection_it_did_not_make(ray_executor: RayExecutor) -> None:
    ray = import_ray()
    RayExecutor(progress=False).close()
    assert ray.is_initialized()
    assert ray_executor.cluster_cpus == 2


def test_num_cpus_is_for_a_local_instance_only() -> None:
    with pytest.raises(ValueError, match="ray start --num-cpus"):
        RayExecutor(address="auto", num_cpus=4)


def test_missing_ray_names_the_extra_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # makes `import ray` fail
    with pytest.raises(RunError, match=r'pip install "cleanpipe\[ray\]"'):
        RayExecutor()
