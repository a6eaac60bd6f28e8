"""Config: YAML -> validated, frozen objects. Every mistake is reported at once, with its key
path and what was expected, before any work starts; unknown keys are errors (a typo must
never be silently ignored)."""

from __future__ import annotations

import dataclasses
import difflib
import importlib
import inspect
import math
import os
import re
import sys
import traceback
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Union

import yaml

from cleanpipe import hashing
from cleanpipe.errors import ConfigError
from cleanpipe.io.fs import display, is_uri, unsupported_scheme
from cleanpipe.io.readers import (
    DEFAULT_MAX_DOC_BYTES,
    READABLE_FORMATS,
    expand_paths,
    unsupported_format,
)
from cleanpipe.stages import STAGE_REGISTRY, Stage, load_entry_points, stage_class
from cleanpipe.stages.base import ENTRY_POINT_ERRORS, PLUGIN_PATH_ENV
from cleanpipe.tokens import COUNTING_MODES, TOKENIZERS, missing_requirement

if TYPE_CHECKING:
    from cleanpipe.dedup.config import DedupConfig


# -- the parsed config -------------------------------------------------------------------


@dataclass(frozen=True)
class StageSpec:
    """A stage by registry name with its parameters (as written in the config).

    ``module`` is where the stage class is defined, so a worker that has not imported it yet
    can (a ``plugins:`` module); ``code`` is a short sha256 of that module's source, so the
    map tasks' fingerprint changes, and a rerun redoes them, when the stage's code changes.
    """

    name: str
    params: dict[str, Any] = field(default_factory=dict)
    module: str = ""
    code: str = ""

    def build(self) -> Stage:
        return stage_class(self.name, self.module)(**self.params)


@dataclass(frozen=True)
class SourceConfig:
    name: str
    paths: tuple[str, ...]
    weight: float
    text_field: str = "text"
    id_field: str = "id"
    max_epochs: float | None = None
    stages: tuple[StageSpec, ...] = ()
    max_doc_bytes: int = DEFAULT_MAX_DOC_BYTES


@dataclass(frozen=True)
class OutputConfig:
    path: str
    shard_size: int = 256_000_000
    compression: str = "zstd"


@dataclass(frozen=True)
class MixtureConfig:
    """``total_tokens`` is an int, ``"max"``, or ``{"chinchilla_params": P}``."""

    total_tokens: int | str | dict[str, float] | None = None
    max_epochs: float = 4.0
    tokenizer: str = "cl100k"
    token_counting: str = "exact"  # or "estimate" (see cleanpipe.tokens)
    on_shortfall: str = "fail"  # or "shrink": lower the budget until every source fits


@dataclass(frozen=True)
class Config:
    seed: int
    output: OutputConfig
    sources: dict[str, SourceConfig]
    dedup: DedupConfig | None
    mixture: MixtureConfig
    plugins: tuple[str, ...] = ()  # modules imported for their @register'ed stages
    path: str = ""  # the file it was loaded from, for messages

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data.pop("path")
        return data

    def fingerprint(self) -> str:
        """sha256 of everything that shapes the output (not where it is written)."""
        data = self.to_dict()
        data["output"].pop("path")
        return hashing.fingerprint(data, length=None)


# -- value checking ----------------------------------------------------------------------

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]i?b?|b)?\s*$", re.IGNORECASE)
_SIZE_UNITS = {
    "": 1,
    "b": 1,
    "k": 10**3,
    "m": 10**6,
    "g": 10**9,
    "t": 10**12,
    "ki": 2**10,
    "mi": 2**20,
    "gi": 2**30,
    "ti": 2**40,
}
COMPRESSIONS = ("zstd", "snappy", "gzip", "brotli", "lz4", "none")


#: a number in scientific notation, also without a dot (``7e9``), which YAML 1.1 (PyYAML)
#: reads as a string; YAML 1.2 and people read it as a number.
_SCIENTIFIC = re.compile(r"^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)[eE][-+]?[0-9]+$")


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader, reading ``7e9`` and ``1e6`` as numbers (see :data:`_SCIENTIFIC`)."""


_Loader.add_implicit_resolver("tag:yaml.org,2002:float", _SCIENTIFIC, list("-+0123456789."))


def parse_size(value: Any) -> int:
    """``256MB`` -> 256,000,000; ``1GiB`` -> 2**30; plain integers (or ``1e8``) are bytes."""
    value = coerce(value, int)
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    match = _SIZE.match(str(value)) if isinstance(value, str) else None
    if not match:
        raise ValueError
    unit = (match.group(2) or "").lower().rstrip("b")
    size = int(float(match.group(1)) * _SIZE_UNITS[unit])
    if size <= 0:
        raise ValueError
    return size


def describe(hint: Any) -> str:
    """What a type hint expects, in words for error messages."""
    origin = typing.get_origin(hint)
    if hint is bool:
        return "true or false"
    if hint is int:
        return "an integer"
    if hint is float:
        return "a number"
    if hint is str:
        return "a string"
    if hint is type(None):
        return "null"
    if hint is Any:
        return "any value"
    if origin in (list, tuple):
        (inner, *_) = typing.get_args(hint) or (Any,)
        return f"a list of {describe(inner).removeprefix('a ').removeprefix('an ')}s"
    if origin is dict:
        return "a mapping"
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in typing.get_args(hint))
    if origin in (Union, types.UnionType):
        return " or ".join(describe(a) for a in typing.get_args(hint))
    return getattr(hint, "__name__", str(hint))


def _numeric_hint(hint: Any) -> bool:
    if hint in (int, float):
        return True
    if typing.get_origin(hint) in (Union, types.UnionType):
        return any(_numeric_hint(a) for a in typing.get_args(hint))
    return False


def coerce(value: Any, hint: Any) -> Any:
    """``value`` made to fit a number hint where a person would say it fits: ``7e9`` given as
    a string (YAML 1.1) is a number, ``1e6`` or ``5.0`` where an integer is expected is that
    integer. Anything else is returned unchanged (and :func:`conforms` judges it)."""
    if conforms(value, hint):
        return value
    origin = typing.get_origin(hint)
    if origin in (list, tuple) and isinstance(value, (list, tuple)):
        args = typing.get_args(hint)
        inner = args[0] if args else Any
        return [coerce(v, inner) for v in value]
    if isinstance(value, str) and _SCIENTIFIC.match(value.strip()) and _numeric_hint(hint):
        value = float(value.strip().replace("_", ""))
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        if hint is int or (origin in (Union, types.UnionType) and int in typing.get_args(hint)):
            return int(value)
    return value


def conforms(value: Any, hint: Any) -> bool:
    """Whether a YAML value fits a (simple) type hint."""
    origin = typing.get_origin(hint)
    if hint is Any:
        return True
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if hint is str:
        return isinstance(value, str)
    if hint is type(None):
        return value is None
    if origin in (list, tuple):
        args = typing.get_args(hint)
        inner = args[0] if args else Any
        return isinstance(value, (list, tuple)) and all(conforms(v, inner) for v in value)
    if origin is dict:
        return isinstance(value, dict)
    if origin is Literal:
        return value in typing.get_args(hint)
    if origin in (Union, types.UnionType):
        return any(conforms(value, a) for a in typing.get_args(hint))
    return isinstance(value, hint) if isinstance(hint, type) else True


def _fmt(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _suggest(word: str, known: list[str]) -> str:
    close = difflib.get_close_matches(word, known, n=1)
    return f"did you mean {close[0]!r}? " if close else ""


class _Checker:
    """Collects problems while walking the YAML tree."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def error(self, path: str, message: str) -> None:
        self.problems.append(f"{path}: {message}")

    def mapping(self, value: Any, path: str, known: list[str]) -> dict[str, Any]:
        """``value`` as a dict; unknown keys are reported (with a suggestion)."""
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.error(path, f"expected a mapping, got {_fmt(value)}")
            return {}
        for key in value:
            if key not in known:
                self.error(
                    f"{path}.{key}" if path else str(key),
                    f"unknown key; {_suggest(str(key), known)}known keys: {', '.join(known)}",
                )
        return value

    def typed(
        self,
        data: dict[str, Any],
        key: str,
        path: str,
        hint: Any,
        default: Any,
        check: Callable[[Any], bool] | None = None,
        expected: str | None = None,
    ) -> Any:
        """``data[key]`` if it fits ``hint`` (and ``check``), else report and use ``default``."""
        if key not in data:
            return default
        value = coerce(data[key], hint)
        if conforms(value, hint) and (check is None or value is None or check(value)):
            return value
        self.error(
            f"{path}.{key}" if path else key,
            f"expected {expected or describe(hint)}, got {_fmt(value)}",
        )
        return default

    def kwargs_for(
        self, func: Callable[..., Any], params: dict[str, Any], path: str, what: str
    ) -> dict[str, Any]:
        """Check ``params`` against a callable's keyword parameters and their type hints."""
        signature = inspect.signature(func)
        hints = typing.get_type_hints(getattr(func, "__wrapped__", func))
        known = [
            n
            for n, p in signature.parameters.items()
            if n != "self" and p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
        good: dict[str, Any] = {}
        for key, value in params.items():
            if key in hints:
                value = coerce(value, hints[key])
            if key not in known:
                self.error(
                    f"{path}.{key}",
                    f"unknown parameter of {what}; "
                    f"{_suggest(key, known)}known: {', '.join(known) or '(none)'}",
                )
            elif key in hints and not conforms(value, hints[key]):
                self.error(f"{path}.{key}", f"expected {describe(hints[key])}, got {_fmt(value)}")
            else:
                good[key] = value
        return good


# -- sections ----------------------------------------------------------------------------

_TOP_KEYS = ["seed", "output", "sources", "dedup", "mixture", "plugins"]
_OUTPUT_KEYS = ["path", "shard_size", "compression"]
_SOURCE_KEYS = [
    "paths",
    "text_field",
    "id_field",
    "weight",
    "max_epochs",
    "stages",
    "max_doc_bytes",
]
_MIXTURE_KEYS = ["total_tokens", "max_epochs", "tokenizer", "token_counting", "on_shortfall"]


def _positive(value: Any) -> bool:
    return value > 0


def _parse_stage(c: _Checker, item: Any, path: str) -> StageSpec | None:
    if isinstance(item, str):
        name, params = item, {}
    elif isinstance(item, dict) and len(item) == 1:
        name, params = next(iter(item.items()))
        params = {} if params is None else params
    else:
        c.error(path, f"expected a stage name or {{name: {{parameters}}}}, got {_fmt(item)}")
        return None
    name = str(name)
    if name not in STAGE_REGISTRY:
        load_entry_points(name)  # an installed package's stage, loaded when first named
    if name in ENTRY_POINT_ERRORS and name not in STAGE_REGISTRY:
        c.error(path, f"stage {name!r}: {ENTRY_POINT_ERRORS[name]}")
        return None
    if name not in STAGE_REGISTRY or STAGE_REGISTRY[name].is_global:
        c.error(path, _unknown_stage(name))
        return None
    if not isinstance(params, dict):
        c.error(f"{path}.{name}", f"expected a mapping of parameters, got {_fmt(params)}")
        return None
    cls = STAGE_REGISTRY[name]
    before = len(c.problems)
    kwargs = c.kwargs_for(cls.__init__, params, f"{path}.{name}", f"stage {name!r}")
    # the stage's own checks (ranges, files it needs) run now, not mid-run, and for the
    # well-typed parameters even when others are wrong: every problem is reported at once
    for message in _construction_problems(cls, kwargs):
        c.error(f"{path}.{name}", message)
    if len(c.problems) > before:
        return None
    return StageSpec(name, kwargs, cls.__module__, code_digest(cls))


def _unknown_stage(name: str) -> str:
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
        hint = _suggest(name, known)
    plugin = (
        "a custom stage needs its module under `plugins:` (or an installed package's "
        f"'cleanpipe.stages' entry point); known stages: {', '.join(known)}"
    )
    return f"unknown stage {name!r}; {hint}{plugin}"


def _parameter_names(cls: type[Stage]) -> list[str]:
    return [name for name, _, _ in stage_parameters(cls)]


def _failure(err: BaseException) -> str:
    text = str(err).strip().splitlines()[0] if str(err).strip() else ""
    if isinstance(err, (TypeError, ValueError, FileNotFoundError, RuntimeError)) and text:
        return text
    return f"{type(err).__name__}: {text}" if text else type(err).__name__


def _construction_problems(cls: type[Stage], kwargs: dict[str, Any]) -> list[str]:
    """What the stage's constructor rejects in ``kwargs``: all of it, not just the first
    problem it raises (each parameter is also tried alone, the others at their defaults)."""
    try:
        cls(**kwargs)
    except Exception as err:  # noqa: BLE001 - a stage may raise anything; one line each
        first = _failure(err)
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
        except Exception as err:  # noqa: BLE001
            if (message := _failure(err)) not in found:
                found.append(message)
    if first not in found:
        found.append(first)  # a rule about parameters together (min below max ...)
    return found


def code_digest(cls: type) -> str:
    """A short sha256 of the source of the module defining ``cls`` (``""`` if unknown)."""
    module = sys.modules.get(cls.__module__)
    filename = getattr(module, "__file__", None)
    try:
        if filename:
            with open(filename, "rb") as fh:
                return hashing.digest(fh.read())
        return hashing.digest(inspect.getsource(cls).encode())
    except (OSError, TypeError):
        return ""


def _parse_source(c: _Checker, name: str, raw: Any, path: str, base: Path) -> SourceConfig | None:
    data = c.mapping(raw, path, _SOURCE_KEYS)
    if not isinstance(raw, dict):
        return None
    paths_raw = data.get("paths")
    if isinstance(paths_raw, str):
        paths_raw = [paths_raw]
    paths: list[str] = []
    if not paths_raw or not conforms(paths_raw, list[str]):
        c.error(f"{path}.paths", f"expected a list of globs, got {_fmt(data.get('paths'))}")
    else:
        for i, pattern in enumerate(paths_raw):
            _check_input_pattern(c, pattern, f"{path}.paths[{i}]", base)
            paths.append(pattern)
    weight = c.typed(data, "weight", path, float, None, _positive, "a number > 0")
    if "weight" not in data:
        c.error(
            f"{path}.weight",
            "missing: every source needs a weight (its target share of the mixture, by tokens)",
        )
    stages_raw = data.get("stages", [])
    stages: list[StageSpec] = []
    if not isinstance(stages_raw, list):
        c.error(f"{path}.stages", f"expected a list of stages, got {_fmt(stages_raw)}")
    else:
        for i, item in enumerate(stages_raw):
            spec = _parse_stage(c, item, f"{path}.stages[{i}]")
            if spec is not None:
                stages.append(spec)
    max_doc_bytes = DEFAULT_MAX_DOC_BYTES
    if "max_doc_bytes" in data:
        try:
            max_doc_bytes = parse_size(data["max_doc_bytes"])
        except ValueError:
            c.error(
                f"{path}.max_doc_bytes",
                f"expected a size like 10MB, got {_fmt(data['max_doc_bytes'])}",
            )
    return SourceConfig(
        name=name,
        paths=tuple(paths),
        weight=float(weight) if weight is not None else 1.0,
        text_field=c.typed(data, "text_field", path, str, "text"),
        id_field=c.typed(data, "id_field", path, str, "id"),
        max_epochs=c.typed(data, "max_epochs", path, float, None, _positive, "a number > 0"),
        stages=tuple(stages),
        max_doc_bytes=max_doc_bytes,
    )


def _check_input_pattern(c: _Checker, pattern: str, where: str, base: Path) -> None:
    """The glob matches something, and only files of formats cleanpipe reads."""
    if reason := unsupported_scheme(pattern):
        c.error(where, f"{display(pattern)!r}: {reason}")
        return
    try:
        found = expand_paths(pattern)
    except Exception as err:  # noqa: BLE001 - a store that cannot be listed (offline, bucket)
        c.error(where, f"{display(pattern)!r} cannot be listed: {_failure(err)}")
        return
    if not found and is_uri(pattern):
        c.error(where, f"{display(pattern)!r} matches no objects")
        return
    if not found:
        c.error(
            where,
            f"{pattern!r} matches no files (globs are relative to the working directory {base})",
        )
        return
    # a file the glob names directly must be readable; a folder is read file by file (a
    # stray binary file there becomes a reject), unless none of its files can be read
    folders: dict[str, list[str]] = {}
    bad: list[tuple[str, str]] = []
    for item in found:
        what = unsupported_format(item.path)
        if item.root is None:
            if what:
                bad.append((display(item.path), what))
        else:
            folders.setdefault(item.root, []).append(what or "")
    for root, kinds in folders.items():
        if all(kinds):
            bad.append((display(root) + "/", f"a folder of {', '.join(sorted(set(kinds)))} files"))
    if not bad:
        return
    if len(bad) == 1:
        ((name, what),) = bad
        c.error(
            where, f"{name!r} is {what}, which cleanpipe does not read; it reads {READABLE_FORMATS}"
        )
        return
    kinds = ", ".join(sorted({what for _, what in bad}))
    c.error(
        where,
        f"{len(bad)} of the {len(found)} files matched are of formats cleanpipe does not read "
        f"({kinds}; e.g. {bad[0][0]!r}); it reads {READABLE_FORMATS}",
    )


def _check_output_path(c: _Checker, out_path: str, where: str) -> None:
    """The output folder can be made and written (a local one; object stores are checked
    when the run writes its first file)."""
    if is_uri(out_path):
        if reason := unsupported_scheme(out_path):
            c.error(where, f"{display(out_path)!r}: {reason}")
        return
    target = Path(out_path).absolute()
    existing = target
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if existing == target and not target.is_dir():
        c.error(where, f"{out_path!r} is a file, not a folder")
    elif not existing.is_dir():
        c.error(where, f"cannot create {out_path!r}: {str(existing)!r} is a file, not a folder")
    elif not os.access(existing, os.W_OK | os.X_OK):
        what = "is not writable" if existing == target else f"cannot be created in {existing}"
        c.error(where, f"{out_path!r} {what} (permission denied)")


def _parse_output(c: _Checker, raw: Any) -> OutputConfig:
    data = c.mapping(raw, "output", _OUTPUT_KEYS)
    if raw is None:
        c.error("output", "missing: expected {path: ..., shard_size: ..., compression: ...}")
    out_path = c.typed(data, "path", "output", str, "out")
    if "path" not in data and raw is not None:
        c.error("output.path", "missing: the folder to write to")
    shard_size = 256_000_000
    if "shard_size" in data:
        try:
            shard_size = parse_size(data["shard_size"])
        except ValueError:
            c.error(
                "output.shard_size",
                f"expected a size like 256MB or 1GiB, got {_fmt(data['shard_size'])}",
            )
    compression = c.typed(
        data,
        "compression",
        "output",
        str,
        "zstd",
        lambda v: v in COMPRESSIONS,
        "one of " + ", ".join(COMPRESSIONS),
    )
    return OutputConfig(out_path, shard_size, compression)


def _parse_total_tokens(c: _Checker, value: Any) -> int | str | dict[str, float] | None:
    if value is None or value == "max":
        return value
    value = coerce(value, int)  # 1e6
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    if isinstance(value, dict) and list(value) == ["chinchilla_params"]:
        params = coerce(value["chinchilla_params"], float)  # 7e9
        if conforms(params, float) and params > 0:
            return {"chinchilla_params": float(params)}
    c.error(
        "mixture.total_tokens",
        f"expected a positive integer, 'max', or {{chinchilla_params: N}}, got {_fmt(value)}",
    )
    return None


def _parse_mixture(c: _Checker, raw: Any) -> MixtureConfig:
    data = c.mapping(raw, "mixture", _MIXTURE_KEYS)

    def one_of(key: str, choices: Any, default: str) -> str:
        return c.typed(
            data,
            key,
            "mixture",
            str,
            default,
            lambda v: v in choices,
            "one of " + ", ".join(choices),
        )

    total_tokens = _parse_total_tokens(c, data.get("total_tokens"))
    max_epochs = float(
        c.typed(data, "max_epochs", "mixture", float, 4.0, _positive, "a number > 0")
    )
    tokenizer = one_of("tokenizer", list(TOKENIZERS), "cl100k")
    if "tokenizer" in data and (missing := missing_requirement(tokenizer)):
        c.error("mixture.tokenizer", missing)
    return MixtureConfig(
        total_tokens=total_tokens,
        max_epochs=max_epochs,
        tokenizer=tokenizer,
        token_counting=one_of("token_counting", COUNTING_MODES, "exact"),
        on_shortfall=one_of("on_shortfall", ("fail", "shrink"), "fail"),
    )


def _build_dataclass(c: _Checker, cls: type, data: dict[str, Any], path: str) -> Any:
    """A frozen config dataclass from a mapping, checked against its fields' type hints."""
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls) if f.init]
    c.mapping(data, path, names)
    kwargs = {
        k: v
        for k, v in data.items()
        if k in names and c.typed(data, k, path, hints[k], _MISSING) is not _MISSING
    }
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as err:
        c.error(path, str(err))
        return None


_MISSING = object()


def _parse_dedup(c: _Checker, raw: Any) -> DedupConfig | None:
    from cleanpipe.dedup.config import DedupConfig, MinHashConfig

    if raw is False:
        return None
    if raw is None or raw is True:
        return DedupConfig()
    if not isinstance(raw, dict):
        c.error("dedup", f"expected false or a mapping, got {_fmt(raw)}")
        return None
    data = dict(raw)
    minhash = data.get("minhash", True)
    if minhash is False or minhash is None:
        data["minhash"] = None
    elif minhash is True:
        data["minhash"] = MinHashConfig()
    elif isinstance(minhash, dict):
        data["minhash"] = _build_dataclass(c, MinHashConfig, minhash, "dedup.minhash")
    else:
        c.error("dedup.minhash", f"expected false or a mapping, got {_fmt(minhash)}")
        data.pop("minhash")
    return _build_dataclass(c, DedupConfig, data, "dedup")


_MODULE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")


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
    return f"{_failure(err)}{where}"


def _parse_plugins(c: _Checker, raw: Any, config_path: str) -> tuple[str, ...]:
    if raw is None:
        return ()
    names = [raw] if isinstance(raw, str) else raw
    if not conforms(names, list[str]):
        c.error("plugins", f"expected a list of module names, got {_fmt(raw)}")
        return ()
    good = []
    for i, name in enumerate(names):
        if not _MODULE_NAME.fullmatch(name) or name.endswith(".py"):
            stem = Path(name).stem if name.endswith(".py") else ""
            hint = f" (for {name} write {stem})" if stem and _MODULE_NAME.fullmatch(stem) else ""
            c.error(f"plugins[{i}]", f"expected a module name like my_stages, got {name!r}{hint}")
        else:
            good.append((i, name))
    problems = import_plugins([n for _, n in good], plugin_folders(config_path))
    for j, message in problems.items():
        c.error(f"plugins[{good[j][0]}]", message)
    return tuple(names)


def _check_source_priority(c: _Checker, dedup: DedupConfig | None, names: list[str]) -> None:
    for i, name in enumerate((dedup.source_priority or []) if dedup is not None else []):
        if name not in names:
            c.error(
                f"dedup.source_priority[{i}]",
                f"unknown source {name!r}; {_suggest(name, names)}sources: {', '.join(names)}",
            )


def parse_config(
    data: Any,
    *,
    source_path: str = "",
    check_paths_from: Path | None = None,
    output: str | None = None,
) -> Config:
    """Validate a config mapping (as loaded from YAML). Raises :class:`ConfigError` listing
    every problem found; nothing is read or written before this succeeds. ``plugins:``
    modules are imported first (from the config file's folder, the working directory or the
    installed packages), so that the stages they register can be used."""
    c = _Checker()
    if not isinstance(data, dict):
        raise ConfigError([f"top level: expected a mapping, got {_fmt(data)}"])
    c.mapping(data, "", _TOP_KEYS)
    plugins = _parse_plugins(c, data.get("plugins"), source_path)
    seed = c.typed(data, "seed", "", int, 0)
    out = _parse_output(c, data.get("output"))
    if output is not None:
        out = dataclasses.replace(out, path=output)
        _check_output_path(c, output, "--output")
    elif isinstance(data.get("output"), dict) and isinstance(data["output"].get("path"), str):
        _check_output_path(c, out.path, "output.path")
    sources: dict[str, SourceConfig] = {}
    raw_sources = data.get("sources")
    if not isinstance(raw_sources, dict) or not raw_sources:
        c.error(
            "sources", f"expected a mapping of source names to sources, got {_fmt(raw_sources)}"
        )
    else:
        for name, raw in raw_sources.items():
            if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
                c.error(f"sources.{name}", "source names may use letters, digits, _ . - only")
                continue
            parsed = _parse_source(c, name, raw, f"sources.{name}", check_paths_from or Path.cwd())
            if parsed is not None:
                sources[name] = parsed
    dedup = _parse_dedup(c, data.get("dedup", True))
    if isinstance(raw_sources, dict):
        _check_source_priority(c, dedup, [str(n) for n in raw_sources])
    mixture = _parse_mixture(c, data.get("mixture"))
    if c.problems:
        raise ConfigError(c.problems)
    return Config(
        seed=seed,
        output=out,
        sources=sources,
        dedup=dedup,
        mixture=mixture,
        plugins=plugins,
        path=source_path,
    )


def load_config(path: str, *, output: str | None = None) -> Config:
    """Read and validate a YAML config file (``7e9`` is a number, as in YAML 1.2)."""
    try:
        with open(path, encoding="utf-8") as fh:
            data = yaml.load(fh, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    except FileNotFoundError:
        raise ConfigError([f"{path}: no such file"]) from None
    except yaml.YAMLError as err:
        raise ConfigError([f"{path}: not valid YAML: {err}"]) from None
    return parse_config(data, source_path=path, output=output)


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
