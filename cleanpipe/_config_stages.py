"""Stages and plugins as a config sees them: what a stage's constructor rejects, the
message for a name that is not a stage, ``plugins:`` imports, and the introspection behind
``cleanpipe stages`` (parameters, defaults, choices, summaries).

Everything here reads stage classes and modules; :mod:`cleanpipe.config` turns what it finds
into ``key.path: message`` lines.
"""

from __future__ import annotations

import importlib
import inspect
import os
import re
import sys
import traceback
import types
import typing
from pathlib import Path
from typing import Any, Literal, Union

from cleanpipe import hashing
from cleanpipe._config_checks import describe, failure, suggest
from cleanpipe.stages import STAGE_REGISTRY, Stage, load_entry_points
from cleanpipe.stages.base import PLUGIN_PATH_ENV

#: what a stage's constructor raises for a parameter value it refuses (a value out of range,
#: a file that is not there): a problem in the config. Anything else it raises is a bug in the
#: stage and propagates with its traceback.
BAD_ARGUMENT = (ValueError, FileNotFoundError)


def unknown_stage(name: str) -> str:
    """The message for a name that is not a per-source stage; suggestions are stage names."""
    load_entry_points()  # suggest installed packages' stages too
    known = sorted(n for n, cls in STAGE_REGISTRY.items() if not cls.is_global)
    if name in STAGE_REGISTRY:
        hint = "dedup runs across all sources: configure it in the top-level `dedup:` section. "
    elif owners := [n for n in known if name in _parameter_names(STAGE_REGISTRY[n])]:
        hint = (
            f"{name!r} is a parameter of {', '.join(repr(o) for o in owners)}, not a stage "
            f"(write `- {owners[0]}: {{{name}: ...}}`). "
        )
    else:
        hint = suggest(name, known)
    plugin = (
        "a custom stage needs its module under `plugins:` (or an installed package's "
        f"'cleanpipe.stages' entry point); known stages: {', '.join(known)}"
    )
    return f"unknown stage {name!r}; {hint}{plugin}"


def _parameter_names(cls: type[Stage]) -> list[str]:
    return [name for name, _, _ in stage_parameters(cls)]


def construction_problems(cls: type[Stage], kwargs: dict[str, Any]) -> list[str]:
    """What the stage's constructor rejects in ``kwargs`` (a :data:`BAD_ARGUMENT`): all of
    it, not just the first problem it raises (each parameter is also tried alone, the others
    at their defaults). Any other exception is a bug in the stage and propagates."""
    try:
        inspect.signature(cls).bind(**kwargs)
    except TypeError:  # a required parameter is missing: the parameter check says so
        return []
    try:
        cls(**kwargs)
    except BAD_ARGUMENT as err:
        first = failure(err)
    else:
        return []
    if len(kwargs) < 2:
        return [first]
    try:
        cls()
    except Exception:  # noqa: BLE001 - its defaults alone fail: one at a time tells nothing
        return [first]
    found: list[str] = []
    for key, value in kwargs.items():
        try:
            cls(**{key: value})
        except BAD_ARGUMENT as err:
            if (message := failure(err)) not in found:
                found.append(message)
        except Exception:  # noqa: BLE001 - a probe, not the user's call: it adds nothing
            continue
    if first not in found:
        found.append(first)  # a rule about parameters together (min below max ...)
    return found


def code_digest(cls: type) -> str:
    """A short sha256 of the code behind ``cls`` (``""`` if unknown), so that resume redoes
    a source's map tasks when it changes. A built-in stage: the whole ``cleanpipe`` package,
    code and data (a Gopher rule lives in measure.py and rules.py, its stop words in data
    files, not in quality.py). A plugin: its module's file, or for a package every file in
    it, since its ``__init__`` alone may hold none of the code."""
    if cls.__module__.split(".")[0] == "cleanpipe":
        return hashing.package_digest()
    module = sys.modules.get(cls.__module__)
    filename = getattr(module, "__file__", None)
    try:
        if not filename:
            return hashing.digest(inspect.getsource(cls).encode())
        if os.path.basename(filename) != "__init__.py":
            return hashing.digest(Path(filename).read_bytes())
        return hashing.folder_digest(str(Path(filename).parent))
    except (OSError, TypeError):
        return ""


MODULE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")


def plugin_folders(config_path: str = "") -> list[str]:
    """Where ``plugins:`` modules are looked for, before the installed packages: the config
    file's folder, then the working directory."""
    folders = [str(Path(config_path).absolute().parent)] if config_path else []
    folders.append(os.getcwd())
    return list(dict.fromkeys(folders))


def import_plugins(names: list[str], folders: list[str]) -> dict[int, str]:
    """Import ``plugins:`` modules (their ``@register`` calls add stages), with ``folders``
    first on ``sys.path``; the folders are also put in :data:`PLUGIN_PATH_ENV`, which the
    executors forward, so that every worker finds the same modules. Returns the problems by
    position in ``names``."""
    for folder in reversed(folders):
        if folder not in sys.path:
            sys.path.insert(0, folder)
    known = os.environ.get(PLUGIN_PATH_ENV, "").split(os.pathsep)
    os.environ[PLUGIN_PATH_ENV] = os.pathsep.join(dict.fromkeys(f for f in folders + known if f))
    problems: dict[int, str] = {}
    for i, name in enumerate(names):
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as err:
            if err.name and (name == err.name or name.startswith(err.name + ".")):
                problems[i] = (
                    f"no module {name!r} (looked in {', '.join(folders)} and the installed "
                    "packages; a plugin is a module name, e.g. my_stages for my_stages.py)"
                )
            else:
                problems[i] = f"importing {name!r} failed: {_plugin_failure(err, folders)}"
        except Exception as err:  # noqa: BLE001 - any failure of the user's module: one line
            problems[i] = f"importing {name!r} failed: {_plugin_failure(err, folders)}"
    return problems


def _plugin_failure(err: BaseException, folders: list[str]) -> str:
    """``Type: message (file, line N)`` of an exception raised while importing a plugin; the
    line is the deepest one in the user's own files (in ``folders``) when there is one."""
    if isinstance(err, SyntaxError):
        return f"SyntaxError: {err.msg} ({err.filename}, line {err.lineno})"
    frames = traceback.extract_tb(err.__traceback__)
    own = [f for f in frames if any(f.filename.startswith(d + os.sep) for d in folders)]
    frame = (own or frames or [None])[-1]
    where = f" ({frame.filename}, line {frame.lineno})" if frame is not None else ""
    return f"{failure(err)}{where}"


def stage_parameters(cls: type[Stage]) -> list[tuple[str, str, Any]]:
    """(name, expected type in words, default) of each constructor parameter of a stage."""
    signature = inspect.signature(cls.__init__)
    hints = typing.get_type_hints(getattr(cls.__init__, "__wrapped__", cls.__init__))
    return [
        (
            name,
            describe(hints.get(name, Any)),
            None if p.default is inspect.Parameter.empty else p.default,
        )
        for name, p in signature.parameters.items()
        if name != "self" and p.kind == p.KEYWORD_ONLY
    ]


#: "x must be one of a, b, c; got ..." / "x must be a, b or c, got ..." / "'a' or 'b', not ..."
_CHOICES_MESSAGE = re.compile(r"must be (?:one of )?(.+?)(?:[;,]? (?:got|not)\b|$)")
_PROBE = "\x00not-a-choice"


def parameter_choices(cls: type[Stage]) -> dict[str, list[str]]:
    """The valid values of each parameter that has a fixed set: from a ``Literal`` type
    hint, else from the stage's own check (the message it gives for a value it refuses:
    "must be one of first, longest, source_priority"), so the list never drifts from it."""
    hints = typing.get_type_hints(getattr(cls.__init__, "__wrapped__", cls.__init__))
    choices: dict[str, list[str]] = {}
    for name, _, _ in stage_parameters(cls):
        hint = hints.get(name, Any)
        args = typing.get_args(hint) if typing.get_origin(hint) in (Union, types.UnionType) else ()
        literal = [a for a in (hint, *args) if typing.get_origin(a) is Literal]
        if literal:
            choices[name] = [str(v) for lit in literal for v in typing.get_args(lit)]
            continue
        if not any(a is str for a in (hint, *args)):
            continue
        try:
            cls(**{name: _PROBE})
        except Exception as err:  # noqa: BLE001 - only its message is used
            if found := _parse_choices(str(err)):
                choices[name] = found
    return choices


def _parse_choices(message: str) -> list[str]:
    match = _CHOICES_MESSAGE.search(message)
    if not match:
        return []
    items = [i.strip().strip("'\"") for i in re.split(r",\s*|\s+or\s+", match.group(1))]
    if len(items) < 2 or not all(re.fullmatch(r"[\w.+-]+", i) for i in items):
        return []
    return items


_ROLE = re.compile(r":[a-z]+(?::[a-z]+)?:`(~?)([^`]+)`")


def plain_doc(text: str) -> str:
    """Sphinx/RST markup made plain for a terminal: :func:`x` -> x (``~a.b`` -> b),
    ``x`` -> x."""
    text = _ROLE.sub(lambda m: m.group(2).rsplit(".", 1)[-1] if m.group(1) else m.group(2), text)
    return re.sub(r"``([^`]+)``", r"\1", text)


def stage_summary(cls: type[Stage]) -> str:
    """The first paragraph of a stage's docstring, whole, on one line, without markup."""
    doc = inspect.cleandoc(cls.__doc__ or "")
    first = doc.split("\n\n", 1)[0]
    return plain_doc(" ".join(line.strip() for line in first.splitlines()))
