"""The command line: one clear line for every mistake, Ctrl-C, and `cleanpipe stages`."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from cleanpipe.cli import main
from tests.conftest import write_config

REPO = Path(__file__).resolve().parent.parent


def config_text(tmp_path: Path, jsonl_gz: Path, mixture: str = "{total_tokens: max}") -> str:
    return (
        f"output: {{path: {tmp_path / 'out'}}}\n"
        f"sources:\n  web:\n    paths: [{jsonl_gz}]\n    weight: 1\n"
        f"dedup: false\nmixture: {mixture}\n"
    )


def test_stages_prints_whole_first_paragraphs_without_sphinx_markup_and_choices() -> None:
    result = CliRunner(env={"COLUMNS": "1000"}).invoke(main, ["stages"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert not re.search(r":(func|class|meth|data|mod):`", out)
    words = " ".join(out.split())  # captions wrap at the table's width
    # was cut after "with a" (its first line) and showed (:func:`...fold_text`)
    assert (
        'C4 cleaning: Raffel et al. 2020, "Exploring the Limits of Transfer Learning with a '
        'Unified Text-to-Text Transformer" (T5)'
    ) in words
    assert "identical folded texts (cleanpipe.dedup.signatures.fold_text), across all" in words
    rows = {line.split("│")[1].strip(): line for line in out.splitlines() if line.count("│") > 4}
    assert "first, longest, source_priority" in rows["keep"]
    assert "NFC, NFKC, NFD, NFKD, None" in rows["normalization"]
    assert "token, fake" in rows["replace"]


def test_validate_hf_uri_offline_is_one_line(tmp_path: Path, jsonl_gz: Path) -> None:
    body = config_text(tmp_path, jsonl_gz).replace(
        str(jsonl_gz), "hf://datasets/HuggingFaceFW/fineweb-edu/sample/10BT/*.parquet"
    )
    result = CliRunner().invoke(main, ["validate", str(write_config(tmp_path, body))])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    (problem,) = [line for line in result.output.splitlines() if line.startswith("  ")]
    assert "sources.web.paths[0]:" in problem and "unsupported URI scheme 'hf://'" in problem


def test_validate_llama_tokenizer_without_the_extra(
    tmp_path: Path, jsonl_gz: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "mistral_common", None)  # not installed
    body = config_text(tmp_path, jsonl_gz, "{total_tokens: max, tokenizer: mistral-v1}")
    result = CliRunner().invoke(main, ["validate", str(write_config(tmp_path, body))])
    assert result.exit_code == 2
    assert (
        "mixture.tokenizer: tokenizer mistral-v1 needs the llama-tokenizer extra (missing: "
        'mistral_common): pip install "cleanpipe[llama-tokenizer]"'
    ) in result.output


def test_run_into_an_unwritable_output_fails_at_validation(tmp_path: Path, jsonl_gz: Path) -> None:
    blocker = tmp_path / "taken"
    blocker.write_text("a file where the output folder should go")
    config = write_config(tmp_path, config_text(tmp_path, jsonl_gz))
    proc = subprocess.run(
        [sys.executable, "-m", "cleanpipe.cli", "run", str(config), "-o", str(blocker / "out")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert f"--output: cannot create '{blocker / 'out'}': '{blocker}' is a file" in proc.stderr


def test_ctrl_c_exits_130_without_tracebacks_and_says_how_to_resume(tmp_path: Path) -> None:
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "cleanpipe.cli", "run", "configs/mixtures/llama.yaml"]
    cmd += ["--workers", "2", "--output", str(out)]
    proc = subprocess.Popen(
        cmd, cwd=REPO, start_new_session=True, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if len(list((out / "staging").glob("*/*.done.json"))) >= 2:
            break
        time.sleep(0.05)
    assert proc.poll() is None, "the run finished before it could be interrupted"
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal does: the whole group
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr
    assert "rerun the same command to resume" in stderr.splitlines()[-1]
    finished = len(list((out / "staging").glob("*/*.done.json")))
    resumed = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert f"map tasks reused: {finished}/" in resumed.stderr


def test_run_with_output_flag_needs_no_output_section(tmp_path: Path, jsonl_gz: Path) -> None:
    body = config_text(tmp_path, jsonl_gz).replace(f"output: {{path: {tmp_path / 'out'}}}\n", "")
    config = write_config(tmp_path, body)
    runner = CliRunner()
    checked = runner.invoke(main, ["validate", str(config)])
    assert checked.exit_code == 0, checked.output
    assert "output not set: `cleanpipe run` needs --output DIR" in checked.output
    refused = runner.invoke(main, ["run", str(config), "-q", "-w", "1"])
    assert refused.exit_code == 2
    assert "output: missing" in refused.output
    out = tmp_path / "given"
    done = runner.invoke(main, ["run", str(config), "--output", str(out), "-q", "-w", "1"])
    assert done.exit_code == 0, done.output
    assert sorted(p.name for p in (out / "data").iterdir()) == ["train-00000-of-00001.parquet"]


def test_inspect_decodes_a_document_of_a_token_file(tmp_path: Path, jsonl_gz: Path) -> None:
    body = config_text(tmp_path, jsonl_gz, "{total_tokens: max, max_epochs: 1}")
    body = body.replace("}\nsources", ", token_files: megatron}\nsources")
    config = write_config(tmp_path, body)
    assert CliRunner().invoke(main, ["run", str(config), "-q"]).exit_code == 0
    texts = pq.read_table(tmp_path / "out/data/train-00000-of-00001.parquet").column("text")
    bin_path = str(tmp_path / "out/tokens/train-00000-of-00001.bin")
    result = CliRunner().invoke(main, ["inspect", bin_path, "--doc", "2"])
    assert result.exit_code == 0, result.output
    assert result.stdout == texts[2].as_py() + "\n"
    assert "document 2 of 3" in result.stderr
    result = CliRunner().invoke(main, ["inspect", bin_path, "--doc", "3"])
    assert result.exit_code == 1 and "document 3 out of range: the file has 3" in result.output
