"""Stable hashes: the values that end up in files must not change between versions."""

from __future__ import annotations

import hashlib
import json

from cleanpipe.config import (
    Config,
    MixtureConfig,
    OutputConfig,
    SourceConfig,
    StageSpec,
    parse_config,
)
from cleanpipe.hashing import digest, fingerprint, folder_digest, package_digest, stable_hash


def _config(output: str = "out/x", code: str = "abc") -> Config:
    normalize = StageSpec("normalize", {"form": "NFC"}, "cleanpipe.stages.normalize", code)
    web = SourceConfig("web", ("web/*.jsonl",), 1.0, stages=(normalize,))
    return Config(
        seed=1,
        output=OutputConfig(output),
        sources={"web": web},
        dedup=None,
        mixture=MixtureConfig(total_tokens=1000),
    )


def test_config_fingerprint_in_shard_footers_keeps_its_value() -> None:
    # Written into every shard's Parquet footer (cleanpipe.config_fingerprint): a change of
    # this value changes every shard's bytes, so it is pinned.
    expected = "2d200d6b66d0494bffdac57114194fc1e80b45f6619cbf24cf5e44c2dc9b6f0a"
    assert _config().fingerprint() == expected


def test_config_fingerprint_does_not_change_with_the_code_of_a_stage() -> None:
    # a refactor of a stage module changes its code digest (which decides resume), not the
    # config: the shards of an unchanged config stay byte-identical
    edited = _config(code="def")
    assert edited.fingerprint() == _config().fingerprint()
    assert edited.sources["web"].stages[0].code != _config().sources["web"].stages[0].code


def test_config_fingerprint_ignores_where_the_output_is_written() -> None:
    assert _config("out/a").fingerprint() == _config("s3://bucket/b").fingerprint()


def test_fingerprint_is_sha256_of_canonical_json() -> None:
    data = {"b": [1, 2], "a": {"y": 1.5, "x": None}}
    blob = json.dumps(data, sort_keys=True, default=str).encode()
    assert fingerprint(data, length=None) == hashlib.sha256(blob).hexdigest()
    assert fingerprint(data) == hashlib.sha256(blob).hexdigest()[:16]


def test_fingerprint_does_not_depend_on_key_order() -> None:
    assert fingerprint({"a": 1, "b": 2}) == fingerprint({"b": 2, "a": 1})
    assert fingerprint({"a": 1}) != fingerprint({"a": 2})


def test_digest_of_bytes_has_the_requested_length() -> None:
    assert digest(b"cleanpipe") == hashlib.sha256(b"cleanpipe").hexdigest()[:16]
    assert len(digest(b"cleanpipe", length=8)) == 8
    assert len(digest(b"cleanpipe", length=None)) == 64


def test_stable_hash_is_seeded_and_reproducible() -> None:
    assert stable_hash(42, "web", 3) == stable_hash(42, "web", 3)
    assert stable_hash(42, "web", 3) != stable_hash(43, "web", 3)
    assert stable_hash(42, "web", 3) != stable_hash(42, "web", 4)


def test_folder_digest_changes_with_any_file_below_it(tmp_path) -> None:
    # resume must notice an edit to a helper module or a data file, not only the module
    # that defines a stage class
    (tmp_path / "stage.py").write_text("from helper import rule\n")
    (tmp_path / "helper.py").write_text("LIMIT = 3\n")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "de.txt").write_text("und\nder\n")
    first = folder_digest.__wrapped__(str(tmp_path))
    (tmp_path / "helper.py").write_text("LIMIT = 4\n")
    second = folder_digest.__wrapped__(str(tmp_path))
    (tmp_path / "data" / "de.txt").write_text("und\nder\ndie\n")
    third = folder_digest.__wrapped__(str(tmp_path))
    assert len({first, second, third}) == 3


def test_a_built_in_stage_code_covers_the_whole_package() -> None:
    config = parse_config(
        {
            "sources": {"web": {"paths": ["README.md"], "weight": 1, "stages": ["gopher_quality"]}},
            "output": {"path": "out/x"},
        }
    )
    assert config.sources["web"].stages[0].code == package_digest()
