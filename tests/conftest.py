"""Shared fixtures: small real-text inputs written in every supported format."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

# Article 1 of the Universal Declaration of Human Rights and other real sentences.
ENGLISH = [
    "All human beings are born free and equal in dignity and rights. They are endowed with "
    "reason and conscience and should act towards one another in a spirit of brotherhood.",
    "The Python standard library is very extensive, offering a wide range of facilities. The "
    "library contains built-in modules that provide access to system functionality such as "
    "file I/O that would otherwise be inaccessible to Python programmers.",
    "It is a truth universally acknowledged, that a single man in possession of a good "
    "fortune, must be in want of a wife. However little known the feelings or views of such "
    "a man may be on his first entering a neighbourhood, this truth is so well fixed.",
]


@pytest.fixture
def repo_root() -> Path:
    return Path(__file__).resolve().parent.parent


@pytest.fixture
def jsonl_gz(tmp_path: Path) -> Path:
    path = tmp_path / "web" / "part-0.jsonl.gz"
    path.parent.mkdir(parents=True)
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        for i, text in enumerate(ENGLISH):
            fh.write(json.dumps({"id": f"web-{i}", "text": text, "url": f"https://e.org/{i}"}))
            fh.write("\n")
    return path


def write_config(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(body, encoding="utf-8")
    return path
