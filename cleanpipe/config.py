"""Config: YAML -> validated, frozen objects. Every mistake is reported at once, with its key
path and what was expected, before any work starts; unknown keys are errors (a typo must
never be silently ignored)."""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import inspect
import json
import re
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Union

import yaml

from cleanpipe.io.fs import display, is_uri
from cleanpipe.io.readers import DEFAULT_MAX_DOC_BYTES, expand_paths
from cleanpipe.stages import STAGE_REGISTRY, Stage
from cleanpipe.tokens import COUNTING_MODES, TOKENIZERS

if TYPE_CHECKING:
    from cleanpipe.stages.dedup import DedupConfig


class ConfigError(ValueError):
    """All problems found in a config, one ``key.path: message`` per line."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        noun = "problem" if len(problems) == 1 else "problems"
        super().__init__(
            f"{len(problems)} config {noun}:\n" + "\n".join(f"  {p}" for p in problems)
        )


# -- the parsed config -------------------------------------------------------------------


@dataclass(frozen=True)
class StageSpec:
    """A stage by registry name with its parameters (as written in the config)."""

    name: str
    params: dict[str, Any] = field(default_factory=dict)

    def build(self) -> Stage:
        return STAGE_REGISTRY[self.name](**self.params)


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
    path: str = ""  # the file it was loaded from, for messages

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data.pop("path")
        return data

    def fingerprint(self) -> str:
        """sha256 of everything that shapes the output (not where it is written)."""
        data = self.to_dict()
        data["output"].pop("path")
        blob = json.dumps(data, sort_keys=True, default=str).encode()
        return hashlib.sha256(blob).hexdigest()


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


def parse_size(value: Any) -> int:
    """``256MB`` -> 256,000,000; ``1GiB`` -> 2**30; plain integers are bytes."""
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
        value = data[key]
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

_TOP_KEYS = ["seed", "output", "sources", "dedup", "mixture"]
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
        if params is None:
            params = {}
        if not isinstance(params, dict):
            c.error(f"{path}.{name}", f"expected a mapping of parameters, got {_fmt(params)}")
            return None
    else:
        c.error(path, f"expected a stage name or {{name: {{parameters}}}}, got {_fmt(item)}")
        return None
    known = sorted(n for n, cls in STAGE_REGISTRY.items() if not cls.is_global)
    if name not in known:
        hint = (
            "dedup runs across all sources: configure it in the top-level `dedup:` section. "
            if name in STAGE_REGISTRY
            else _suggest(name, known)
        )
        c.error(path, f"unknown stage {name!r}; {hint}known stages: {', '.join(known)}")
        return None
    cls = STAGE_REGISTRY[name]
    before = len(c.problems)
    kwargs = c.kwargs_for(cls.__init__, params, f"{path}.{name}", f"stage {name!r}")
    if len(c.problems) > before:
        return None
    try:  # the stage's own checks (ranges, files it needs) run now, not mid-run
        cls(**kwargs)
    except (TypeError, ValueError, FileNotFoundError, RuntimeError) as err:
        c.error(f"{path}.{name}", str(err))
        return None
    return StageSpec(name, kwargs)


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
            where = f"{path}.paths[{i}]"
            try:
                found = expand_paths(pattern)
            except OSError as err:  # a URI whose store cannot be listed (credentials, bucket)
                c.error(where, f"{display(pattern)!r} cannot be listed: {err}")
            else:
                if not found and is_uri(pattern):
                    c.error(where, f"{display(pattern)!r} matches no objects")
                elif not found:
                    c.error(
                        where,
                        f"{pattern!r} matches no files (globs are relative to the working "
                        f"directory {base})",
                    )
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
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    if (
        isinstance(value, dict)
        and list(value) == ["chinchilla_params"]
        and conforms(value["chinchilla_params"], float)
        and value["chinchilla_params"] > 0
    ):
        return {"chinchilla_params": float(value["chinchilla_params"])}
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

    return MixtureConfig(
        total_tokens=_parse_total_tokens(c, data.get("total_tokens")),
        max_epochs=float(
            c.typed(data, "max_epochs", "mixture", float, 4.0, _positive, "a number > 0")
        ),
        tokenizer=one_of("tokenizer", list(TOKENIZERS), "cl100k"),
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
    from cleanpipe.stages.dedup import DedupConfig, MinHashConfig

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


def parse_config(
    data: Any,
    *,
    source_path: str = "",
    check_paths_from: Path | None = None,
    output: str | None = None,
) -> Config:
    """Validate a config mapping (as loaded from YAML). Raises :class:`ConfigError` listing
    every problem found; nothing is read or written before this succeeds."""
    c = _Checker()
    if not isinstance(data, dict):
        raise ConfigError([f"top level: expected a mapping, got {_fmt(data)}"])
    c.mapping(data, "", _TOP_KEYS)
    seed = c.typed(data, "seed", "", int, 0)
    out = _parse_output(c, data.get("output"))
    if output is not None:
        out = dataclasses.replace(out, path=output)
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
    mixture = _parse_mixture(c, data.get("mixture"))
    if c.problems:
        raise ConfigError(c.problems)
    return Config(
        seed=seed, output=out, sources=sources, dedup=dedup, mixture=mixture, path=source_path
    )


def load_config(path: str, *, output: str | None = None) -> Config:
    """Read and validate a YAML config file."""
    try:
        with open(path, encoding="utf-8") as fh:
            data = yaml.safe_load(fh)
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
