"""The whole configs in README.md and docs/*.md validate as written (``cleanpipe validate``
from the repository root): a reader copies them first. Fragments (a ``dedup:`` section
alone) and configs on object stores, which need a network, are left out."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent


def _config_blocks() -> list[tuple[str, str]]:
    found = []
    for doc in [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]:
        text = doc.read_text(encoding="utf-8")
        for match in re.finditer(r"```yaml\n(.*?)```", text, re.S):
            block = match.group(1)
            parsed = yaml.safe_load(block)
            whole = isinstance(parsed, dict) and isinstance(parsed.get("sources"), dict)
            if whole and "s3://my-bucket" not in block:
                line = text[: match.start()].count("\n") + 1
                found.append((f"{doc.relative_to(REPO)}:{line}", block))
    return found


BLOCKS = _config_blocks()


def test_the_docs_have_whole_configs_to_check() -> None:
    assert len(BLOCKS) >= 5


@pytest.mark.parametrize(("where", "block"), BLOCKS, ids=[w for w, _ in BLOCKS])
def test_a_config_in_the_docs_validates_as_written(where: str, block: str, tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(block, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "cleanpipe", "validate", str(config)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, f"{where}: {done.stderr or done.stdout}"
