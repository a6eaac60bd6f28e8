"""What a worker (and the CLI driver) imports before a stage needs it: the runner alone must not
pull in the libraries of stages a config may not name, nor pandas through pyarrow."""

from __future__ import annotations

import subprocess
import sys

import pytest

#: imported by the stage that needs it, never by `import cleanpipe.runner` (issue 17, part 3)
LAZY = ("tldextract", "requests", "ftfy", "phonenumbers", "fastwarc", "resiliparse", "tiktoken")


def _modules_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", code + "\nimport sys\nprint(' '.join(sys.modules))"],
        capture_output=True,
        text=True,
        check=True,
    )
    return set(out.stdout.split())


def test_the_runner_imports_no_stage_library() -> None:
    loaded = _modules_after("import cleanpipe.runner")
    assert "cleanpipe.stages.normalize" in loaded  # the registry is still complete
    assert not loaded & set(LAZY)


def test_a_stage_imports_its_library_when_built() -> None:
    loaded = _modules_after(
        "from cleanpipe.stages import Normalize\nNormalize().normalize_text('caf\\u00c3\\u00a9')"
    )
    assert "ftfy" in loaded


@pytest.mark.parametrize("pandas_first", [False, True])
def test_arrow_without_pandas_keeps_pandas_out_and_to_pandas_working(pandas_first: bool) -> None:
    pytest.importorskip("pandas")
    code = (
        ("import pandas\n" if pandas_first else "")
        + "from cleanpipe.executors.local import arrow_without_pandas\n"
        + "import pyarrow as pa\n"
        + "arrow_without_pandas()\n"
        + "t = pa.table({'id': ['a', 'b'], 'n': [1, 2]})\n"
        + "import sys\n"
        + "print('before', 'pandas' in sys.modules)\n"
        + "df = t.to_pandas()\n"
        + "assert pa.table(df).to_pydict() == t.to_pydict(), 'a DataFrame converts back'\n"
    )
    loaded = _modules_after(code)
    # pandas stays out until asked for explicitly (to_pandas), then works both ways
    assert "pandas" in loaded
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert ("before True" in out) == pandas_first
