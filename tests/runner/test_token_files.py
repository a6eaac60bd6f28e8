"""Token files of a run (issue 14): every document of every ``.bin`` decodes to the text of
its Parquet row, the manifest adds up to the report, and reruns are byte-identical."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
import yaml

from cleanpipe.config import parse_config
from cleanpipe.io.token_files import open_token_file
from cleanpipe.runner import run
from cleanpipe.tokens import HFTokenizer, load_tokenizer

REPO = Path(__file__).resolve().parents[2]
MANIFEST_KEYS = ["dtype", "files", "sources", "tokenizer", "tokens_include_eos"]


def digests(out: Path) -> dict[str, str]:
    files = [*(out / "data").glob("*.parquet"), *(out / "tokens").glob("*")]
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(files)}


def run_with(out: Path, workers: int = 2, edit=None, **output) -> dict:
    """configs/mixtures/llama.yaml with ``output`` keys set, run into ``out``."""
    data = yaml.safe_load((REPO / "configs/mixtures/llama.yaml").read_text())
    data["output"].update(output)
    if edit is not None:
        edit(data)
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(REPO)
        config = parse_config(data, output=str(out))
        return run(config, workers=workers, progress=False).report


def assert_decodes_to_parquet(out: Path, tokenizer) -> int:
    """Every document of every .bin decodes to its Parquet row's text; returns the rows."""
    tok = load_tokenizer(tokenizer)
    rows = 0
    for shard in sorted((out / "data").glob("*.parquet")):
        table = pq.read_table(shard, columns=["text", "tokens"])
        tokens = open_token_file(str(out / "tokens" / shard.name.replace(".parquet", ".bin")))
        assert len(tokens) == table.num_rows
        for i, (text, count) in enumerate(
            zip(table.column("text").to_pylist(), table.column("tokens").to_pylist(), strict=True)
        ):
            ids = tokens.document(i).tolist()
            assert len(ids) == count and tok.eos_id not in ids
            assert tok.decode(ids) == text, f"{shard.name} row {i}"
            assert tokens.tokens[tokens.offsets[i + 1] - 1] == tok.eos_id
        rows += table.num_rows
    return rows


@pytest.fixture(scope="module")
def megatron_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict, dict]:
    out = tmp_path_factory.mktemp("megatron")
    report = run_with(out, token_files="megatron")
    first = digests(out)
    run_with(out, workers=1, token_files="megatron")  # resumed, another worker count
    return out, report, first


def test_megatron_documents_decode_to_the_parquet_text(megatron_run) -> None:
    out, report, _ = megatron_run
    assert assert_decodes_to_parquet(out, "cl100k") == report["run"]["total_docs"]
    assert sorted(p.suffix for p in (out / "tokens").glob("train-*")) == [".bin"] * 2 + [".idx"] * 2


def test_manifest_adds_up_to_the_report(megatron_run) -> None:
    out, report, _ = megatron_run
    manifest = json.loads((out / "tokens" / "manifest.json").read_text())
    assert sorted(manifest) == MANIFEST_KEYS
    assert manifest["tokenizer"] == {"name": "cl100k", "vocab_size": 100277, "eos_id": 100257}
    assert manifest["dtype"] == "int32" and manifest["tokens_include_eos"] is False
    for name, source in report["sources"].items():
        want = {"documents": source["output_docs"], "tokens": source["output_tokens"]}
        assert manifest["sources"][name] == want
    assert sum(f["tokens"] for f in manifest["files"]) == report["run"]["total_tokens"]
    for entry in manifest["files"]:
        stem = out / "tokens" / entry["name"].removesuffix(".bin")
        for kind, digest in entry["sha256"].items():
            path = stem.with_suffix(f".{kind}")
            assert hashlib.sha256(path.read_bytes()).hexdigest() == digest


def test_rerun_with_another_worker_count_is_byte_identical(megatron_run) -> None:
    out, _, first = megatron_run
    assert digests(out) == first


def test_token_files_leave_the_parquet_shards_as_they_are(megatron_run, tmp_path) -> None:
    out, _, first = megatron_run
    plain = tmp_path / "plain"
    shutil.copytree(out, plain)  # map and route tasks are reused: only the shards are redone
    run_with(plain, workers=1)
    assert digests(plain) == {k: v for k, v in first.items() if k.endswith(".parquet")}
    assert not (plain / "tokens").exists()  # no stale token files pass for this run's


def test_numpy_files_decode_and_load_with_memmap(megatron_run, tmp_path) -> None:
    out = tmp_path / "numpy"
    shutil.copytree(megatron_run[0], out)
    report = run_with(out, token_files="numpy")
    assert assert_decodes_to_parquet(out, "cl100k") == report["run"]["total_docs"]
    for shard in report["run"]["shards"]:
        stem = out / "tokens" / shard["shard"].removesuffix(".parquet")
        tokens = np.memmap(f"{stem}.bin", dtype=np.uint32, mode="r")
        offsets = np.load(f"{stem}.offsets.npy", mmap_mode="r")
        assert offsets[0] == 0 and offsets[-1] == len(tokens) and len(offsets) == shard["rows"] + 1
    assert not list((out / "tokens").glob("*.idx"))
    readme_blocks_run(out, tmp_path / "cwd", megatron_run[0])


def readme_blocks_run(numpy_out: Path, cwd: Path, megatron_out: Path) -> None:
    """README "Training on the output": the np.memmap snippet runs as written on a numpy
    run in out/llama, and every --data-path prefix is a .bin/.idx pair of a megatron run."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Training on the output", 1)[1].split("\n## ", 1)[0]
    (snippet,) = re.findall(r"```python\n(.*?)```", section, re.S)
    (cwd / "out").mkdir(parents=True)
    (cwd / "out" / "llama").symlink_to(numpy_out)
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(cwd)
        exec(compile(snippet, "README.md", "exec"), {"__name__": "readme_example"})  # noqa: S102
    (line,) = [x for x in section.splitlines() if "--data-path" in x]
    prefixes = line.split("--data-path", 1)[1].split()
    assert len(prefixes) == 2
    for prefix in prefixes:
        stem = megatron_out / Path(prefix).relative_to("out/llama")
        assert stem.with_suffix(".bin").is_file() and stem.with_suffix(".idx").is_file()


def news_only(tokenizer) -> callable:
    def edit(data: dict) -> None:
        data["sources"] = {"news": data["sources"]["news"]}
        data["sources"]["news"]["weight"] = 1
        data["dedup"] = False
        data["mixture"].update(total_tokens=20_000, tokenizer=tokenizer)

    return edit


@pytest.fixture(scope="module")
def hf_tokenizer(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A byte-level BPE tokenizer.json trained on the sample's books, as LLaMA-3's or
    Qwen's are built (smaller); its end-of-document token in a tokenizer_config.json."""
    tokenizers = pytest.importorskip("tokenizers")
    folder = tmp_path_factory.mktemp("hf")
    lines = [json.loads(line)["text"] for line in (REPO / "sample_data/books/austen.jsonl").open()]
    tok = tokenizers.Tokenizer(tokenizers.models.BPE())
    tok.pre_tokenizer = tokenizers.pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = tokenizers.decoders.ByteLevel()
    trainer = tokenizers.trainers.BpeTrainer(
        vocab_size=2000,
        special_tokens=["<|endoftext|>"],
        initial_alphabet=tokenizers.pre_tokenizers.ByteLevel.alphabet(),
    )
    tok.train_from_iterator(lines, trainer)
    tok.save(str(folder / "tokenizer.json"))
    (folder / "tokenizer_config.json").write_text(json.dumps({"eos_token": "<|endoftext|>"}))
    return folder / "tokenizer.json"


def test_hf_tokenizer_json_documents_decode(hf_tokenizer: Path, tmp_path: Path) -> None:
    report = run_with(tmp_path, token_files="megatron", edit=news_only({"hf": str(hf_tokenizer)}))
    assert assert_decodes_to_parquet(tmp_path, HFTokenizer(str(hf_tokenizer))) > 0
    manifest = json.loads((tmp_path / "tokens" / "manifest.json").read_text())
    assert manifest["tokenizer"] == {"name": f"hf:{hf_tokenizer}", "vocab_size": 2000, "eos_id": 0}
    assert manifest["dtype"] == "uint16"
    assert report["run"]["tokenizer"] == f"hf:{hf_tokenizer}"


def test_mistral_v1_numpy_files_are_uint16(tmp_path: Path) -> None:
    run_with(tmp_path, token_files="numpy", edit=news_only("mistral-v1"))
    assert assert_decodes_to_parquet(tmp_path, "mistral-v1") > 0
    manifest = json.loads((tmp_path / "tokens" / "manifest.json").read_text())
    assert manifest["tokenizer"] == {"name": "mistral-v1", "vocab_size": 32000, "eos_id": 2}
    assert manifest["dtype"] == "uint16"
