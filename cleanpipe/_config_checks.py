"""YAML values checked against type hints, with messages that name the key path.

The vocabulary :mod:`cleanpipe.config` parses with: :class:`Checker` walks the YAML tree and
collects every problem (``key.path: expected ..., got ...``) instead of stopping at the
first; :func:`coerce` and :func:`conforms` read a value the way a person writes it (``7e9``
is a number, ``1e6`` where an integer is expected is that integer); the path checks say
whether an input glob matches readable files and an output folder can be written.
"""

from __future__ import annotations

import difflib
import inspect
import math
import os
import re
import types
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, Union

import yaml

from cleanpipe.io.fs import display, is_uri, unsupported_scheme
from cleanpipe.io.readers import (
    READABLE_FORMATS,
    InputFile,
    expand_paths,
    input_format,
    unsupported_format,
)

#: what :meth:`Checker.typed` returns for a key that is absent or wrong: the dataclass
#: field's default then applies (see :func:`given`), so each default is written once.
MISSING: Any = object()


def given(**values: Any) -> dict[str, Any]:
    """The keyword arguments that are not :data:`MISSING` (the others keep their defaults)."""
    return {k: v for k, v in values.items() if v is not MISSING}


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
#: a number in scientific notation, also without a dot (``7e9``), which YAML 1.1 (PyYAML)
#: reads as a string; YAML 1.2 and people read it as a number.
_SCIENTIFIC = re.compile(r"^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)[eE][-+]?[0-9]+$")


class Loader(yaml.SafeLoader):
    """PyYAML's safe loader, reading ``7e9`` and ``1e6`` as numbers (see :data:`_SCIENTIFIC`)."""


Loader.add_implicit_resolver("tag:yaml.org,2002:float", _SCIENTIFIC, list("-+0123456789."))


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


def fmt(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def suggest(word: str, known: list[str]) -> str:
    close = difflib.get_close_matches(word, known, n=1)
    return f"did you mean {close[0]!r}? " if close else ""


class Checker:
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
            self.error(path, f"expected a mapping, got {fmt(value)}")
            return {}
        for key in value:
            if key not in known:
                self.error(
                    f"{path}.{key}" if path else str(key),
                    f"unknown key; {suggest(str(key), known)}known keys: {', '.join(known)}",
                )
        return value

    def typed(
        self,
        data: dict[str, Any],
        key: str,
        path: str,
        hint: Any,
        check: Callable[[Any], bool] | None = None,
        expected: str | None = None,
    ) -> Any:
        """``data[key]`` if it fits ``hint`` (and ``check``); :data:`MISSING` when it is
        absent, or wrong (then it is reported)."""
        if key not in data:
            return MISSING
        value = coerce(data[key], hint)
        if conforms(value, hint) and (check is None or value is None or check(value)):
            return value
        self.error(
            f"{path}.{key}" if path else key,
            f"expected {expected or describe(hint)}, got {fmt(value)}",
        )
        return MISSING

    def size(self, data: dict[str, Any], key: str, path: str, example: str) -> Any:
        """``data[key]`` read by :func:`parse_size`; :data:`MISSING` when absent or wrong."""
        if key not in data:
            return MISSING
        try:
            return parse_size(data[key])
        except ValueError:
            self.error(f"{path}.{key}", f"expected a size like {example}, got {fmt(data[key])}")
            return MISSING

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
        for key, p in signature.parameters.items():
            if key in known and p.default is p.empty and key not in params:
                self.error(f"{path}.{key}", f"missing: a required parameter of {what}")
        good: dict[str, Any] = {}
        for key, value in params.items():
            if key in hints:
                value = coerce(value, hints[key])
            if key not in known:
                self.error(
                    f"{path}.{key}",
                    f"unknown parameter of {what}; "
                    f"{suggest(key, known)}known: {', '.join(known) or '(none)'}",
                )
            elif key in hints and not conforms(value, hints[key]):
                self.error(f"{path}.{key}", f"expected {describe(hints[key])}, got {fmt(value)}")
            else:
                good[key] = value
        return good


def failure(err: BaseException) -> str:
    """An exception in one line: its first line, prefixed by its type unless that is one of
    the types a check raises with a message meant for the user."""
    text = str(err).strip().splitlines()[0] if str(err).strip() else ""
    if isinstance(err, (TypeError, ValueError, FileNotFoundError, RuntimeError)) and text:
        return text
    return f"{type(err).__name__}: {text}" if text else type(err).__name__


def check_input_pattern(c: Checker, pattern: str, where: str, base: Path) -> list[InputFile]:
    """The glob matches something, and only files of formats cleanpipe reads; the files it
    matches (none when it cannot be listed)."""
    if reason := unsupported_scheme(pattern):
        c.error(where, f"{display(pattern)!r}: {reason}")
        return []
    try:
        found = expand_paths(pattern)
    except Exception as err:  # noqa: BLE001 - a store that cannot be listed (offline, bucket)
        c.error(where, f"{display(pattern)!r} cannot be listed: {failure(err)}")
        return []
    if not found and is_uri(pattern):
        c.error(where, f"{display(pattern)!r} matches no objects")
        return []
    if not found:
        c.error(
            where,
            f"{pattern!r} matches no files (globs are relative to the working directory {base})",
        )
        return []
    _check_formats(c, found, where)
    return found


def _check_formats(c: Checker, found: list[InputFile], where: str) -> None:
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


def check_html_first(c: Checker, files: list[InputFile], first: Any, where: str) -> None:
    """A source reading WARC files must start with a stage whose class says
    ``extracts_html = True`` (``html_extract``): a WARC document is an HTML page, and HTML
    must never reach a text filter. WET files hold text and need none. ``first`` is the
    first stage's class, or None for a source without stages."""
    warc = next((f for f in files if input_format(f.path) == "warc"), None)
    if warc is None or getattr(first, "extracts_html", False):
        return
    got = f"its first stage is {first.name!r}" if first is not None else "it has no stages"
    c.error(
        where,
        "expected an HTML extraction stage first (html_extract): the source reads WARC files "
        f"(e.g. {display(warc.path)!r}), whose documents are HTML pages; {got}",
    )


def check_output_path(c: Checker, out_path: str, where: str) -> None:
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
