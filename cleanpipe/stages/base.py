"""Stage base classes: one method per stage, the bookkeeping lives here once.

A stage maps ``Iterable[Document] -> Iterator[Document]``. Subclasses implement a single
decision method (``check`` for filters, ``transform`` for transforms, ``annotate`` for
annotators); counting, timing, batching, ``annotate_only`` and handing dropped documents to
the rejects sink are done by :class:`Stage`, so a new rule cannot forget its stats
(the pattern of datatrove's ``BaseFilter``).

A decision is a :data:`Verdict`: ``None`` keeps the document, a rule name (``"too_short"``)
drops it, and a :class:`Drop` drops it and says by how much
(``Drop("mean_word_length", "mean_word_length 2.1 < 3.0")``). Either way the reason is
``<stage>:<rule>`` and stats count by it; the detail goes to the rejects' ``detail`` column.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import Any, ClassVar, Protocol

from cleanpipe.document import Document
from cleanpipe.errors import StageLoadError
from cleanpipe.stages.measure import no_space_language
from cleanpipe.stages.rules import Drop, Rules, Verdict

__all__ = [
    "ENTRY_POINT_ERRORS",
    "ENTRY_POINT_GROUP",
    "PLUGIN_PATH_ENV",
    "STAGE_REGISTRY",
    "Drop",
    "DropSink",
    "Filter",
    "SignalFilter",
    "Stage",
    "StageLoadError",
    "StageStats",
    "Transform",
    "Verdict",
    "batched",
    "load_entry_points",
    "register",
    "stage_class",
]


class DropSink(Protocol):
    """Receives every dropped document: ``(doc, "<stage>:<rule>", detail)``; ``detail`` is
    ``""`` when the rule gave none (a custom filter returning a plain rule name)."""

    def __call__(self, doc: Document, reason: str, detail: str = "") -> None: ...


@dataclass
class StageStats:
    """What one stage did: documents in and out, drops by reason, time spent.

    ``dropped`` keys are full reasons (``gopher_quality:mean_word_length``). With
    ``annotate_only`` nothing is dropped and ``would_drop`` counts what would have been.
    """

    stage: str
    docs_in: int = 0
    docs_out: int = 0
    chars_in: int = 0
    chars_out: int = 0
    modified: int = 0
    seconds: float = 0.0
    dropped: Counter = field(default_factory=Counter)
    dropped_chars: Counter = field(default_factory=Counter)
    would_drop: Counter = field(default_factory=Counter)

    def to_dict(self) -> dict[str, Any]:
        return {
            "stage": self.stage,
            "in": self.docs_in,
            "out": self.docs_out,
            "chars_in": self.chars_in,
            "chars_out": self.chars_out,
            "modified": self.modified,
            "seconds": round(self.seconds, 6),
            "dropped": dict(sorted(self.dropped.items())),
            "dropped_chars": dict(sorted(self.dropped_chars.items())),
            "would_drop": dict(sorted(self.would_drop.items())),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StageStats:
        return cls(
            stage=data["stage"],
            docs_in=data["in"],
            docs_out=data["out"],
            chars_in=data.get("chars_in", 0),
            chars_out=data.get("chars_out", 0),
            modified=data.get("modified", 0),
            seconds=data.get("seconds", 0.0),
            dropped=Counter(data.get("dropped", {})),
            dropped_chars=Counter(data.get("dropped_chars", {})),
            would_drop=Counter(data.get("would_drop", {})),
        )

    def merge(self, other: StageStats) -> None:
        """Add another worker's stats for the same stage into this one (every count, the
        characters and the seconds)."""
        if other.stage != self.stage:
            raise ValueError(f"cannot merge stats of stage {other.stage!r} into {self.stage!r}")
        self.docs_in += other.docs_in
        self.docs_out += other.docs_out
        self.chars_in += other.chars_in
        self.chars_out += other.chars_out
        self.modified += other.modified
        self.seconds += other.seconds
        self.dropped.update(other.dropped)
        self.dropped_chars.update(other.dropped_chars)
        self.would_drop.update(other.would_drop)

    def __add__(self, other: StageStats) -> StageStats:
        """The stats of both, as a new object (datatrove's ``Stats.__add__``):
        ``sum(per_worker_stats)`` merges the workers' stats of one stage."""
        if not isinstance(other, StageStats):
            return NotImplemented
        total = StageStats(self.stage)
        total.merge(self)
        total.merge(other)
        return total

    def __radd__(self, other: object) -> StageStats:
        if other == 0:  # the start of sum()
            return StageStats(self.stage) + self
        return NotImplemented


def batched(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    """Yield lists of up to ``size`` items, streaming (never materialises the input)."""
    it = iter(items)
    while batch := list(islice(it, size)):
        yield batch


class Stage:
    """Base of every stage. Subclasses set ``name`` (via :func:`register`) and override
    :meth:`process` (one document) or :meth:`process_batch` (a batch, e.g. a model call).

    ``process`` may modify ``doc.text``/``doc.meta`` in place and returns a :data:`Verdict`:
    ``None`` to keep the document, a rule name or a :class:`Drop` to drop it; the base
    prefixes the stage name to form the reason and hands the drop's detail to :attr:`on_drop`.
    """

    name: ClassVar[str] = "stage"
    #: documents handed to :meth:`process_batch` at once.
    batch_size: ClassVar[int] = 256
    #: a global stage (dedup) sees all sources at once and is configured outside ``stages:``.
    is_global: ClassVar[bool] = False
    #: the stage turns HTML into text (``html_extract``): a WARC source must start with one.
    extracts_html: ClassVar[bool] = False

    def __init__(self, *, annotate_only: bool = False) -> None:
        self.annotate_only = annotate_only
        self.stats = StageStats(self.name)
        #: called with (document, reason, detail) for every dropped document; the runner points
        #: it at the rejects writer so that no document disappears without a trace.
        self.on_drop: DropSink | None = None

    # -- the one method a subclass writes -------------------------------------------------
    def process(self, doc: Document) -> Verdict:
        raise NotImplementedError

    def process_batch(self, docs: list[Document]) -> list[Verdict]:
        return [self.process(doc) for doc in docs]

    # -- bookkeeping --------------------------------------------------------------------
    def __call__(self, docs: Iterable[Document]) -> Iterator[Document]:
        for batch in batched(docs, self.batch_size):
            started = time.perf_counter()
            texts_before = [doc.text for doc in batch]
            verdicts = self.process_batch(batch)
            verdicts = [
                Drop("empty", _empty_detail(before))
                if verdict is None and not doc.text.strip()
                else verdict
                for doc, before, verdict in zip(batch, texts_before, verdicts, strict=True)
            ]
            kept = self.apply_verdicts(batch, verdicts, texts_before)
            self.stats.seconds += time.perf_counter() - started
            yield from kept

    def apply_verdicts(
        self,
        docs: list[Document],
        verdicts: list[Verdict],
        texts_before: list[str] | None = None,
    ) -> list[Document]:
        """Count one verdict per document into :attr:`stats` and return the documents kept.

        A drop is counted under :meth:`reason` and handed to :attr:`on_drop`; with
        ``annotate_only`` it is only counted, as ``would_drop``, and the document kept.
        ``texts_before`` are the texts before the stage ran (a changed text counts as
        ``modified``); by default the documents' current texts. Used by :meth:`__call__` and
        by global stages, which decide on all documents at once.
        """
        stats = self.stats
        befores = texts_before if texts_before is not None else [doc.text for doc in docs]
        kept: list[Document] = []
        for doc, before, verdict in zip(docs, befores, verdicts, strict=True):
            stats.docs_in += 1
            stats.chars_in += len(before)
            if doc.text is not before and doc.text != before:
                stats.modified += 1
            if verdict is not None:
                rule, detail = (
                    (verdict.rule, verdict.detail) if isinstance(verdict, Drop) else (verdict, "")
                )
                reason = self.reason(rule)
                if self.annotate_only:
                    stats.would_drop[reason] += 1
                else:
                    stats.dropped[reason] += 1
                    stats.dropped_chars[reason] += len(before)
                    if self.on_drop is not None:
                        self.on_drop(doc, reason, detail)
                    continue
            stats.docs_out += 1
            stats.chars_out += len(doc.text)
            kept.append(doc)
        return kept

    def reason(self, rule: str) -> str:
        """The full reason a failed ``rule`` is counted and written under: ``<stage>:<rule>``."""
        return f"{self.name}:{rule}"

    def report_extra(self) -> dict[str, int]:
        """Counts beyond in/out/dropped that the report should show (e.g. PII by kind)."""
        return {}

    @classmethod
    def input_files(cls, params: dict[str, Any]) -> list[str]:
        """Files the stage built with ``params`` reads besides the documents (eval sets, word
        lists): their sizes and modification times are part of the map tasks' fingerprint,
        so editing one makes a rerun redo the tasks instead of resuming them."""
        return []

    def params(self) -> dict[str, Any]:
        """Constructor arguments as given, for the run manifest and ``cleanpipe stages``."""
        return dict(getattr(self, "_params", {}))

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params().items())
        return f"{type(self).__name__}({args})"


def _empty_detail(before: str) -> str:
    return f"no text left of {len(before)} chars" if before.strip() else "blank text"


class Filter(Stage):
    """Keeps or drops whole documents. Implement :meth:`check`, returning ``None`` to keep,
    the name of the failed rule, or a :class:`Drop` naming the rule and what was measured
    against which threshold (the rejects' ``detail``). Record measured signals in
    ``doc.meta`` before deciding ("score first, decide second"), so reports and
    ``annotate_only`` runs see them, and build the detail from those same numbers.
    """

    def check(self, doc: Document) -> Verdict:
        raise NotImplementedError

    def process(self, doc: Document) -> Verdict:
        return self.check(doc)


class Transform(Stage):
    """Rewrites text. Implement :meth:`transform` returning the new text. A document whose
    text becomes empty is dropped with reason ``<name>:empty``."""

    def transform(self, doc: Document) -> str:
        raise NotImplementedError

    def process(self, doc: Document) -> Verdict:
        doc.text = self.transform(doc)
        return None


class SignalFilter(Filter):
    """A filter that records measured signals in ``doc.meta[name]``, then applies
    :class:`~cleanpipe.stages.rules.Rules` to them. Subclasses implement :meth:`measure`.

    ``notes`` counts documents for which rules were skipped (``word_rules_skipped:zh``).
    """

    rules: Rules

    def __init__(self, *, annotate_only: bool = False) -> None:
        super().__init__(annotate_only=annotate_only)
        self.notes: Counter[str] = Counter()

    def measure(self, doc: Document) -> dict[str, Any]:
        raise NotImplementedError

    def measure_batch(self, docs: list[Document]) -> list[dict[str, Any]]:
        """:meth:`measure` of each document; a filter whose signals are cheaper to measure
        for many documents at once overrides this."""
        return [self.measure(doc) for doc in docs]

    def report_extra(self) -> dict[str, int]:
        return dict(sorted(self.notes.items()))

    def check(self, doc: Document) -> Drop | None:
        return self.decide(doc, self.measure(doc))

    def process_batch(self, docs: list[Document]) -> list[Verdict]:
        signals = self.measure_batch(docs)
        return [self.decide(doc, s) for doc, s in zip(docs, signals, strict=True)]

    def decide(self, doc: Document, signals: dict[str, Any]) -> Drop | None:
        """Record ``signals`` in ``doc.meta``, then apply the rules to exactly those: the
        first failed rule, its detail showing the stored value against the threshold."""
        doc.meta[self.name] = signals
        return self.rules_for(signals).first_failure(signals)

    def rules_for(self, signals: dict[str, Any]) -> Rules:
        """The thresholds for this document (one set unless a filter has several)."""
        return self.rules

    def word_rules_apply(self, doc: Document, signals: dict[str, Any]) -> bool:
        """False (and noted in ``signals`` and ``notes``) for a language without spaces."""
        lang = no_space_language(doc.text, doc.meta)
        if lang is None:
            return True
        signals["word_rules_skipped"] = lang
        self.notes[f"word_rules_skipped:{lang}"] += 1
        return False


# -- registry ----------------------------------------------------------------------------

STAGE_REGISTRY: dict[str, type[Stage]] = {}

#: installed packages offer stages under this entry-point group (``name = module:Class`` or
#: ``name = module``); they are loaded lazily, when a config or ``cleanpipe stages`` asks.
ENTRY_POINT_GROUP = "cleanpipe.stages"
#: folders the driver imported ``plugins:`` modules from (``os.pathsep``-separated); the
#: executors forward ``CLEANPIPE_*`` variables, so a worker imports the same modules.
PLUGIN_PATH_ENV = "CLEANPIPE_PLUGIN_PATH"
#: entry points that failed to load: name -> one-line reason (kept so it is said once).
ENTRY_POINT_ERRORS: dict[str, str] = {}
_entry_points_tried: set[str] = set()


def register(name: str) -> Callable[[type[Stage]], type[Stage]]:
    """Class decorator: make a stage buildable from configs under ``name``.

    It also records the constructor arguments of each instance (for manifests and repr).
    Re-registering the same class (same module and name: a module imported again) replaces
    it; another class under a taken name is an error.
    """

    def wrap(cls: type[Stage]) -> type[Stage]:
        old = STAGE_REGISTRY.get(name)
        if old is not None and old is not cls and not _same_class(old, cls):
            raise ValueError(
                f"stage name {name!r} registered twice ({_where(old)} and {_where(cls)})"
            )
        cls.name = name
        original_init = cls.__init__

        def __init__(self: Stage, *args: Any, **kwargs: Any) -> None:
            if args:
                raise TypeError(f"{cls.__name__} takes keyword arguments only")
            original_init(self, **kwargs)
            if type(self) is cls:
                self._params = dict(kwargs)

        __init__.__wrapped__ = original_init  # type: ignore[attr-defined]
        __init__.__doc__ = original_init.__doc__
        cls.__init__ = __init__  # type: ignore[method-assign]
        STAGE_REGISTRY[name] = cls
        return cls

    return wrap


def _where(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _same_class(a: type, b: type) -> bool:
    main = ("__main__", "__mp_main__")  # a spawned worker imports the main script as __mp_main__
    same_module = a.__module__ == b.__module__ or (a.__module__ in main and b.__module__ in main)
    return same_module and a.__qualname__ == b.__qualname__


def _entry_points() -> list[Any]:
    from importlib.metadata import entry_points

    return sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: ep.name)


def _load_entry_point(ep: Any) -> None:
    """Import one entry point; a class it names is registered under the entry point's name
    (a module registers its own stages with :func:`register`). Failures are recorded in
    :data:`ENTRY_POINT_ERRORS`, never raised: one broken package must not break the others."""
    import types

    if ep.name in _entry_points_tried:
        return
    _entry_points_tried.add(ep.name)
    package = f" of package {ep.dist.name}" if getattr(ep, "dist", None) else ""
    try:
        loaded = ep.load()
    except Exception as err:  # noqa: BLE001 - any import failure becomes one line
        ENTRY_POINT_ERRORS[ep.name] = (
            f"entry point {ep.name!r} ({ep.value}){package} failed to import: "
            f"{type(err).__name__}: {err}"
        )
        return
    if isinstance(loaded, type) and issubclass(loaded, Stage):
        if ep.name not in STAGE_REGISTRY:
            if loaded in STAGE_REGISTRY.values():  # registered under another name too
                STAGE_REGISTRY[ep.name] = loaded
            else:
                register(ep.name)(loaded)
    elif not isinstance(loaded, types.ModuleType) and ep.name not in STAGE_REGISTRY:
        ENTRY_POINT_ERRORS[ep.name] = (
            f"entry point {ep.name!r} ({ep.value}){package} is a {type(loaded).__name__}, "
            "not a Stage class or a module"
        )


def load_entry_points(name: str | None = None) -> dict[str, str]:
    """Load the ``cleanpipe.stages`` entry points (only the one called ``name`` when given,
    else all); returns :data:`ENTRY_POINT_ERRORS`."""
    for ep in _entry_points():
        if name is None or ep.name == name:
            _load_entry_point(ep)
    return ENTRY_POINT_ERRORS


def _use_plugin_path() -> None:
    """Put the driver's plugin folders (:data:`PLUGIN_PATH_ENV`) on ``sys.path``."""
    import os
    import sys

    for folder in reversed(os.environ.get(PLUGIN_PATH_ENV, "").split(os.pathsep)):
        if folder and folder not in sys.path:
            sys.path.insert(0, folder)


def stage_class(name: str, module: str = "") -> type[Stage]:
    """The stage registered as ``name``, importing what defines it when this process has not
    yet: ``module`` (where the driver found the class: a ``plugins:`` module), then the
    ``cleanpipe.stages`` entry points. Raises :class:`StageLoadError` with what to do."""
    import os

    cls = STAGE_REGISTRY.get(name)
    if cls is not None:
        return cls
    if module in ("__main__", "__mp_main__"):
        raise StageLoadError(
            f"stage {name!r} is defined in the script that was run (__main__), which worker "
            "processes cannot import: move the class into a module (e.g. my_stages.py beside "
            "the config) and list it under `plugins: [my_stages]` in the config"
        )
    if module:
        import importlib

        _use_plugin_path()
        try:
            importlib.import_module(module)
        except Exception as err:  # noqa: BLE001 - reported as one line below
            raise StageLoadError(
                f"stage {name!r}: importing its module {module!r} failed in process "
                f"{os.getpid()}: {type(err).__name__}: {err}"
            ) from err
        if name in STAGE_REGISTRY:
            return STAGE_REGISTRY[name]
    load_entry_points(name)
    if name in STAGE_REGISTRY:
        return STAGE_REGISTRY[name]
    if name in ENTRY_POINT_ERRORS:
        raise StageLoadError(f"stage {name!r}: {ENTRY_POINT_ERRORS[name]}")
    raise StageLoadError(
        f"unknown stage {name!r}: register it in a module listed under `plugins:` in the "
        f"config, or install a package offering it in the {ENTRY_POINT_GROUP!r} "
        "entry-point group"
    )
