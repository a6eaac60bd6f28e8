"""Fixtures of tests/report/: the report.json of one real run of the llama config (made once
per test session: the run takes a while), and variants of it."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from cleanpipe.config import load_config
from cleanpipe.runner import run


@pytest.fixture(scope="session")
def llama_report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """report.json of a real run of configs/mixtures/llama.yaml on sample_data/."""
    repo = Path(__file__).resolve().parents[2]
    out = tmp_path_factory.mktemp("llama-report")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(repo)
        run(load_config("configs/mixtures/llama.yaml", output=str(out)), workers=2, progress=False)
    return json.loads((out / "report.json").read_text(encoding="utf-8"))


@pytest.fixture
def report(llama_report: dict[str, Any]) -> dict[str, Any]:
    """The llama run's report, a copy each test may change."""
    return copy.deepcopy(llama_report)


@pytest.fixture
def sized_report(llama_report: dict) -> dict:
    """The report with chars and tokens per funnel step (a C4-like line filter in web keeps
    most documents but a tenth of their text)."""
    sized = copy.deepcopy(llama_report)
    for src in sized["sources"].values():
        chars, prev = 0, 1
        for i, step in enumerate(src["funnel"]):
            chars = step["docs"] * 1000 if i == 0 else chars * step["docs"] // prev
            if step["step"] == "c4_quality":
                chars //= 10
            step["chars"], step["tokens"] = chars, chars // 4
            prev = step["docs"] or 1
        src["funnel_tokens"] = "estimated"
    return sized


@pytest.fixture
def unsized_report(llama_report: dict) -> dict:
    """The report as an older run wrote it: no chars or tokens per funnel step."""
    older = copy.deepcopy(llama_report)
    for src in older["sources"].values():
        src.pop("funnel_tokens", None)
        for step in src["funnel"]:
            step.pop("chars", None)
            step.pop("tokens", None)
    return older


@pytest.fixture
def failed_report(llama_report: dict) -> dict:
    """What the run driver writes when a run fails after reading and staging."""
    failed = copy.deepcopy(llama_report)
    failed["status"] = "failed"
    failed["error"] = (
        "source 'stdlib': all 95 records rejected: read:missing_text (no field 'text'; "
        "fields seen: content, url)"
    )
    failed["run"]["shards"] = []
    for key in ("total_tokens", "total_docs", "shards_written", "budget_tokens"):
        failed["run"].pop(key, None)
    for src in failed["sources"].values():
        for key in ("tokens_available", "epochs", "achieved_share", "output_docs"):
            src.pop(key, None)
        src["output_tokens"] = None
        src.pop("accounting", None)
        src["funnel"] = src["funnel"][:-1]  # no dedup step
    del failed["dedup"], failed["accounting_ok"]
    return failed
