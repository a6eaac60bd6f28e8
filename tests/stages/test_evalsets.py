"""Eval sets as the decontaminate stage reads them: every format, item keys, which fields
are matched, short items, the exact check behind every hash hit, the per-process index, and
the config errors for eval files that are missing, empty or broken."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zstandard

from cleanpipe.config import load_config
from cleanpipe.document import Document
from cleanpipe.errors import ConfigError
from cleanpipe.stages import Decontaminate
from cleanpipe.stages.evalsets import EvalIndex, eval_stem, read_eval_items

# Real sentences: the opening of Persuasion, a line of the Python tutorial, a Reuters lead.
PERSUASION = (
    "Sir Walter Elliot, of Kellynch Hall, in Somersetshire, was a man who, for his own "
    "amusement, never took up any book but the Baronetage"
)
TUTORIAL = "The Python interpreter is easily extended with new functions and data types"
REUTERS = "BankAmerica Corp is not under pressure to act quickly on its proposed equity offering"
RECORDS = [
    {"id": "q1", "question": PERSUASION, "answer": "the Baronetage", "choices": [TUTORIAL, "no"]},
    {"question": REUTERS, "answer": "analysts said", "n": 3},
]


def _write(path: Path, records: list[dict]) -> Path:
    lines = "".join(json.dumps(r) + "\n" for r in records).encode()
    if path.name.endswith(".gz"):
        lines = gzip.compress(lines)
    elif path.name.endswith(".zst"):
        lines = zstandard.ZstdCompressor().compress(lines)
    path.write_bytes(lines)
    return path


@pytest.mark.parametrize("name", ["qa.jsonl", "qa.jsonl.gz", "qa.jsonl.zst", "qa.parquet"])
def test_every_format_gives_the_same_items_keys_and_fields(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    if name.endswith(".parquet"):
        rows = [{**r, "id": r.get("id"), "choices": r.get("choices")} for r in RECORDS]
        pq.write_table(pa.Table.from_pylist(rows), path)
    else:
        _write(path, RECORDS)
    items = list(read_eval_items(str(path)))
    assert [key for key, _ in items] == ["qa:q1", "qa:1"]  # the id, else the 0-based line
    assert items[0][1] == [
        ("question", PERSUASION),
        ("answer", "the Baronetage"),
        ("choices[0]", TUTORIAL),
        ("choices[1]", "no"),
    ]
    assert items[1][1] == [("question", REUTERS), ("answer", "analysts said")]  # n: not text
    assert eval_stem(str(path)) == "qa"


def test_a_text_file_is_one_item_per_line_keyed_by_its_line(tmp_path: Path) -> None:
    path = tmp_path / "lines.txt"
    path.write_text(f"{PERSUASION}\n\n{TUTORIAL}\n")
    assert list(read_eval_items(str(path))) == [
        ("lines:0", [("text", PERSUASION)]),
        ("lines:2", [("text", TUTORIAL)]),
    ]


def test_fields_choose_what_is_matched(tmp_path: Path) -> None:
    path = _write(tmp_path / "qa.jsonl", RECORDS)
    choices = Decontaminate(paths=[str(path)], fields=["choices"])
    question = Document(id="q", text=f"Persuasion opens: {PERSUASION}.")
    choice = Document(id="c", text=f"From the tutorial: {TUTORIAL}.")
    assert [d.id for d in choices([question, choice])] == ["q"]  # questions are not matched
    assert choice.meta["decontaminate"]["field"] == "choices[0]"
    every = Decontaminate(paths=[str(path)])
    assert list(every([question])) == []
    assert question.meta["decontaminate"]["field"] == "question"


def test_short_items_are_matched_whole_and_very_short_ones_not_at_all(tmp_path: Path) -> None:
    path = _write(tmp_path / "short.jsonl", [{"answer": TUTORIAL}, {"answer": "the Baronetage"}])
    index = EvalIndex.build([str(path)], ngram=13, min_words=8)
    assert index.counts[str(path)] == {"items": 2, "units": 1, "too_short": 1}
    stage = Decontaminate(paths=[str(path)])
    found = Document(id="a", text=f"From the tutorial: {TUTORIAL.upper()}!")
    partial = Document(id="b", text="The Python interpreter is easily extended with new functions")
    word = Document(id="c", text="He read nothing but the Baronetage.")
    assert [d.id for d in stage([found, partial, word])] == ["b", "c"]
    assert found.meta["decontaminate"]["ngram"] == " ".join(TUTORIAL.lower().split())


def test_a_hash_match_whose_words_differ_is_not_a_hit(tmp_path: Path) -> None:
    """What a 64-bit collision would look like: the window's hash is in the index but the
    unit's words there are others; the exact check rejects it."""
    path = _write(tmp_path / "qa.jsonl", [{"question": PERSUASION}])
    index = EvalIndex.build([str(path)])
    doc = f"It begins: {PERSUASION}."
    assert len(index.find([doc])[0]) == 12  # 24 words: 12 windows of 13
    index.unit_text[0] = index.unit_text[0].replace("kellynch", "uppercross")  # word 4
    index._words.clear()
    assert [h.pos for h in index.find([doc])[0]] == list(range(5, 12))  # those without it


def test_the_index_is_built_once_per_process_and_again_when_the_file_changes(
    tmp_path: Path,
) -> None:
    path = _write(tmp_path / "qa.jsonl", RECORDS)
    first, second = (Decontaminate(paths=[str(path)]) for _ in range(2))
    assert first.index is second.index
    assert Decontaminate(paths=[str(path)], ngram=10).index is not first.index
    _write(path, RECORDS[:1])
    os.utime(path, ns=(1, 1))
    assert Decontaminate(paths=[str(path)]).index is not first.index


def _config(tmp_path: Path, stage: str) -> Path:
    (tmp_path / "in.jsonl").write_text(json.dumps({"id": "d", "text": PERSUASION}) + "\n")
    config = tmp_path / "c.yaml"
    config.write_text(
        f"output: {{path: {tmp_path / 'out'}}}\n"
        f"sources:\n  books:\n    paths: [{tmp_path / 'in.jsonl'}]\n    weight: 1.0\n"
        f"    stages:\n      - normalize\n      - {stage}\n"
        "mixture: {total_tokens: 10, tokenizer: cl100k}\n"
    )
    return config


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "paths[0]: no eval file matches"),
        ("", "paths[0]: eval file {path} has nothing to match (0 items"),
        ('{"answer": "yes"}\n', "has nothing to match (1 items, 1 fields under min_words 8)"),
        ('{"question": "ok"}\n{"question": broken\n', "{path} line 2: not JSON"),
    ],
)
def test_a_missing_empty_or_broken_eval_file_is_a_config_error_with_its_key(
    tmp_path: Path, content: str | None, message: str
) -> None:
    path = tmp_path / "evals.jsonl"
    if content is not None:
        path.write_text(content)
    config = _config(tmp_path, f"decontaminate: {{paths: [{path}]}}")
    with pytest.raises(ConfigError) as err:
        load_config(str(config))
    [problem] = err.value.problems
    assert problem.startswith("sources.books.stages[1].decontaminate: ")
    assert message.format(path=path) in problem


def test_two_eval_files_with_one_name_are_refused(tmp_path: Path) -> None:
    for sub in ("a", "b"):
        (tmp_path / sub).mkdir()
        _write(tmp_path / sub / "qa.jsonl", RECORDS)
    with pytest.raises(ValueError, match="same name 'qa'"):
        Decontaminate(paths=[str(tmp_path / "a" / "qa.jsonl"), str(tmp_path / "b/*.jsonl")])
