"""Config validation: every mistake reported at once, with its key path, before any work."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cleanpipe.config import (
    ConfigError,
    MixtureConfig,
    OutputConfig,
    SourceConfig,
    load_config,
    parse_config,
    parse_size,
)
from cleanpipe.dedup.config import DedupConfig


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


# -- numbers, paths and formats known at validation time ----------------------------------


def yaml_config(tmp_path: Path, jsonl_gz: Path, body: str) -> Path:
    path = tmp_path / "my.yaml"
    path.write_text(
        f"output: {{path: {tmp_path / 'out'}, shard_size: 1e8}}\n"
        f"sources:\n  web:\n    paths: [{jsonl_gz}]\n    weight: 1\n" + body,
        encoding="utf-8",
    )
    return path


def test_scientific_notation_is_a_number_where_one_is_expected(
    tmp_path: Path, jsonl_gz: Path
) -> None:
    # PyYAML (YAML 1.1) reads 7e9 as the string '7e9'; the README writes it so
    path = yaml_config(
        tmp_path,
        jsonl_gz,
        "    max_doc_bytes: 1e7\n"
        "    stages: [{langid: {min_score: 6.5e-1}}, {gopher_quality: {max_words: 1e5}}]\n"
        "mixture: {total_tokens: {chinchilla_params: 7e9}, max_epochs: 4e0}\n",
    )
    config = load_config(str(path))
    assert config.mixture.total_tokens == {"chinchilla_params": 7e9}
    assert config.output.shard_size == 100_000_000
    assert config.sources["web"].max_doc_bytes == 10_000_000
    assert config.sources["web"].stages[0].params == {"min_score": 0.65}
    max_words = config.sources["web"].stages[1].params["max_words"]
    assert max_words == 100_000 and isinstance(max_words, int)
    path = yaml_config(tmp_path, jsonl_gz, "mixture: {total_tokens: 1e6}\n")
    assert load_config(str(path)).mixture.total_tokens == 1_000_000


def test_non_numbers_are_still_rejected_with_their_key_path(tmp_path: Path, jsonl_gz: Path) -> None:
    path = yaml_config(
        tmp_path,
        jsonl_gz,
        "mixture: {total_tokens: {chinchilla_params: 7 billion}, max_epochs: 1.5e}\n",
    )
    with pytest.raises(ConfigError) as info:
        load_config(str(path))
    assert info.value.problems == [
        "mixture.total_tokens: expected a positive integer, 'max', or {chinchilla_params: N}, "
        "got {'chinchilla_params': '7 billion'}",
        "mixture.max_epochs: expected a number > 0, got '1.5e'",
    ]
    good_int = yaml_config(tmp_path, jsonl_gz, "mixture: {total_tokens: 1.5e3}\n")
    assert load_config(str(good_int)).mixture.total_tokens == 1500
    fraction = yaml_config(tmp_path, jsonl_gz, "mixture: {total_tokens: 1.5e0}\n")
    with pytest.raises(ConfigError, match="mixture.total_tokens: expected a positive integer"):
        load_config(str(fraction))


def test_every_problem_of_one_stage_at_once(good: dict, tmp_path: Path) -> None:
    good["sources"]["web"]["stages"] = [
        {"langid": {"languages": "en", "min_score": 1.5, "model_path": str(tmp_path / "no.bin")}}
    ]
    found = problems(good)
    assert len(found) == 3, found
    assert (
        found[0]
        == "sources.web.stages[0].langid.languages: expected a list of strings or null, got 'en'"
    )
    assert any("min_score" in p for p in found[1:])
    assert any("no.bin" in p for p in found[1:])


def test_source_priority_must_name_sources(good: dict) -> None:
    good["sources"]["books"] = dict(good["sources"]["web"], weight=0.2)
    good["dedup"] = {"keep": "source_priority", "source_priority": ["bokos", "web", "news"]}
    assert problems(good) == [
        "dedup.source_priority[0]: unknown source 'bokos'; did you mean 'books'? "
        "sources: web, books",
        "dedup.source_priority[2]: unknown source 'news'; sources: web, books",
    ]


def test_a_parameter_written_as_a_stage_is_not_matched_to_a_stage_name(good: dict) -> None:
    good["sources"]["web"]["stages"] = ["normalize", {"min_score": 0.5}]
    (problem,) = problems(good)
    assert problem.startswith(
        "sources.web.stages[1]: unknown stage 'min_score'; 'min_score' is a parameter of "
        "'classifier', 'langid', not a stage (write `- classifier: {min_score: ...}`)."
    )


@pytest.mark.parametrize(
    ("name", "what"),
    [
        ("IAH-20080430204825-00000-blackbook.arc.gz", "ARC (the web archive format before WARC)"),
        ("data-00000-of-00001.arrow", "Arrow IPC"),
        ("train.csv", "CSV"),
        ("train.tsv", "TSV"),
        ("pg1342.txt.bz2", "bzip2-compressed"),
    ],
)
def test_input_of_a_format_cleanpipe_does_not_read(
    good: dict, tmp_path: Path, name: str, what: str
) -> None:
    path = tmp_path / "in" / name
    path.parent.mkdir()
    path.write_bytes(b"filedesc://IAH" if "arc" in name else b"a,b\n1,2\n")
    good["sources"]["web"]["paths"] = [str(tmp_path / "in" / "*")]
    (problem,) = problems(good)
    assert problem.startswith(
        f"sources.web.paths[0]: '{path}' is {what}, which cleanpipe does not read"
    )
    assert "it reads JSON Lines" in problem and "Parquet" in problem


def test_plain_text_files_and_folders_are_read_not_refused(good: dict, tmp_path: Path) -> None:
    code = tmp_path / "code"
    code.mkdir()
    for name in ["setup.py", "README.md", "notes.txt", "LICENSE", "data.csv"]:
        (code / name).write_text("All human beings are born free and equal.\n")
    good["sources"]["web"]["paths"] = [str(code), str(code / "*.py"), str(code / "LICENSE")]
    parse_config(good)  # a stray .csv inside a folder of text is read (or rejected) as text
    archives = tmp_path / "crawl"
    archives.mkdir()
    (archives / "a.arc.gz").write_bytes(b"\x1f\x8b")
    (archives / "b.arc.gz").write_bytes(b"\x1f\x8b")
    good["sources"]["web"]["paths"] = [str(archives)]
    (problem,) = problems(good)
    assert "is a folder of ARC (the web archive format before WARC" in problem


def test_unsupported_uri_scheme_is_one_line_not_a_crash(good: dict) -> None:
    good["sources"]["web"]["paths"] = ["hf://datasets/HuggingFaceFW/fineweb/sample/10BT/*.parquet"]
    (problem,) = problems(good)
    assert problem.startswith(
        "sources.web.paths[0]: 'hf://datasets/HuggingFaceFW/fineweb/sample/10BT/*.parquet': "
        "unsupported URI scheme 'hf://'; cleanpipe reads local paths and s3://"
    )
    assert "huggingface-cli download" in problem and "\n" not in problem


def test_output_path_that_cannot_be_written(good: dict, tmp_path: Path) -> None:
    blocker = tmp_path / "report.txt"
    blocker.write_text("not a folder")
    good["output"]["path"] = str(blocker)
    assert problems(good) == [f"output.path: '{blocker}' is a file, not a folder"]
    good["output"]["path"] = str(blocker / "out")
    assert problems(good) == [
        f"output.path: cannot create '{blocker / 'out'}': '{blocker}' is a file, not a folder"
    ]
    with pytest.raises(ConfigError, match="--output: "):
        parse_config(dict(good, output={"path": str(tmp_path / "ok")}), output=str(blocker))


def test_output_flag_stands_in_for_a_missing_output_section(good: dict, tmp_path: Path) -> None:
    del good["output"]
    config = parse_config(good, output=str(tmp_path / "elsewhere"))
    assert config.output.path == str(tmp_path / "elsewhere")
    assert config.output.shard_size == 256_000_000  # the OutputConfig defaults
    assert config.output.compression == "zstd"
    assert problems(good) == [
        "output: missing: expected {path: ..., shard_size: ..., compression: ...}"
    ]


def test_output_section_without_a_path_takes_it_from_the_flag(good: dict, tmp_path: Path) -> None:
    del good["output"]["path"]
    config = parse_config(good, output=str(tmp_path / "elsewhere"))
    assert (config.output.path, config.output.shard_size) == (str(tmp_path / "elsewhere"), 10**6)
    assert problems(good) == ["output.path: missing: the folder to write to"]


def test_a_config_may_leave_the_output_to_the_run_when_asked(good: dict) -> None:
    del good["output"]
    assert parse_config(good, require_output=False).output.path == ""


def test_defaults_are_the_dataclass_defaults(good: dict) -> None:
    good = {"sources": {"web": {"paths": good["sources"]["web"]["paths"], "weight": 1}}}
    config = parse_config(good, output="out")
    assert config.seed == 0
    assert config.sources["web"] == SourceConfig("web", tuple(good["sources"]["web"]["paths"]), 1.0)
    assert config.mixture == MixtureConfig()
    assert config.output == OutputConfig("out")
    assert config.dedup == DedupConfig()


@pytest.mark.skipif(sys.platform == "win32" or os.geteuid() == 0, reason="root writes anywhere")
def test_output_path_in_a_read_only_folder(good: dict, tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        good["output"]["path"] = str(locked / "out")
        (problem,) = problems(good)
        assert problem.startswith("output.path:") and "permission denied" in problem
    finally:
        locked.chmod(0o755)


def test_llama_tokenizer_without_its_extra_is_a_config_error(
    good: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    # as if `pip install cleanpipe` had been run without [llama-tokenizer]
    monkeypatch.setitem(sys.modules, "sentencepiece", None)
    good["mixture"]["tokenizer"] = "mistral-v1"
    assert problems(good) == [
        "mixture.tokenizer: tokenizer mistral-v1 needs the llama-tokenizer extra (missing: "
        'sentencepiece): pip install "cleanpipe[llama-tokenizer]"'
    ]


def test_stage_specs_carry_their_code_into_the_manifest(good: dict) -> None:
    config = parse_config(good)
    spec = config.sources["web"].stages[0]
    assert spec.module == "cleanpipe.stages.normalize" and len(spec.code) == 16
    stage = config.to_dict()["sources"]["web"]["stages"][0]
    assert stage == {"name": "normalize", "params": {}, "module": spec.module, "code": spec.code}
    assert config.fingerprint() == parse_config(good).fingerprint()


def test_token_files_need_exact_counting(good: dict) -> None:
    good["output"]["token_files"] = "megatron"
    good["mixture"]["token_counting"] = "estimate"
    assert problems(good) == [
        "output.token_files: megatron token files need exact token counts; remove "
        "mixture.token_counting: estimate (or set it to exact)"
    ]
    good["output"]["token_files"] = "arrow"
    good["mixture"]["token_counting"] = "exact"
    assert problems(good) == [
        "output.token_files: expected one of none, megatron, numpy, got 'arrow'"
    ]


def test_token_files_leave_the_shard_footer_fingerprint_alone(good: dict) -> None:
    plain = parse_config(good)
    good["output"]["token_files"] = "numpy"
    assert parse_config(good).fingerprint() == plain.fingerprint()


def test_hf_tokenizer_file_and_eos_are_checked_at_validation(good: dict, tmp_path: Path) -> None:
    tokenizers = pytest.importorskip("tokenizers")
    good["mixture"]["tokenizer"] = {"hf": str(tmp_path / "missing.json")}
    assert problems(good) == [
        f"mixture.tokenizer.hf: '{tmp_path / 'missing.json'}': no such file (tokenizers are "
        "never downloaded)"
    ]
    tok = tokenizers.Tokenizer(tokenizers.models.WordLevel({"a": 0, "</s>": 1}, unk_token="a"))
    tok.save(str(tmp_path / "tokenizer.json"))
    good["mixture"]["tokenizer"] = {"hf": str(tmp_path / "tokenizer.json")}
    (message,) = problems(good)
    assert message.startswith("mixture.tokenizer: no end-of-document token for ")
    good["mixture"]["tokenizer"]["eos_token"] = "<|im_end|>"
    assert problems(good) == [
        f"mixture.tokenizer: eos_token '<|im_end|>' is not in the vocabulary of "
        f"{tmp_path / 'tokenizer.json'}"
    ]
    good["mixture"]["tokenizer"]["eos_token"] = "</s>"
    assert parse_config(good).mixture.tokenizer.eos_token == "</s>"
