"""Custom stages from the command line: ``plugins:`` modules and ``cleanpipe.stages`` entry
points, imported by the driver and by every worker; a stage's code is part of the resume
fingerprint."""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from cleanpipe.config import ConfigError, load_config
from tests.conftest import ENGLISH

REPO = Path(__file__).resolve().parent.parent

# The README's example stage, as a user writes it in a file beside their config.
MIN_CHARS = '''\
"""Our own stages."""

from cleanpipe.stages import Filter, register


@register("min_chars_{tag}")
class MinChars(Filter):
    """Drops documents shorter than ``min_chars`` characters."""

    def __init__(self, *, min_chars: int = {default}, annotate_only: bool = False) -> None:
        super().__init__(annotate_only=annotate_only)
        self.min_chars = min_chars

    def check(self, doc):
        doc.meta["chars"] = len(doc.text)
        return "too_short" if len(doc.text) < self.min_chars else None
'''


def project(tmp_path: Path, tag: str, default: int = 100, stages: str = "") -> Path:
    """A project folder: my_stages_<tag>.py, an input file and a config using the stage."""
    root = tmp_path / "project"
    (root / "data").mkdir(parents=True)
    (root / f"my_stages_{tag}.py").write_text(MIN_CHARS.format(tag=tag, default=default))
    texts = ENGLISH + ["Too short.", "Also far too short to keep."]
    with open(root / "data" / "web.jsonl", "w", encoding="utf-8") as fh:
        for i, text in enumerate(texts):
            fh.write(json.dumps({"id": f"w{i}", "text": text}) + "\n")
    (root / "my.yaml").write_text(
        textwrap.dedent(
            f"""\
            plugins: [my_stages_{tag}]
            output: {{path: {root / "out"}}}
            sources:
              web:
                paths: [{root / "data" / "web.jsonl"}]
                weight: 1
                stages: [normalize, {stages or f"min_chars_{tag}"}]
            dedup: false
            mixture: {{total_tokens: max, max_epochs: 1}}
            """
        )
    )
    return root


def cli(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "cleanpipe.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=300,
    )


def report(root: Path) -> dict:
    return json.loads((root / "out" / "report.json").read_text())


def test_plugin_module_beside_the_config_runs_from_the_cli_on_workers(tmp_path: Path) -> None:
    root = project(tmp_path, "cli")
    elsewhere = tmp_path / "elsewhere"  # not the config's folder: it is found all the same
    elsewhere.mkdir()
    checked = cli("validate", str(root / "my.yaml"), cwd=elsewhere)
    assert checked.returncode == 0, checked.stderr
    done = cli("run", str(root / "my.yaml"), "--workers", "2", "-q", cwd=elsewhere)
    assert done.returncode == 0, done.stderr
    web = report(root)["sources"]["web"]
    assert web["dropped"] == {"min_chars_cli:too_short": 2}
    assert web["output_docs"] == 3


def test_editing_the_plugin_redoes_the_map_tasks_unchanged_reuses_them(tmp_path: Path) -> None:
    root = project(tmp_path, "resume")
    args = ("run", str(root / "my.yaml"), "--workers", "2", "-q")
    assert cli(*args, cwd=root).returncode == 0
    assert report(root)["sources"]["web"]["dropped"] == {"min_chars_resume:too_short": 2}
    again = cli(*args, cwd=root)
    assert again.returncode == 0, again.stderr
    assert report(root)["run"]["map_tasks_reused"] == report(root)["run"]["map_tasks"] == 1
    # same config, new code: 20 characters are enough now
    (root / "my_stages_resume.py").write_text(MIN_CHARS.format(tag="resume", default=20))
    edited = cli(*args, cwd=root)
    assert edited.returncode == 0, edited.stderr
    assert report(root)["run"]["map_tasks_reused"] == 0
    assert report(root)["sources"]["web"]["dropped"] == {"min_chars_resume:too_short": 1}


def test_plugin_that_cannot_be_imported_is_a_config_error_with_its_key_path(
    tmp_path: Path,
) -> None:
    root = project(tmp_path, "broken")
    config = root / "my.yaml"
    config.write_text(config.read_text().replace("plugins: [my_stages_broken]", "plugins: [nope]"))
    with pytest.raises(ConfigError) as info:
        load_config(str(config))
    assert info.value.problems[0].startswith(
        f"plugins[0]: no module 'nope' (looked in {root}, {os.getcwd()} and the installed packages"
    )
    # the stage it would have registered is then unknown, and says where custom stages go
    assert "unknown stage 'min_chars_broken'" in info.value.problems[1]
    assert "a custom stage needs its module under `plugins:`" in info.value.problems[1]

    (root / "my_stages_broken.py").write_text(
        "from cleanpipe.stages import Filter\nclass X(Filter:\n"
    )
    config.write_text(config.read_text().replace("plugins: [nope]", "plugins: [my_stages_broken]"))
    with pytest.raises(ConfigError) as info:
        load_config(str(config))
    assert info.value.problems[0].startswith(
        "plugins[0]: importing 'my_stages_broken' failed: SyntaxError:"
    )
    assert "my_stages_broken.py, line 2)" in info.value.problems[0]

    (root / "my_stages_broken.py").write_text("import numpy\nnumpy.frobnicate()\n")
    with pytest.raises(ConfigError) as info:
        load_config(str(config))
    assert info.value.problems[0].startswith(
        "plugins[0]: importing 'my_stages_broken' failed: AttributeError:"
    )
    assert "line 2)" in info.value.problems[0]


def test_a_plugin_given_as_a_file_name_says_what_to_write(tmp_path: Path) -> None:
    root = project(tmp_path, "filename")
    config = root / "my.yaml"
    config.write_text(config.read_text().replace("[my_stages_filename]", "[my_stages_filename.py]"))
    with pytest.raises(ConfigError) as info:
        load_config(str(config))
    assert info.value.problems[0] == (
        "plugins[0]: expected a module name like my_stages, got 'my_stages_filename.py' "
        "(for my_stages_filename.py write my_stages_filename)"
    )


ENTRY_POINT_MODULE = '''\
"""A package that offers cleanpipe stages through the cleanpipe.stages entry-point group."""

from cleanpipe.stages import Transform


class Shout(Transform):
    """Upper-cases every document (a stand-in for a real transform)."""

    def transform(self, doc):
        return doc.text.upper()
'''


def installed_package(tmp_path: Path) -> Path:
    """A package installed into a folder the way pip lays it out (module + dist-info)."""
    site = tmp_path / "site"
    dist = site / "shouting_stages-1.0.dist-info"
    dist.mkdir(parents=True)
    (site / "shouting_stages.py").write_text(ENTRY_POINT_MODULE)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: shouting-stages\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        "[cleanpipe.stages]\nshout = shouting_stages:Shout\nbroken = shouting_stages_gone:Nope\n"
    )
    return site


def test_entry_point_stage_of_an_installed_package_runs_from_the_cli(tmp_path: Path) -> None:
    site = installed_package(tmp_path)
    root = project(tmp_path, "ep", stages="shout")
    config = root / "my.yaml"
    config.write_text(config.read_text().replace("plugins: [my_stages_ep]\n", ""))
    env = {"PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])}
    listed = cli("stages", cwd=root, env=env)
    assert listed.returncode == 0, listed.stderr
    assert "shout  (Shout)" in listed.stdout and "Upper-cases every document" in listed.stdout
    assert "warning: entry point 'broken' (shouting_stages_gone:Nope) of package" in listed.stderr
    done = cli("run", str(config), "--workers", "2", "-q", cwd=root, env=env)
    assert done.returncode == 0, done.stderr
    texts = __import__("pyarrow.parquet").parquet.read_table(root / "out" / "data")["text"]
    assert ENGLISH[0].upper() in texts.to_pylist()

    config.write_text(config.read_text().replace("shout]", "broken]"))
    failed = cli("validate", str(config), cwd=root, env=env)
    assert failed.returncode == 2
    assert (
        "sources.web.stages[1]: stage 'broken': entry point 'broken' (shouting_stages_gone:Nope) "
        "of package shouting-stages failed to import: ModuleNotFoundError: No module named "
        "'shouting_stages_gone'"
    ) in failed.stderr
    assert "Traceback" not in failed.stderr


def test_stage_registered_in_main_fails_with_a_clear_message_not_a_key_error(
    tmp_path: Path,
) -> None:
    data = tmp_path / "web"  # two files: two map tasks, so they run on the workers
    data.mkdir()
    for i, text in enumerate(ENGLISH[:2]):
        (data / f"part-{i}.jsonl").write_text(json.dumps({"text": text}) + "\n")
    script = tmp_path / "pipeline.py"
    script.write_text(
        textwrap.dedent(
            f"""\
            from cleanpipe.config import parse_config
            from cleanpipe.runner import run
            from cleanpipe.stages import Filter, register

            if __name__ == "__main__":
                @register("min_chars")
                class MinChars(Filter):
                    def check(self, doc):
                        return "too_short" if len(doc.text) < 200 else None

                config = parse_config({{
                    "output": {{"path": {str(tmp_path / "out")!r}}},
                    "sources": {{"web": {{"paths": [{str(data / "*.jsonl")!r}], "weight": 1,
                                          "stages": ["min_chars"]}}}},
                    "dedup": False,
                    "mixture": {{"total_tokens": "max", "max_epochs": 1}},
                }})
                run(config, workers=2, progress=False)
            """
        )
    )
    proc = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=300
    )
    assert proc.returncode != 0
    assert "KeyError" not in proc.stderr
    assert (
        "StageLoadError: stage 'min_chars' is defined in the script that was run (__main__), "
        "which worker processes cannot import: move the class into a module"
    ) in proc.stderr
    assert "`plugins: [my_stages]`" in proc.stderr


def _readme_plugin_example() -> tuple[str, str]:
    """The README's custom stage (Python) and the config that uses it (YAML)."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    (stage,) = [b for b in re.findall(r"```python\n(.*?)```", readme, re.S) if "min_chars" in b]
    section = readme[readme.index("### Custom stages from the command line") :]
    return stage, re.search(r"```yaml\n(.*?)```", section, re.S).group(1)


def _code(source: str) -> list[str]:
    """The statements of a module, without its docstring, comments and layout."""
    body = ast.parse(source).body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]
    return [ast.dump(node) for node in body]


def _run_readme_config(config: str, folder: Path) -> dict:
    (folder / "my.yaml").write_text(config)
    out = folder / "out"
    done = cli("run", str(folder / "my.yaml"), "-o", str(out), "-w", "2", "-q", cwd=REPO)
    assert done.returncode == 0, done.stderr
    return json.loads((out / "report.json").read_text())["sources"]["web"]["dropped"]


def test_the_readme_plugin_example_runs_from_the_cli_as_written(tmp_path: Path) -> None:
    stage, config = _readme_plugin_example()
    shipped = REPO / "cleanpipe" / "examples" / "my_stages.py"
    assert _code(shipped.read_text(encoding="utf-8")) == _code(stage)  # the README's class
    assert "plugins: [cleanpipe.examples.my_stages]" in config
    assert _run_readme_config(config, tmp_path).get("min_chars:too_short", 0) > 0


def test_the_readme_plugin_class_in_my_stages_beside_the_config_runs(tmp_path: Path) -> None:
    stage, config = _readme_plugin_example()
    (tmp_path / "my_stages.py").write_text(stage)
    config = config.replace("cleanpipe.examples.my_stages", "my_stages", 1)
    assert _run_readme_config(config, tmp_path).get("min_chars:too_short", 0) > 0


def test_plugin_stage_runs_on_ray_workers(tmp_path: Path) -> None:
    pytest.importorskip("ray", reason='Ray is not installed: pip install "cleanpipe[ray]"')
    root = project(tmp_path, "ray")
    data = root / "data"
    (data / "more.jsonl").write_text(json.dumps({"id": "m0", "text": "Short."}) + "\n")
    config = root / "my.yaml"
    config.write_text(config.read_text().replace(str(data / "web.jsonl"), str(data / "*.jsonl")))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    done = cli(
        "run", str(config), "--executor", "ray", "--workers", "2", "-q",
        cwd=elsewhere, env={"RAY_ADDRESS": "127.0.0.1:9"},  # a new local instance, always
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert report(root)["sources"]["web"]["dropped"] == {"min_chars_ray:too_short": 3}


CHECKED_STAGE = """\
from cleanpipe.stages import Filter, register


@register("checked_{tag}")
class Checked(Filter):
    def __init__(self, *, min_chars: int = 10) -> None:
        super().__init__()
        if min_chars < 0:
            raise ValueError(f"min_chars must be >= 0, got {{min_chars}}")
        if min_chars == 13:
            raise RuntimeError("bug")  # a mistake in the stage, not in anyone's config
        self.min_chars = min_chars

    def check(self, doc):
        return None


@register("needs_{tag}")
class Needs(Filter):
    def __init__(self, *, path: str) -> None:
        super().__init__()
        self.path = path

    def check(self, doc):
        return None
"""


def checked_project(tmp_path: Path, tag: str, min_chars: int, stage: str = "") -> Path:
    stage = stage or f"{{checked_{tag}: {{min_chars: {min_chars}}}}}"
    root = project(tmp_path, tag, stages=stage)
    (root / f"my_stages_{tag}.py").write_text(CHECKED_STAGE.format(tag=tag))
    return root / "my.yaml"


def test_a_value_the_stage_refuses_is_a_config_error_with_its_key_path(tmp_path: Path) -> None:
    config = checked_project(tmp_path, "refuses", min_chars=-1)
    with pytest.raises(ConfigError) as info:
        load_config(str(config))
    assert info.value.problems == [
        "sources.web.stages[1].checked_refuses: min_chars must be >= 0, got -1"
    ]
    failed = cli("validate", str(config), cwd=tmp_path)
    assert failed.returncode == 2
    assert "Traceback" not in failed.stderr


def test_a_bug_in_a_stage_constructor_is_a_traceback_not_a_config_error(tmp_path: Path) -> None:
    config = checked_project(tmp_path, "bug", min_chars=13)
    with pytest.raises(RuntimeError, match="^bug$"):
        load_config(str(config))
    failed = cli("validate", str(config), cwd=tmp_path)
    assert failed.returncode == 1
    assert "Traceback" in failed.stderr
    assert failed.stderr.rstrip().endswith("RuntimeError: bug")
    assert "config problem" not in failed.stderr


def test_a_required_parameter_left_out_is_a_config_error(tmp_path: Path) -> None:
    config = checked_project(tmp_path, "needs", 0, stage="needs_needs")
    with pytest.raises(ConfigError) as info:
        load_config(str(config))
    assert info.value.problems == [
        "sources.web.stages[1].needs_needs.path: missing: a required parameter of stage "
        "'needs_needs'"
    ]


def test_editing_any_module_of_a_stage_package_changes_its_code_digest(tmp_path: Path) -> None:
    # a stage whose package's __init__ only re-exports it (as cleanpipe.stages.pii does):
    # the code that decides lives in another module of the package
    root = project(tmp_path, "pkg", stages="shorter_pkg")
    config = root / "my.yaml"
    config.write_text(config.read_text().replace("[my_stages_pkg]", "[shorter_stages_pkg]"))
    package = root / "shorter_stages_pkg"
    package.mkdir()
    (package / "__init__.py").write_text("from shorter_stages_pkg.rule import MinChars\n")
    rule = MIN_CHARS.format(tag="x", default=100).replace('"min_chars_x"', '"shorter_pkg"')
    (package / "rule.py").write_text(rule)
    before = load_config(str(config)).sources["web"].stages[1].code
    (package / "rule.py").write_text(rule.replace("< self.min_chars", "<= self.min_chars"))
    after = load_config(str(config)).sources["web"].stages[1].code
    assert before and after and before != after
