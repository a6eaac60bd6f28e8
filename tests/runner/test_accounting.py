"""Every input record is accounted for exactly once, checked from the files a run wrote.

Users' ids are data, not keys: they repeat (per-shard counters, concatenated datasets,
``"id": 0``). These tests feed repeated ids, duplicates and bad records and follow every
input record to where it ended: rejects/, dedup/removed.parquet, or the shards.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cleanpipe.config import load_config
from cleanpipe.executors.local import LocalExecutor
from cleanpipe.runner import run
from tests.conftest import write_config

# Real passages (the UDHR, the Python tutorial, Austen, Dickens), three sentences or more
# each: they pass the stage below, and distinct ones are never near-duplicates.
TEXTS = [
    "All human beings are born free and equal in dignity and rights. They are endowed with "
    "reason and conscience. They should act towards one another in a spirit of brotherhood.",
    "Everyone has the right to education. Education shall be free, at least in the "
    "elementary and fundamental stages. Elementary education shall be compulsory.",
    "A module is a file containing Python definitions and statements. The file name is the "
    "module name with the suffix added. Within a module, its name is available as a global.",
    "It is a truth universally acknowledged, that a single man in possession of a good "
    "fortune, must be in want of a wife. However little known his views may be, this truth "
    "is well fixed in the minds of the families. He is considered the rightful property of "
    "some one or other of their daughters.",
    "It was the best of times, it was the worst of times. It was the age of wisdom, it was "
    "the age of foolishness. It was the epoch of belief, it was the epoch of incredulity.",
    "Emma Woodhouse, handsome, clever, and rich, seemed to unite some of the best blessings "
    "of existence. She had lived nearly twenty-one years in the world. Very little had "
    "occurred to distress or vex her.",
    "The Python standard library is very extensive. It offers a wide range of facilities. "
    "The library contains built-in modules that provide access to system functionality.",
]
#: dropped by the c4_quality stage (fewer than 3 sentences once short lines are removed).
SHORT = "Click here to subscribe to our newsletter"


def _config(tmp_path: Path, paths: str, *, minhash: bool = False, total: str = "max") -> Path:
    return write_config(
        tmp_path,
        f"""
seed: 7
output: {{path: {tmp_path / "out"}}}
sources:
  web:
    paths: ["{paths}"]
    weight: 1.0
    stages: [c4_quality]
dedup: {{exact: true, minhash: {"{bands: 14, rows: 8}" if minhash else "false"}}}
mixture: {{total_tokens: {total}, max_epochs: 4}}
""",
    )


def _run(config_path: Path, executor: Any = None) -> dict[str, Any]:
    return run(
        load_config(str(config_path)),
        executor=executor or LocalExecutor(1, progress=False),
        progress=False,
    ).report


def _shards(out: Path) -> pa.Table:
    return pa.concat_tables(pq.read_table(p) for p in sorted((out / "data").glob("*.parquet")))


def test_a_unique_document_sharing_an_id_with_a_duplicate_survives(tmp_path: Path) -> None:
    # the case from issue 19: exact dedup removed the second T0 *by id*, taking x(T1) along
    records = [("y", TEXTS[0]), ("x", TEXTS[0]), ("x", TEXTS[1])]
    src = tmp_path / "web.jsonl"
    src.write_text("".join(json.dumps({"id": i, "text": t}) + "\n" for i, t in records))
    report = _run(_config(tmp_path, str(src)))

    shards = _shards(tmp_path / "out")
    first = shards.filter(pc.equal(shards.column("copy"), 0))
    assert sorted(
        zip(first.column("id").to_pylist(), first.column("text").to_pylist(), strict=True)
    ) == [
        ("x", TEXTS[1]),
        ("y", TEXTS[0]),
    ]
    removed = pq.read_table(tmp_path / "out" / "dedup" / "removed.parquet")
    assert removed.column("row").to_pylist() == [1]  # the second record, not "every x"
    web = report["sources"]["web"]
    assert web["duplicates_removed"] == report["dedup"]["removed"] == 1
    assert web["accounting"]["balanced"] and report["accounting_ok"]


def test_repeated_ids_are_reported_and_copies_are_numbered(tmp_path: Path) -> None:
    src = tmp_path / "web.jsonl"
    src.write_text("".join(json.dumps({"id": 0, "text": t}) + "\n" for t in TEXTS[:4]))
    report = _run(_config(tmp_path, str(src)))  # max: 4 epochs of the one source

    web = report["sources"]["web"]
    assert web["repeated_ids"] == {"ids": 1, "rows": 4, "examples": ["0"]}
    assert any("ids occur more than once" in w for w in report["run"]["warnings"])
    shards = _shards(tmp_path / "out")
    copies = Counter(
        zip(shards.column("text").to_pylist(), shards.column("copy").to_pylist(), strict=True)
    )
    assert copies == Counter({(t, c): 1 for t in TEXTS[:4] for c in range(4)})


def test_copies_of_one_document_go_to_different_shards(tmp_path: Path) -> None:
    src = tmp_path / "web.jsonl"
    src.write_text("".join(json.dumps({"id": i, "text": t}) + "\n" for i, t in enumerate(TEXTS)))
    config = _config(tmp_path, str(src)).read_text().replace("path: ", "shard_size: 600, path: ")
    (tmp_path / "config.yaml").write_text(config)
    _run(tmp_path / "config.yaml")

    shards = sorted((tmp_path / "out" / "data").glob("*.parquet"))
    assert len(shards) >= 4  # 4 copies of each document, at least 4 shards
    for text in TEXTS:
        holding = [p.name for p in shards if text in pq.read_table(p).column("text").to_pylist()]
        assert len(holding) == 4, text


class _LosingExecutor(LocalExecutor):
    """Runs tasks in this process, then deletes one routed row: a loss the run must see."""

    def map(self, fn, items, description):  # noqa: ANN001, ANN201 - the executor protocol
        results = super().map(fn, items, description)
        if description == "route":
            for path in Path(items[0].root, "routing").rglob("part-*.parquet"):
                table = pq.read_table(path)
                if table.num_rows:
                    pq.write_table(table.slice(1), path)
                    break
        return results


def test_a_lost_row_turns_the_accounting_red(tmp_path: Path) -> None:
    src = tmp_path / "web.jsonl"
    src.write_text("".join(json.dumps({"id": i, "text": t}) + "\n" for i, t in enumerate(TEXTS)))
    report = _run(_config(tmp_path, str(src)), executor=_LosingExecutor(1, progress=False))

    assert report["accounting_ok"] is False
    problems = report["sources"]["web"]["accounting"]["problems"]
    assert any("rows in the shards" in p for p in problems)
    assert any("accounting" in w for w in report["run"]["warnings"])


# -- the property: every input record exactly once -----------------------------------------

_GOOD = st.tuples(
    st.sampled_from(["0", "1", "doc", ""]),  # ids from a tiny pool: they repeat; "" is missing
    st.sampled_from([*TEXTS, TEXTS[0].upper(), SHORT]),  # duplicates, a case-folded one, a drop
)
_BAD = st.sampled_from(
    [b'{"id": "cut", "text": "The quick brown', b'{"id": "t", "title": "no text"}', b"\xff\xfe"]
)
_RECORD = st.one_of(_GOOD.map(lambda r: json.dumps({"id": r[0], "text": r[1]}).encode()), _BAD)


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    files=st.lists(st.lists(_RECORD, min_size=1, max_size=12), min_size=1, max_size=3),
    minhash=st.booleans(),
    budget=st.sampled_from(["max", "400"]),
)
def test_every_input_record_is_accounted_for_exactly_once(
    tmp_path_factory: Any, files: list[list[bytes]], minhash: bool, budget: str
) -> None:
    tmp = tmp_path_factory.mktemp("prop")
    (tmp / "in").mkdir()
    for n, lines in enumerate(files):
        (tmp / "in" / f"part-{n}.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    good_records = sum(
        not line.startswith((b"\xff", b'{"id": "cut"', b'{"id": "t"'))
        for lines in files
        for line in lines
    )
    try:
        report = _run(_config(tmp, f"{tmp}/in/*.jsonl", minhash=minhash, total=budget))
    except Exception as err:  # a source with nothing left fails, and says why
        assert good_records == 0 or "nothing left" in str(err) or "cannot be met" in str(err)
        return
    out = tmp / "out"

    # 1. every record of every input file is either staged or rejected, once
    seen: Counter = Counter()
    staged = pa.concat_tables(
        pq.read_table(p) for p in sorted(out.glob("staging/web/part-*[0-9].parquet"))
    )
    for file, pos in zip(
        staged.column("_file").to_pylist(), staged.column("_pos").to_pylist(), strict=True
    ):
        seen[(Path(file).name, pos)] += 1
    rejects = pa.concat_tables(pq.read_table(p) for p in sorted(out.glob("rejects/web/*.parquet")))
    for file, where in zip(
        rejects.column("file").to_pylist(), rejects.column("location").to_pylist(), strict=True
    ):
        kind, number = where.split()
        seen[(Path(file).name, int(number) - 1 if kind == "line" else int(number))] += 1
    expected = Counter(
        {(f"part-{n}.jsonl", i): 1 for n, lines in enumerate(files) for i in range(len(lines))}
    )
    assert seen == expected

    # 2. every staged row is removed as a duplicate or kept; kept rows reach the shards
    removed = pq.read_table(out / "dedup" / "removed.parquet")
    gone = set(
        zip(removed.column("file").to_pylist(), removed.column("row").to_pylist(), strict=True)
    )
    assert len(gone) == removed.num_rows
    shards = _shards(out)
    first = shards.filter(pc.equal(shards.column("copy"), 0))
    assert first.num_rows == len(set(first.column("text").to_pylist()))  # each document once
    web = report["sources"]["web"]
    acc = web["accounting"]
    assert (
        acc["staged"] == staged.num_rows == removed.num_rows + acc["sampled"] + acc["not_sampled"]
    )
    assert acc["sampled"] == first.num_rows and acc["output_rows"] == shards.num_rows
    assert acc["rejected"] == rejects.num_rows
    assert report["accounting_ok"]
    # ids are carried: every output row has the id its staged row had
    pairs = set(
        zip(staged.column("id").to_pylist(), staged.column("text").to_pylist(), strict=True)
    )
    assert (
        set(zip(shards.column("id").to_pylist(), shards.column("text").to_pylist(), strict=True))
        <= pairs
    )


def test_examples_of_rejects_sharing_one_id_are_a_sample_not_the_head(tmp_path: Path) -> None:
    # 30 bad records, all with id 0: examples were picked by id hash, so equal ids gave the
    # first three lines; picked by origin they are spread over the file
    lines = [json.dumps({"id": 0, "body": f"record number {i}"}) for i in range(30)]
    lines += [json.dumps({"id": 0, "text": t}) for t in TEXTS]
    src = tmp_path / "web.jsonl"
    src.write_text("\n".join(lines) + "\n")
    report = _run(_config(tmp_path, str(src)))

    examples = report["sources"]["web"]["examples"]["read:missing_text"]
    numbers = sorted(int(re.search(r"record number (\d+)", e["text"])[1]) for e in examples)
    assert len(numbers) == 3 and numbers != [0, 1, 2]
