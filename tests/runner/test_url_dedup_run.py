"""URL dedup in a run: two crawl snapshots of the same pages, read in either order, keep the
newest capture; every input is accounted for from the files the run wrote.

Pages are real (the bundled web sample's Python and Debian documentation pages).
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cleanpipe.config import load_config
from cleanpipe.executors.local import LocalExecutor
from cleanpipe.runner import run
from tests.conftest import write_config
from tests.dedup.corpus import web_sample

REPO = Path(__file__).resolve().parents[2]
OLD, NEW = "2023-06-01T08:00:00Z", "2024-02-21T10:11:12Z"


def _sample_records(n: int) -> list[dict[str, Any]]:
    """The first ``n`` records of the web sample with distinct URLs."""
    first: dict[str, dict[str, Any]] = {}
    for record in web_sample():
        first.setdefault(record["url"], record)
    return list(first.values())[:n]


PAGES = _sample_records(10)


def _write(path: Path, records: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        fh.writelines(json.dumps(r) + "\n" for r in records)


def _snapshots(folder: Path, newer_first: bool) -> dict[str, str]:
    """Two snapshot files: pages 0-5 captured in both (page text edited in the newer one),
    6-7 only in one of them, 8 without a url in each. Returns each input id's fate."""
    dates = (NEW, OLD) if newer_first else (OLD, NEW)
    fate: dict[str, str] = {}
    for snap, date in enumerate(dates):
        records = []
        for i, page in enumerate(PAGES[:6]):
            doc_id = f"snap{snap}-{i}"
            text = page["text"] + ("\n\nUpdated in 2024." if date == NEW else "")
            records.append({"id": doc_id, "text": text, "url": page["url"], "warc_date": date})
            fate[doc_id] = "kept" if date == NEW else "url"
        own = PAGES[6 + snap]
        records.append({"id": f"snap{snap}-own", "text": own["text"], "url": own["url"]})
        records.append({"id": f"snap{snap}-nourl", "text": PAGES[8]["text"], "warc_date": date})
        fate[f"snap{snap}-own"] = fate[f"snap{snap}-nourl"] = "kept"
        _write(folder / f"snapshot-{snap}.jsonl.gz", records)
    return fate


def _config(tmp_path: Path, inputs: str, dedup: str) -> Path:
    return write_config(
        tmp_path,
        f"""
seed: 3
output: {{path: {tmp_path / "out"}}}
sources:
  web:
    paths: ["{inputs}"]
    weight: 1.0
    stages: []
dedup: {dedup}
mixture: {{total_tokens: max, max_epochs: 1}}
""",
    )


def _run(config: Path) -> dict[str, Any]:
    with LocalExecutor(1, progress=False) as executor:
        return run(load_config(str(config)), executor=executor, progress=False).report


def _shard_ids(out: Path) -> list[str]:
    tables = [pq.read_table(p) for p in sorted((out / "data").glob("*.parquet"))]
    return pa.concat_tables(tables).column("id").to_pylist()


@pytest.mark.parametrize("newer_first", [True, False])
def test_the_newest_capture_survives_whichever_snapshot_is_read_first(
    tmp_path: Path, newer_first: bool
) -> None:
    fate = _snapshots(tmp_path / "in", newer_first)
    config = _config(
        tmp_path, f"{tmp_path}/in/*.jsonl.gz", "{urls: true, exact: false, minhash: false}"
    )
    report = _run(config)
    out = tmp_path / "out"
    removed = pq.read_table(out / "dedup" / "removed.parquet")
    assert sorted(removed.column("id").to_pylist()) == sorted(
        k for k, v in fate.items() if v == "url"
    )
    assert set(removed.column("reason").to_pylist()) == {"url"}
    # the removed capture names the kept one, by staged file and row
    for row in removed.to_pylist():
        staged = pq.read_table(out / row["duplicate_of_file"].replace(".sig.parquet", ".parquet"))
        keeper = staged.slice(row["duplicate_of_row"], 1).column("id")[0].as_py()
        assert keeper == row["duplicate_of"]
        assert keeper.split("-")[1] == row["id"].split("-")[1]  # the same page
        assert fate[keeper] == "kept"
    # every input accounted for from the written data: in the shards or removed, once
    shard_ids = _shard_ids(out)
    assert sorted(shard_ids) == sorted(k for k, v in fate.items() if v == "kept")
    assert not set(shard_ids) & set(removed.column("id").to_pylist())
    web = report["sources"]["web"]
    assert report["accounting_ok"] is True
    assert web["accounting"]["duplicates"] == 6 and web["accounting"]["rejected"] == 0
    assert web["funnel"][-1]["dropped"] == {"dedup:url": 6}
    dedup = report["dedup"]
    assert (dedup["url_duplicates"], dedup["url_groups"], dedup["url_docs"]) == (6, 6, 14)
    assert dedup["removed_url_per_source"] == {"web": 6}
    assert "dedup:url" in (out / "report.md").read_text(encoding="utf-8")
    assert "dedup:url" in (out / "report.html").read_text(encoding="utf-8")


def test_turning_url_dedup_on_redoes_the_barrier_and_reuses_every_map_task(
    tmp_path: Path,
) -> None:
    _snapshots(tmp_path / "in", newer_first=False)
    inputs = f"{tmp_path}/in/*.jsonl.gz"
    off = _run(_config(tmp_path, inputs, "{urls: false, exact: false, minhash: false}"))
    assert off["dedup"]["removed"] == 0
    on = _run(_config(tmp_path, inputs, "{urls: true, exact: false, minhash: false}"))
    assert on["run"]["map_tasks_reused"] == on["run"]["map_tasks"] == 2
    assert on["dedup"]["url_duplicates"] == 6
    assert sorted(_shard_ids(tmp_path / "out")) == sorted(
        [f"snap1-{i}" for i in range(6)] + ["snap0-own", "snap1-own", "snap0-nourl", "snap1-nourl"]
    )


def test_on_the_web_sample_url_duplicates_are_removed_before_exact_and_near(
    tmp_path: Path,
) -> None:
    """The sample's 6 exact copies share their page's URL (one with a ``#top`` fragment):
    URL dedup takes them first; its 83 near duplicates are mirrors on other hosts, so no URL
    duplicate, and content dedup still removes them."""
    inputs = f"{REPO}/sample_data/web/*.jsonl.gz"
    minhash = "{ngram: 5, bands: 14, rows: 8}"
    content = _run(_config(tmp_path, inputs, f"{{exact: true, minhash: {minhash}}}"))["dedup"]
    removed_without = pq.read_table(tmp_path / "out" / "dedup" / "removed.parquet")
    both = _run(_config(tmp_path, inputs, f"{{urls: true, exact: true, minhash: {minhash}}}"))
    dedup = both["dedup"]
    assert both["accounting_ok"] is True
    assert dedup["url_duplicates"] == 6 and dedup["url_groups"] == 5
    assert dedup["url_docs"] == 1740  # every valid record of the sample has a url
    assert content["exact_duplicates"] - dedup["exact_duplicates"] == 6
    assert dedup["removed"] == content["removed"]
    removed = pq.read_table(tmp_path / "out" / "dedup" / "removed.parquet")
    by_url = {r["id"]: r["duplicate_of"] for r in removed.to_pylist() if r["reason"] == "url"}
    # no dates in the sample: the first capture in input order is kept
    assert by_url == {
        "web-001319": "web-000257",
        "web-001553": "web-000376",
        "web-001669": "web-000644",
        "web-000838": "web-000758",
        "web-001434": "web-001053",
        "web-001550": "web-001053",
    }
    near_before = {r["id"] for r in removed_without.to_pylist() if r["reason"] == "near"}
    near_after = {r["id"] for r in removed.to_pylist() if r["reason"] == "near"}
    assert near_after == near_before
    # content dedup never keeps a capture URL dedup removed
    assert not set(removed.column("duplicate_of").to_pylist()) & set(by_url)
