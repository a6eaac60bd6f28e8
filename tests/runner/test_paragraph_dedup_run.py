"""Paragraph dedup in whole runs: with the document dedup on too, every input is accounted
for from the files the run wrote; the result does not depend on the number of hash
partitions, nor on the executor (local pool and Ray give byte-identical shards)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import cleanpipe.runner.paragraphs as paragraphs
from cleanpipe.config import load_config
from cleanpipe.runner import run
from tests.dedup.test_paragraph_dedup import BOILERPLATE, _config, _corpus, _run, _write

BOTH = "{exact: true, minhash: true, paragraphs: true}"


def _corpus_with_duplicates(folder: Path) -> tuple[list[dict], set[str]]:
    """The boilerplate corpus plus exact copies of three documents (the document dedup's)."""
    records, _, only = _corpus(60)
    records += [{"id": f"copy-of-{r['id']}", "text": r["text"]} for r in records[2:5]]
    _write(folder, records, files=3)
    return records, only


def _digests(out: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted((out / "data").glob("*.parquet"))
    }


def test_every_input_is_accounted_for_from_the_written_data(tmp_path: Path) -> None:
    records, only = _corpus_with_duplicates(tmp_path / "in")
    report = _run(_config(tmp_path, BOTH))
    out = tmp_path / "out"
    shards = pa.concat_tables([pq.read_table(p) for p in sorted((out / "data").glob("*"))])
    removed = pq.read_table(out / "dedup/removed.parquet")
    emptied = []
    for edits in sorted((out / "dedup/paragraphs/web").glob("*.parquet")):
        staged = pq.read_table(out / "staging/web" / edits.name, columns=["id"])
        rows = pq.read_table(edits).filter(pa.compute.field("emptied")).column("row")
        emptied += staged.column("id").take(rows).to_pylist()
    dropped = removed.column("id").to_pylist()
    # paragraph dedup runs over the documents the document dedup kept: no document is both
    # removed and emptied (the copies go as exact duplicates, their originals keep their text)
    assert emptied and not set(emptied) & set(dropped)
    emptied_only = sorted(emptied)
    written = shards.column("id").to_pylist() + dropped + emptied_only
    # each input once: in the shards, removed as a duplicate, or emptied by paragraph dedup
    assert sorted(written) == sorted(r["id"] for r in records)
    copies = [f"copy-of-doc-00{i}" for i in (2, 3, 4)]
    reasons = removed.column("reason").to_pylist()
    assert {r for r, i in zip(reasons, dropped, strict=True) if i in {*copies, *only}} == {"exact"}
    assert set(dropped) >= set(copies + sorted(only)[1:])
    assert emptied_only == sorted(only)[:1]  # the first boilerplate page, kept by exact
    originals = {
        r["id"]: r["text"] for r in records if r["id"] in {"doc-002", "doc-003", "doc-004"}
    }
    ids, texts = shards.column("id").to_pylist(), shards.column("text").to_pylist()
    written_text = dict(zip(ids, texts, strict=True))
    boilerplate = {b.strip() for b in BOILERPLATE}
    for doc_id, text in originals.items():  # their paragraphs are not cut for the copies' sake
        unique = [p.strip() for p in text.split("\n\n") if p.strip() not in boilerplate]
        assert all(p in written_text.get(doc_id, "") for p in unique), doc_id
    web = report["sources"]["web"]
    assert report["accounting_ok"] is True
    assert web["funnel"][-1]["dropped"] == {
        "dedup:exact": reasons.count("exact"),
        "dedup:near": reasons.count("near"),  # a page whose own paragraphs are short
        "dedup:paragraphs_emptied": 1,
    }
    text = "\n".join(shards.column("text").to_pylist())
    assert all(text.count(b) == 1 for b in BOILERPLATE)


def test_the_result_does_not_depend_on_the_partitions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _corpus_with_duplicates(tmp_path / "in")
    one = _run(_config(tmp_path, BOTH))["dedup"]["paragraphs"]
    single = _digests(tmp_path / "out")
    monkeypatch.setattr(paragraphs, "PARTITION_UNITS", 40)  # ~300 units: 8 partitions
    many = _run(_config(tmp_path, BOTH, out="out-many"))  # a fresh run, nothing reused
    assert many["dedup"]["paragraphs"]["partitions"] > 4 and one["partitions"] == 1
    assert {k: v for k, v in many["dedup"]["paragraphs"].items() if k != "partitions"} == {
        k: v for k, v in one.items() if k != "partitions"
    }
    assert _digests(tmp_path / "out-many") == single


@pytest.fixture(scope="module")
def ray_executor() -> Iterator:
    pytest.importorskip("ray", reason='Ray is not installed: pip install "cleanpipe[ray]"')
    from cleanpipe.executors.ray import RayExecutor

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RAY_ADDRESS", "127.0.0.1:9")  # a new local instance, never a cluster
        executor = RayExecutor(num_cpus=2, progress=False)
    try:
        yield executor
    finally:
        executor.close()


def test_local_and_ray_give_byte_identical_shards(
    tmp_path: Path, ray_executor, monkeypatch: pytest.MonkeyPatch
) -> None:
    _corpus_with_duplicates(tmp_path / "in")
    monkeypatch.setattr(paragraphs, "PARTITION_UNITS", 100)  # several partition tasks
    local = _run(_config(tmp_path, BOTH))
    local_digests = _digests(tmp_path / "out")
    config = load_config(str(_config(tmp_path, BOTH, out="ray-out")))
    on_ray = run(config, executor=ray_executor, progress=False).report
    assert _digests(tmp_path / "ray-out") == local_digests
    assert on_ray["dedup"]["paragraphs"] == local["dedup"]["paragraphs"]
    assert on_ray["dedup"]["paragraphs"]["partitions"] > 1


def test_changing_keep_redoes_the_barrier_and_reuses_every_map_task(tmp_path: Path) -> None:
    records, _, _ = _corpus(30)
    _write(tmp_path / "in", records)
    first = _run(_config(tmp_path, "{exact: false, minhash: false, paragraphs: true}"))
    none = "{exact: false, minhash: false, paragraphs: {keep: none, min_doc_chars: 0}}"
    again = _run(_config(tmp_path, none))
    assert again["run"]["map_tasks_reused"] == again["run"]["map_tasks"] == 2
    para = again["dedup"]["paragraphs"]
    assert para["keep"] == "none" and para["units_cut"] > first["dedup"]["paragraphs"]["units_cut"]
    text = "\n".join(_shard_texts(tmp_path / "out"))
    assert not any(b in text for b in BOILERPLATE)


def _shard_texts(out: Path) -> list[str]:
    tables = [pq.read_table(p, columns=["text"]) for p in sorted((out / "data").glob("*"))]
    return pa.concat_tables(tables).column("text").to_pylist()
