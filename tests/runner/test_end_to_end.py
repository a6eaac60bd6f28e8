"""The main job: configs/mixtures/llama.yaml on the bundled sample data."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from pathlib import Path

import duckdb
import polars as pl
import pyarrow.parquet as pq
import pytest

from cleanpipe.config import load_config
from cleanpipe.executors.local import LocalExecutor
from cleanpipe.io.readers import InputFile, ReadOptions, Skipped, read_input
from cleanpipe.runner import RunError, output_lock, run

SOURCES = ["books", "c4", "code", "news", "papers", "web"]


def shard_digests(out: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted((out / "data").glob("*.parquet"))
    }


@pytest.fixture(scope="module")
def llama_run(tmp_path_factory: pytest.TempPathFactory) -> tuple:
    repo = Path(__file__).resolve().parents[2]
    out = tmp_path_factory.mktemp("llama")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(repo)
        config = load_config("configs/mixtures/llama.yaml", output=str(out))
        result = run(config, workers=2, progress=False)
    return config, result, out


def test_papers_are_cleaned_of_latex_before_language_id(llama_run: tuple) -> None:
    _, result, _ = llama_run
    papers = result.report["sources"]["papers"]
    steps = [step["step"] for step in papers["funnel"]]
    assert steps[:4] == ["read", "normalize", "latex_clean", "langid"]
    # on raw LaTeX one preamble was read as Javanese; after latex_clean every paper is English
    assert papers["languages"] == {"en": papers["input_docs"]}


def test_shards_are_readable_by_pyarrow_duckdb_and_polars(llama_run: tuple) -> None:
    _, result, out = llama_run
    shards = sorted((out / "data").glob("train-*-of-*.parquet"))
    assert len(shards) == result.report["run"]["shards_written"] >= 2
    table = pq.read_table(out / "data")
    assert table.column_names == ["id", "text", "source", "lang", "tokens", "meta", "copy"]
    assert set(table.column("source").to_pylist()) == set(SOURCES)
    rows = duckdb.sql(f"select count(*) from '{out}/data/*.parquet'").fetchall()[0][0]
    assert rows == table.num_rows == pl.read_parquet(f"{out}/data/*.parquet").height
    assert pq.read_metadata(shards[0]).row_group(0).column(1).compression == "ZSTD"
    meta = json.loads(table.column("meta")[0].as_py())
    assert isinstance(meta, dict)


def test_report_accounts_for_every_input_document(llama_run: tuple) -> None:
    _, result, out = llama_run
    report = json.loads((out / "report.json").read_text())
    assert report["accounting_ok"] is True
    c4 = report["sources"]["c4"]
    # sample_data/README.md: three broken lines in web/crawl-001.jsonl.gz
    assert c4["input_docs"] == 1743
    assert c4["dropped"]["read:malformed_json"] == 2
    assert c4["dropped"]["read:missing_text"] == 1
    # ~10% of web pages are not English (sample_data/MANIFEST.json)
    assert c4["dropped"]["langid:language"] >= 150
    web = report["sources"]["web"]  # the WARC archive (sample_data/README.md, web-archive)
    archive = Path(__file__).resolve().parents[2] / "sample_data/web-archive/crawl-000.warc.gz"
    records = list(read_input(InputFile(str(archive)), ReadOptions("web")))
    assert web["skipped"] == Counter(r.reason for r in records if isinstance(r, Skipped))
    assert set(web["skipped"]) >= {"warc:request", "warc:not_html", "warc:http_status"}
    assert web["input_docs"] == sum(not isinstance(r, Skipped) for r in records)
    assert web["records_read"] == web["input_docs"] + sum(web["skipped"].values())
    assert web["dropped"]["read:truncated_record"] == 1
    assert [st["step"] for st in web["funnel"][:3]] == ["read", "html_extract", "normalize"]
    # the pages in Japanese, Chinese, Korean and Russian are dropped by langid, not garbled
    assert web["dropped"]["langid:language"] >= 11
    for name in SOURCES:
        src = report["sources"][name]
        acc = src["accounting"]
        assert acc["input"] == acc["kept"] + acc["dropped"] + acc["duplicates"]
        assert abs(src["achieved_share"] - src["target_share"]) < 0.005
    assert report["run"]["tokenizer"] == "cl100k"
    # signal samples live beside each map marker and are folded into the report
    marker = json.loads((out / "staging" / "web" / "part-00000.done.json").read_text())
    assert "signals" not in marker["collected"]
    sample = pq.read_table(out / "staging" / "web" / "part-00000.signals.parquet").to_pylist()
    assert "lang_score" in {row["signal"] for row in sample}
    assert len(web["signals"]["lang_score"]) == min(2_000, web["funnel"][1]["docs"])
    assert report["run"]["total_tokens"] == sum(
        pq.read_table(out / "data", columns=["tokens"]).column("tokens").to_pylist()
    )


def test_rejects_have_file_line_and_reason(llama_run: tuple) -> None:
    _, _, out = llama_run
    rejects = pq.read_table(out / "rejects").to_pylist()
    broken = [r for r in rejects if r["reason"].startswith("read:")]
    manifest = Path(__file__).resolve().parents[2] / "sample_data" / "MANIFEST.json"
    truncated = json.loads(manifest.read_text())["web_archive"]["truncated_last_record"]
    assert {(Path(r["file"]).name, r["location"], r["reason"]) for r in broken} == {
        ("crawl-001.jsonl.gz", "line 98", "read:malformed_json"),
        ("crawl-001.jsonl.gz", "line 311", "read:missing_text"),
        ("crawl-001.jsonl.gz", "line 524", "read:malformed_json"),
        # the archive's last record, cut off mid-way (sample_data/MANIFEST.json)
        ("crawl-000.warc.gz", f"offset {truncated['offset']}", "read:truncated_record"),
    }
    lang_drops = [r for r in rejects if r["reason"] == "langid:language"]
    assert lang_drops and all(r["text"] for r in lang_drops)


def test_rerun_resumes_and_gives_byte_identical_shards(llama_run: tuple, tmp_path: Path) -> None:
    config, result, out = llama_run
    before = shard_digests(out)
    again = run(config, workers=1, progress=False)
    assert again.map_tasks_skipped == again.map_tasks == result.map_tasks
    assert shard_digests(out) == before
    # a fresh run elsewhere, with another worker count, writes the same bytes
    import dataclasses

    other = dataclasses.replace(
        config, output=dataclasses.replace(config.output, path=str(tmp_path / "o"))
    )
    fresh = run(other, workers=1, progress=False)
    assert fresh.map_tasks_skipped == 0
    assert shard_digests(tmp_path / "o") == before


def test_second_run_on_the_same_folder_is_refused(llama_run: tuple) -> None:
    config, _, out = llama_run
    with output_lock(str(out)), pytest.raises(RunError, match="another cleanpipe run"):
        run(config, workers=1, progress=False)


def test_shards_load_with_hugging_face_datasets(
    llama_run: tuple, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    datasets = pytest.importorskip("datasets")
    _, result, out = llama_run
    files = sorted(str(p) for p in (out / "data").glob("*.parquet"))
    ds = datasets.load_dataset(
        "parquet", data_files=files, split="train", cache_dir=str(tmp_path / "hf")
    )
    assert ds.num_rows == result.report["run"]["total_docs"]
    assert ds.column_names == ["id", "text", "source", "lang", "tokens", "meta", "copy"]
    assert sum(ds["tokens"]) == result.report["run"]["total_tokens"]


def test_shards_written_slice_by_slice_hold_the_same_rows_in_the_same_order(
    llama_run: tuple, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A shard task holds one slice of its shard at a time (bounded memory); cutting shards
    into many slices must not change which rows a shard has, their order, or the report."""
    import dataclasses
    import shutil

    from cleanpipe.runner import barrier

    config, result, out = llama_run
    copy = tmp_path / "sliced"
    shutil.copytree(out, copy)
    # ~600 slices per shard: slice ends fall between copies of a repeated document
    monkeypatch.setattr(barrier, "SHARD_SLICE_BYTES", 6_000)
    other = dataclasses.replace(config, output=dataclasses.replace(config.output, path=str(copy)))
    sliced = run(other, workers=2, progress=False)
    assert sliced.map_tasks_skipped == sliced.map_tasks  # only route and shard ran again
    plan = json.loads((copy / "plan.json").read_text())
    assert plan["slices_per_shard"] >= 300
    routed = pq.ParquetFile(copy / "routing" / "web" / "part-00000.parquet")
    assert routed.metadata.num_row_groups > plan["n_shards"]
    shards = sorted((out / "data").glob("*.parquet"))
    assert [p.name for p in shards] == sorted(p.name for p in (copy / "data").glob("*.parquet"))
    for shard in shards:
        assert pq.ParquetFile(copy / "data" / shard.name).metadata.num_row_groups > 1
        sliced_rows = pq.read_table(copy / "data" / shard.name)
        assert sliced_rows.equals(pq.read_table(shard))
        keys = list(
            zip(sliced_rows["source"].to_pylist(), sliced_rows["id"].to_pylist(), strict=True)
        )
        assert len(set(keys)) < len(keys)  # upsampled sources: copies to keep apart
        assert all(a != b for a, b in zip(keys, keys[1:], strict=False))
    assert sliced.report["sources"] == result.report["sources"]
    # the same rows and tokens per shard; only the file sizes differ (tiny row groups here)
    strip = [{k: v for k, v in s.items() if k != "bytes"} for s in result.report["run"]["shards"]]
    assert [
        {k: v for k, v in s.items() if k != "bytes"} for s in sliced.report["run"]["shards"]
    ] == strip


def test_each_route_task_reads_only_the_drops_of_its_own_staged_file(llama_run: tuple) -> None:
    from cleanpipe.runner.removed import removed_rows
    from cleanpipe.runner.tasks import map_tasks

    config, _, out = llama_run
    removed = pq.read_table(out / "dedup" / "removed.parquet")
    assert removed.num_rows > 0
    # relative to the output folder, so a moved or copied folder still works
    assert all(f.startswith("staging/") for f in removed.column("file").to_pylist())
    seen = []
    for task in map_tasks(config):
        mine = removed_rows(str(out), task)
        staged = pq.read_table(out / "staging" / task.source / f"part-{task.part:05d}.parquet")
        assert all(0 <= row < staged.num_rows for row in mine.rows.tolist())
        name = f"staging/{task.source}/part-{task.part:05d}.sig.parquet"
        seen += [
            (name, row, reason)
            for row, reason in zip(mine.rows.tolist(), mine.reasons, strict=True)
        ]
    columns = ("file", "row", "reason")
    assert sorted(seen) == sorted(
        zip(*(removed.column(c).to_pylist() for c in columns), strict=True)
    )


class _ShardStepFails(LocalExecutor):
    """Runs tasks in this process; the shard step writes its first shard, then fails."""

    def map(self, fn, items, description):  # noqa: ANN001, ANN201 - the executor protocol
        if description != "shards":
            return super().map(fn, items, description)
        super().map(fn, items[:1], description)
        raise RunError("the disk filled up while writing shards")


def test_a_shard_step_that_fails_midway_leaves_no_old_shards(
    llama_run: tuple, tmp_path: Path
) -> None:
    # old shards of the same count beside new ones would pass for this run's
    import dataclasses
    import shutil

    config, result, out = llama_run
    copy = tmp_path / "failed"
    shutil.copytree(out, copy)
    n_shards = result.report["run"]["shards_written"]
    assert n_shards > 1
    other = dataclasses.replace(config, output=dataclasses.replace(config.output, path=str(copy)))
    with pytest.raises(RunError, match="disk filled up"):
        run(other, executor=_ShardStepFails(1, progress=False), progress=False)
    assert [p.name for p in (copy / "data").glob("*.parquet")] == [
        f"train-00000-of-{n_shards:05d}.parquet"
    ]
    assert json.loads((copy / "report.json").read_text())["status"] == "failed"
