"""Resume and the files stages read besides the documents (decontaminate's eval sets, a
classifier's model): they are inputs of the map tasks, so an edited one makes a rerun redo
the tasks of the sources that use it (and only those)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from cleanpipe.config import load_config
from cleanpipe.runner import run

REPO = Path(__file__).resolve().parents[2]
PERSUASION = (
    "Sir Walter Elliot, of Kellynch Hall, in Somersetshire, was a man who, for his own "
    "amusement, never took up any book but the Baronetage"
)
EMMA = (
    "Emma Woodhouse, handsome, clever, and rich, with a comfortable home and happy "
    "disposition, seemed to unite some of the best blessings of existence"
)


def test_an_edited_eval_set_redoes_the_map_tasks_that_read_it(tmp_path: Path) -> None:
    evals = tmp_path / "quiz.jsonl"
    evals.write_text(json.dumps({"id": "p", "question": PERSUASION}) + "\n")
    config_path = tmp_path / "c.yaml"
    config_path.write_text(
        f"output: {{path: {tmp_path / 'out'}}}\n"
        "sources:\n"
        f"  books:\n    paths: [{REPO / 'sample_data/books/austen.jsonl'}]\n    weight: 0.5\n"
        f"    stages: [{{decontaminate: {{paths: [{evals}]}}}}]\n"
        f"  news:\n    paths: [{REPO / 'sample_data/news/sotu.jsonl.zst'}]\n    weight: 0.5\n"
        "dedup: false\n"
        "mixture: {total_tokens: 20000, tokenizer: cl100k}\n"
    )
    first = run(load_config(str(config_path)), workers=1, progress=False)
    assert first.report["sources"]["books"]["dropped"] == {"decontaminate:contaminated": 1}
    evals.write_text(evals.read_text() + json.dumps({"id": "e", "question": EMMA}) + "\n")
    os.utime(evals, ns=(10**18, 10**18))  # a later mtime, whatever the clock's resolution
    again = run(load_config(str(config_path)), workers=1, progress=False)
    assert again.map_tasks_skipped == again.map_tasks - 1  # news resumed, books redone
    assert again.report["sources"]["books"]["dropped"] == {"decontaminate:contaminated": 2}


def test_a_replaced_classifier_model_redoes_the_map_tasks_that_use_it(tmp_path: Path) -> None:
    # retraining to the same path is the common case: the rerun must score with the new model
    model = tmp_path / "quality.ftz"
    model.write_bytes((REPO / "sample_data/models/sample_quality.ftz").read_bytes())
    config_path = tmp_path / "c.yaml"
    config_path.write_text(
        f"output: {{path: {tmp_path / 'out'}}}\n"
        "sources:\n"
        f"  books:\n    paths: [{REPO / 'sample_data/books/austen.jsonl'}]\n    weight: 0.5\n"
        f"    stages: [{{classifier: {{model_path: {model}, annotate_only: true}}}}]\n"
        f"  news:\n    paths: [{REPO / 'sample_data/news/sotu.jsonl.zst'}]\n    weight: 0.5\n"
        "dedup: false\n"
        "mixture: {total_tokens: 20000, tokenizer: cl100k}\n"
    )
    run(load_config(str(config_path)), workers=1, progress=False)
    unchanged = run(load_config(str(config_path)), workers=1, progress=False)
    assert unchanged.map_tasks_skipped == unchanged.map_tasks
    os.utime(model, ns=(10**18, 10**18))  # a new model written over the old one
    again = run(load_config(str(config_path)), workers=1, progress=False)
    assert again.map_tasks_skipped == again.map_tasks - 1  # news resumed, books redone
