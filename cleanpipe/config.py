"""Config: YAML -> validated, frozen objects. Every mistake is reported at once, with its key
path and what was expected, before any work starts; unknown keys are errors (a typo must
never be silently ignored).

The dataclasses below are the config; each default is written once, as a field default (the
parsers pass only the keys a config sets). The parsers use the value checks of
:mod:`cleanpipe._config_checks`; what a stage or plugin module says about itself comes from
:mod:`cleanpipe._config_stages`.
"""

from __future__ import annotations

import dataclasses
import re
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from cleanpipe import hashing
from cleanpipe._config_checks import (
    MISSING,
    Checker,
    Loader,
    check_html_first,
    check_input_pattern,
    check_output_path,
    coerce,
    conforms,
    fmt,
    given,
    parse_size,
    suggest,
)
from cleanpipe._config_stages import (
    MODULE_NAME,
    code_digest,
    construction_problems,
    import_plugins,
    parameter_choices,
    plugin_folders,
    stage_parameters,
    stage_summary,
    unknown_stage,
)
from cleanpipe.errors import ConfigError
from cleanpipe.io.readers import DEFAULT_MAX_DOC_BYTES
from cleanpipe.io.token_files import TOKEN_FORMATS
from cleanpipe.stages import STAGE_REGISTRY, Stage, load_entry_points, stage_class
from cleanpipe.stages.base import ENTRY_POINT_ERRORS
from cleanpipe.tokens import (
    COUNTING_MODES,
    TOKENIZERS,
    HFTokenizer,
    TokenizerSpec,
    load_tokenizer,
    missing_requirement,
)

if TYPE_CHECKING:
    from cleanpipe.dedup.config import DedupConfig

__all__ = [
    "COMPRESSIONS",
    "Config",
    "ConfigError",
    "MixtureConfig",
    "OutputConfig",
    "SourceConfig",
    "StageSpec",
    "load_config",
    "parameter_choices",
    "parse_config",
    "parse_size",
    "stage_parameters",
    "stage_summary",
]

COMPRESSIONS = ("zstd", "snappy", "gzip", "brotli", "lz4", "none")
ON_SHORTFALL = ("fail", "shrink")


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
    token_files: str = "none"  # or megatron, numpy: each shard's tokens (io.token_files)


@dataclass(frozen=True)
class MixtureConfig:
    """``total_tokens`` is an int, ``"max"``, or ``{"chinchilla_params": P}``."""

    total_tokens: int | str | dict[str, float] | None = None
    max_epochs: float = 4.0
    tokenizer: TokenizerSpec = "cl100k"  # a TOKENIZERS name or an HFTokenizer
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
        """sha256 of the config (not where the output is written): the identity written into
        every shard's footer. The code of its stages is not part of it: that decides which
        map tasks a rerun redoes (the task fingerprints), while a refactor that changes no
        row must leave the shards byte-identical."""
        data = self.to_dict()
        data["output"].pop("path")
        # token files sit beside the shards and change no row of them
        data["output"].pop("token_files")
        for source in data["sources"].values():
            for stage in source["stages"]:
                stage.pop("code")
        return hashing.fingerprint(data, length=None)


# -- sections ----------------------------------------------------------------------------

_TOP_KEYS = ["seed", "output", "sources", "dedup", "mixture", "plugins"]
_OUTPUT_KEYS = ["path", "shard_size", "compression", "token_files"]
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


def _parse_stage(c: Checker, item: Any, path: str) -> StageSpec | None:
    if isinstance(item, str):
        name, params = item, {}
    elif isinstance(item, dict) and len(item) == 1:
        name, params = next(iter(item.items()))
        params = {} if params is None else params
    else:
        c.error(path, f"expected a stage name or {{name: {{parameters}}}}, got {fmt(item)}")
        return None
    name = str(name)
    if name not in STAGE_REGISTRY:
        load_entry_points(name)  # an installed package's stage, loaded when first named
    if name in ENTRY_POINT_ERRORS and name not in STAGE_REGISTRY:
        c.error(path, f"stage {name!r}: {ENTRY_POINT_ERRORS[name]}")
        return None
    if name not in STAGE_REGISTRY or STAGE_REGISTRY[name].is_global:
        c.error(path, unknown_stage(name))
        return None
    if not isinstance(params, dict):
        c.error(f"{path}.{name}", f"expected a mapping of parameters, got {fmt(params)}")
        return None
    cls = STAGE_REGISTRY[name]
    before = len(c.problems)
    kwargs = c.kwargs_for(cls.__init__, params, f"{path}.{name}", f"stage {name!r}")
    # the stage's own checks (ranges, files it needs) run now, not mid-run, and for the
    # well-typed parameters even when others are wrong: every problem is reported at once
    for message in construction_problems(cls, kwargs):
        c.error(f"{path}.{name}", message)
    if len(c.problems) > before:
        return None
    return StageSpec(name, kwargs, cls.__module__, code_digest(cls))


def _with_run_seed(sources: dict[str, SourceConfig], seed: int) -> dict[str, SourceConfig]:
    """Stages that draw at random (``uses_run_seed``, e.g. the classifier's Pareto sampling)
    get the run's seed unless their parameters give one; it is then part of the source's
    config, so the map tasks' fingerprint, and resume, see it."""

    def seeded(spec: StageSpec) -> StageSpec:
        cls = STAGE_REGISTRY.get(spec.name)
        if not getattr(cls, "uses_run_seed", False) or "seed" in spec.params:
            return spec
        return dataclasses.replace(spec, params={**spec.params, "seed": seed})

    return {
        name: dataclasses.replace(src, stages=tuple(seeded(s) for s in src.stages))
        for name, src in sources.items()
    }


def _parse_source(c: Checker, name: str, raw: Any, path: str, base: Path) -> SourceConfig | None:
    data = c.mapping(raw, path, _SOURCE_KEYS)
    if not isinstance(raw, dict):
        return None
    paths_raw = data.get("paths")
    if isinstance(paths_raw, str):
        paths_raw = [paths_raw]
    paths: list[str] = []
    files = []
    if not paths_raw or not conforms(paths_raw, list[str]):
        c.error(f"{path}.paths", f"expected a list of globs, got {fmt(data.get('paths'))}")
    else:
        for i, pattern in enumerate(paths_raw):
            files += check_input_pattern(c, pattern, f"{path}.paths[{i}]", base)
            paths.append(pattern)
    weight = c.typed(data, "weight", path, float, _positive, "a number > 0")
    if "weight" not in data:
        c.error(
            f"{path}.weight",
            "missing: every source needs a weight (its target share of the mixture, by tokens)",
        )
    stages_raw = data.get("stages", [])
    stages: list[StageSpec] = []
    if not isinstance(stages_raw, list):
        c.error(f"{path}.stages", f"expected a list of stages, got {fmt(stages_raw)}")
    else:
        for i, item in enumerate(stages_raw):
            spec = _parse_stage(c, item, f"{path}.stages[{i}]")
            if spec is not None:
                stages.append(spec)
        if len(stages) == len(stages_raw):  # a stage that failed to parse is reported already
            first = STAGE_REGISTRY[stages[0].name] if stages else None
            check_html_first(c, files, first, f"{path}.stages")
    return SourceConfig(
        name=name,
        paths=tuple(paths),
        weight=1.0 if weight is MISSING else float(weight),  # 1.0: reported above, not used
        stages=tuple(stages),
        **given(  # in the order the problems were always reported
            max_doc_bytes=c.size(data, "max_doc_bytes", path, "10MB"),
            text_field=c.typed(data, "text_field", path, str),
            id_field=c.typed(data, "id_field", path, str),
            max_epochs=c.typed(data, "max_epochs", path, float, _positive, "a number > 0"),
        ),
    )


def _parse_output(c: Checker, raw: Any, override: str | None, required: bool) -> OutputConfig:
    """The ``output:`` section; ``override`` is ``--output``, which may stand in for all of
    it. Without either, ``required=False`` gives an empty path (``cleanpipe validate``)."""
    data = c.mapping(raw, "output", _OUTPUT_KEYS)
    needed = required and override is None
    if raw is None and needed:
        c.error("output", "missing: expected {path: ..., shard_size: ..., compression: ...}")
    path = c.typed(data, "path", "output", str)
    if "path" not in data and raw is not None and needed:
        c.error("output.path", "missing: the folder to write to")
    out = OutputConfig(
        path="" if path is MISSING else path,
        **given(
            shard_size=c.size(data, "shard_size", "output", "256MB or 1GiB"),
            compression=c.typed(
                data,
                "compression",
                "output",
                str,
                lambda v: v in COMPRESSIONS,
                "one of " + ", ".join(COMPRESSIONS),
            ),
            token_files=c.typed(
                data,
                "token_files",
                "output",
                str,
                lambda v: v in ("none", *TOKEN_FORMATS),
                "one of none, " + ", ".join(TOKEN_FORMATS),
            ),
        ),
    )
    if override is not None:
        check_output_path(c, override, "--output")
        return dataclasses.replace(out, path=override)
    if path is not MISSING:
        check_output_path(c, path, "output.path")
    return out


def _parse_total_tokens(c: Checker, value: Any) -> int | str | dict[str, float] | None:
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
        f"expected a positive integer, 'max', or {{chinchilla_params: N}}, got {fmt(value)}",
    )
    return None


def _parse_mixture(c: Checker, raw: Any) -> MixtureConfig:
    data = c.mapping(raw, "mixture", _MIXTURE_KEYS)

    def one_of(key: str, choices: Any) -> Any:
        expected = "one of " + ", ".join(choices)
        return c.typed(data, key, "mixture", str, lambda v: v in choices, expected)

    if "total_tokens" in data:
        total_tokens = _parse_total_tokens(c, data["total_tokens"])
    else:
        total_tokens = MISSING
    max_epochs = c.typed(data, "max_epochs", "mixture", float, _positive, "a number > 0")
    if isinstance(data.get("tokenizer"), dict):
        tokenizer = _parse_hf_tokenizer(c, data["tokenizer"])
    else:
        tokenizer = one_of("tokenizer", list(TOKENIZERS))
    if isinstance(tokenizer, str) and (missing := missing_requirement(tokenizer)):
        c.error("mixture.tokenizer", missing)
    return MixtureConfig(
        **given(
            total_tokens=total_tokens,
            max_epochs=MISSING if max_epochs is MISSING else float(max_epochs),
            tokenizer=tokenizer,
            token_counting=one_of("token_counting", COUNTING_MODES),
            on_shortfall=one_of("on_shortfall", ON_SHORTFALL),
        )
    )


def _parse_hf_tokenizer(c: Checker, raw: dict[str, Any]) -> HFTokenizer | Any:
    """``{hf: path/to/tokenizer.json, eos_token: ...}``: loaded now, so a missing file, a
    missing package or an end-of-document token not in its vocabulary stops the run here."""
    path = "mixture.tokenizer"
    data = c.mapping(raw, path, ["hf", "eos_token"])
    file = c.typed(data, "hf", path, str)
    eos = c.typed(data, "eos_token", path, str)
    if file is MISSING:
        c.error(f"{path}.hf", "missing: the path of a local tokenizer.json")
        return MISSING
    spec = HFTokenizer(file, None if eos is MISSING else eos)
    if not Path(file).is_file():
        c.error(f"{path}.hf", f"{file!r}: no such file (tokenizers are never downloaded)")
    elif missing := missing_requirement("hf"):
        c.error(path, missing.replace("tokenizer hf", "an hf tokenizer"))
    else:
        try:
            load_tokenizer(spec)
        except ValueError as err:
            c.error(path, str(err))
        except Exception as err:  # the tokenizers package's own parse errors
            c.error(f"{path}.hf", f"{file!r} is not a tokenizers file: {err}")
    return spec


def _check_token_files(c: Checker, out: OutputConfig, mixture: MixtureConfig) -> None:
    """Token files hold the very ids the ``tokens`` column counted: counts must be exact."""
    if out.token_files != "none" and mixture.token_counting == "estimate":
        c.error(
            "output.token_files",
            f"{out.token_files} token files need exact token counts; remove "
            "mixture.token_counting: estimate (or set it to exact)",
        )


def _build_dataclass(c: Checker, cls: type, data: dict[str, Any], path: str) -> Any:
    """A frozen config dataclass from a mapping, checked against its fields' type hints."""
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls) if f.init]
    c.mapping(data, path, names)
    kwargs = given(**{k: c.typed(data, k, path, hints[k]) for k in data if k in names})
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as err:
        c.error(path, str(err))
        return None


def _parse_dedup(c: Checker, raw: Any) -> DedupConfig | None:
    from cleanpipe.dedup.config import (
        DedupConfig,
        MinHashConfig,
        ParagraphConfig,
        coerce_minhash,
        coerce_paragraphs,
    )

    if raw is False:
        return None
    if raw is None or raw is True:
        return DedupConfig()
    if not isinstance(raw, dict):
        c.error("dedup", f"expected false or a mapping, got {fmt(raw)}")
        return None
    data = dict(raw)
    for key, cls, read_section in (
        ("minhash", MinHashConfig, coerce_minhash),
        ("paragraphs", ParagraphConfig, coerce_paragraphs),
    ):
        value = data.get(key, MISSING)
        if isinstance(value, dict):  # checked key by key, for messages with key paths
            data[key] = _build_dataclass(c, cls, value, f"dedup.{key}")
        elif value is None or isinstance(value, bool):
            data[key] = read_section(value)
        elif value is not MISSING:
            c.error(f"dedup.{key}", f"expected true, false or a mapping, got {fmt(value)}")
            data.pop(key)
    return _build_dataclass(c, DedupConfig, data, "dedup")


def _parse_plugins(c: Checker, raw: Any, config_path: str) -> tuple[str, ...]:
    if raw is None:
        return ()
    names = [raw] if isinstance(raw, str) else raw
    if not conforms(names, list[str]):
        c.error("plugins", f"expected a list of module names, got {fmt(raw)}")
        return ()
    good = []
    for i, name in enumerate(names):
        if not MODULE_NAME.fullmatch(name) or name.endswith(".py"):
            stem = Path(name).stem if name.endswith(".py") else ""
            hint = f" (for {name} write {stem})" if stem and MODULE_NAME.fullmatch(stem) else ""
            c.error(f"plugins[{i}]", f"expected a module name like my_stages, got {name!r}{hint}")
        else:
            good.append((i, name))
    problems = import_plugins([n for _, n in good], plugin_folders(config_path))
    for j, message in problems.items():
        c.error(f"plugins[{good[j][0]}]", message)
    return tuple(names)


def _parse_sources(c: Checker, raw: Any, base: Path) -> dict[str, SourceConfig]:
    if not isinstance(raw, dict) or not raw:
        c.error("sources", f"expected a mapping of source names to sources, got {fmt(raw)}")
        return {}
    sources: dict[str, SourceConfig] = {}
    for name, item in raw.items():
        if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
            c.error(f"sources.{name}", "source names may use letters, digits, _ . - only")
            continue
        parsed = _parse_source(c, name, item, f"sources.{name}", base)
        if parsed is not None:
            sources[name] = parsed
    return sources


def _check_source_priority(c: Checker, dedup: DedupConfig | None, names: list[str]) -> None:
    """Source names the dedup section lists (``source_priority``, ``paragraphs.sources``)
    must be sources of the config."""
    if dedup is None:
        return
    listed = [("dedup.source_priority", dedup.source_priority)]
    if dedup.paragraphs is not None:
        listed.append(("dedup.paragraphs.sources", dedup.paragraphs.sources))
    for key, values in listed:
        for i, name in enumerate(values or []):
            if name not in names:
                c.error(
                    f"{key}[{i}]",
                    f"unknown source {name!r}; {suggest(name, names)}sources: {', '.join(names)}",
                )


def parse_config(
    data: Any,
    *,
    source_path: str = "",
    check_paths_from: Path | None = None,
    output: str | None = None,
    require_output: bool = True,
) -> Config:
    """Validate a config mapping (as loaded from YAML). Raises :class:`ConfigError` listing
    every problem found; nothing is read or written before this succeeds. ``plugins:``
    modules are imported first (from the config file's folder, the working directory or the
    installed packages), so that the stages they register can be used.

    ``output`` (``--output``) replaces ``output.path``, and then the config needs no
    ``output:`` section. With ``require_output=False`` a config without either is valid and
    its ``output.path`` is ``""`` (``cleanpipe validate``: a run needs ``--output``)."""
    c = Checker()
    if not isinstance(data, dict):
        raise ConfigError([f"top level: expected a mapping, got {fmt(data)}"])
    c.mapping(data, "", _TOP_KEYS)
    plugins = _parse_plugins(c, data.get("plugins"), source_path)
    seed = c.typed(data, "seed", "", int)
    out = _parse_output(c, data.get("output"), output, require_output)
    raw_sources = data.get("sources")
    sources = _parse_sources(c, raw_sources, check_paths_from or Path.cwd())
    dedup = _parse_dedup(c, data.get("dedup", True))
    if isinstance(raw_sources, dict):
        _check_source_priority(c, dedup, [str(n) for n in raw_sources])
    mixture = _parse_mixture(c, data.get("mixture"))
    _check_token_files(c, out, mixture)
    if c.problems:
        raise ConfigError(c.problems)
    return Config(
        seed=0 if seed is MISSING else seed,  # the one default of the seed: 0
        output=out,
        sources=_with_run_seed(sources, 0 if seed is MISSING else seed),
        dedup=dedup,
        mixture=mixture,
        plugins=plugins,
        path=source_path,
    )


def load_config(path: str, *, output: str | None = None, require_output: bool = True) -> Config:
    """Read and validate a YAML config file (``7e9`` is a number, as in YAML 1.2); the
    keywords are those of :func:`parse_config`."""
    try:
        with open(path, encoding="utf-8") as fh:
            data = yaml.load(fh, Loader=Loader)  # noqa: S506 - a SafeLoader subclass
    except FileNotFoundError:
        raise ConfigError([f"{path}: no such file"]) from None
    except yaml.YAMLError as err:
        raise ConfigError([f"{path}: not valid YAML: {err}"]) from None
    return parse_config(data, source_path=path, output=output, require_output=require_output)
