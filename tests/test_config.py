"""Config validation: every mistake reported at once, with its key path, before any work."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from cleanpipe.config import ConfigError, load_config, parse_config, parse_size


@pytest.fixture
def good(jsonl_gz: Path, tmp_path: Path) -> dict:
    return {
        "seed": 7,
        "output": {"path": str(tmp_path / "out"), "shard_size": "1MB"},
        "sources": {
            "web": {
                "paths": [str(jsonl_gz)],
                "weight": 0.8,
                "stages": ["normalize", {"langid": {"languages": ["en"], "min_score": 0.5}}],
            },
        },
        "dedup": False,
        "mixture": {"total_tokens": 1000, "max_epochs": 4},
    }


def problems(data: dict) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(data)
    return info.value.problems


def test_good_config_parses(good: dict) -> None:
    config = parse_config(good)
    assert config.seed == 7
    assert config.output.shard_size == 1_000_000
    assert [s.name for s in config.sources["web"].stages] == ["normalize", "langid"]
    assert config.sources["web"].stages[1].params == {"languages": ["en"], "min_score": 0.5}


def test_wrong_type_names_key_path_and_expectation(good: dict) -> None:
    good["sources"]["web"]["weight"] = "high"
    assert problems(good) == ["sources.web.weight: expected a number > 0, got 'high'"]


def test_unknown_key_is_an_error_with_a_suggestion(good: dict) -> None:
    good["sources"]["web"]["wieght"] = good["sources"]["web"].pop("weight")
    found = problems(good)
    assert any(
        p.startswith("sources.web.wieght: unknown key; did you mean 'weight'?") for p in found
    )
    assert "sources.web.weight: missing" in " ".join(found)


def test_unknown_stage_lists_known_stages(good: dict) -> None:
    good["sources"]["web"]["stages"].append("gopher_qualty")
    (problem,) = problems(good)
    assert problem.startswith("sources.web.stages[2]: unknown stage 'gopher_qualty';")
    assert "known stages:" in problem and "langid" in problem and "normalize" in problem


def test_bad_stage_parameter_and_value(good: dict) -> None:
    good["sources"]["web"]["stages"] = [
        {"langid": {"languages": "en", "min_scor": 0.5}},
        {"normalize": {"normalization": "NFX"}},
    ]
    found = problems(good)
    assert (
        "sources.web.stages[0].langid.languages: expected a list of strings or null, "
        "got 'en'" in found
    )
    assert any(
        p.startswith("sources.web.stages[0].langid.min_scor: unknown parameter")
        and "did you mean 'min_score'?" in p
        for p in found
    )
    assert any(p.startswith("sources.web.stages[1].normalize:") and "NFX" in p for p in found)


def test_stage_range_check_runs_at_validation(good: dict) -> None:
    good["sources"]["web"]["stages"] = [{"langid": {"min_score": 1.5}}]
    (problem,) = problems(good)
    assert problem.startswith("sources.web.stages[0].langid:") and "min_score" in problem


def test_glob_that_matches_nothing(good: dict, tmp_path: Path) -> None:
    good["sources"]["web"]["paths"].append(str(tmp_path / "nowhere" / "*.jsonl"))
    (problem,) = problems(good)
    assert problem.startswith("sources.web.paths[1]:") and "matches no files" in problem


def test_all_errors_at_once(good: dict) -> None:
    good["seed"] = "abc"
    good["output"]["shard_size"] = "huge"
    good["mixture"]["total_tokens"] = -5
    good["mixture"]["tokenizer"] = "gpt9"
    good["colour"] = "blue"
    found = problems(good)
    assert [p.split(":")[0] for p in found] == [
        "colour",
        "seed",
        "output.shard_size",
        "mixture.total_tokens",
        "mixture.tokenizer",
    ]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("256MB", 256_000_000),
        ("1GiB", 2**30),
        ("512 KB", 512_000),
        (4096, 4096),
        ("10k", 10_000),
    ],
)
def test_sizes(value: object, expected: int) -> None:
    assert parse_size(value) == expected


def test_total_tokens_forms(good: dict) -> None:
    for value, expected in [
        ("max", "max"),
        ({"chinchilla_params": 7e9}, {"chinchilla_params": 7e9}),
        (2_000_000, 2_000_000),
    ]:
        good["mixture"]["total_tokens"] = value
        assert parse_config(good).mixture.total_tokens == expected


def test_yaml_syntax_error_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("sources: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(str(path))


def test_cli_misspelled_key_fails_fast_and_writes_nothing(good: dict, tmp_path: Path) -> None:
    import yaml

    good["mixture"]["max_epoch"] = good["mixture"].pop("max_epochs")
    path = tmp_path / "typo.yaml"
    path.write_text(yaml.safe_dump(good))
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "cleanpipe.cli", "run", str(path)], capture_output=True, text=True
    )
    elapsed = time.perf_counter() - started
    assert proc.returncode == 2
    assert "mixture.max_epoch: unknown key; did you mean 'max_epochs'?" in proc.stderr
    assert not (tmp_path / "out").exists()
    assert elapsed < 10  # generous for a shared CI machine; typically well under a second
