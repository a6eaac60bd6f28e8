"""report.md, the shared view behind report.html, and the comparison of two runs.

``render_markdown`` and ``cleanpipe.report_html.render_html`` show the same sections; what a
funnel row, a warning or an accounting identity is lives here, once. ``compare_reports`` and
``print_comparison`` back ``cleanpipe report OUT --compare OTHER``.

Everything is a pure function of the report dict. Keys an older run did not write (signals,
examples, pii, warnings, dedup clusters ...) are skipped, never required.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from cleanpipe.mixture import EPOCH_WARNING  # Muennighoff et al. 2023: above it, warn

SHARE_WARNING = 0.01
"""Achieved share this far (absolute) from the target share is worth a warning."""
EXAMPLE_CHARS = 300
TOP_LANGUAGES = 6
COMPARE_METRIC_WIDTH = 42
"""Metric names up to this long stay on one line in ``--compare`` (room for the numbers
of an 80-column terminal: the longest drop reasons of the built-in stages fit)."""

_MUENNIGHOFF = (
    "Muennighoff et al. 2023 (“Scaling Data-Constrained Language Models”) find that up to "
    "about 4 epochs of repeated data cost little, and that returns fall quickly beyond that"
)

Report = Mapping[str, Any]


# -- shared view: what both renderers show -----------------------------------------------


@dataclass(frozen=True)
class _Step:
    """One row of a source's funnel: documents after a step and what the step removed."""

    step: str
    docs: int
    removed: int
    dropped: dict[str, int]
    modified: int | None = None
    seconds: float | None = None
    would_drop: dict[str, int] = field(default_factory=dict)
    chars: int | None = None
    tokens: int | None = None


def _get(data: Any, *path: str, default: Any = None) -> Any:
    """``data[path[0]][path[1]]...``, or ``default`` where a level is missing, None or not a
    mapping: how every renderer reads an optional field (older and failed runs lack some)."""
    for key in path:
        if not isinstance(data, Mapping):
            return default
        data = data.get(key)
        if data is None:
            return default
    return data


def _map(data: Any, *path: str) -> Mapping[str, Any]:
    """The mapping at ``path`` (see ``_get``), or {} when it is missing or not a mapping."""
    value = _get(data, *path)
    return value if isinstance(value, Mapping) else {}


def _list(data: Any, *path: str) -> list[Any]:
    """The list at ``path`` (see ``_get``), or [] when it is missing or not a list."""
    value = _get(data, *path)
    return list(value) if isinstance(value, list | tuple) else []


def _sources(report: Report) -> dict[str, dict[str, Any]]:
    return {str(k): dict(v) for k, v in _map(report, "sources").items() if isinstance(v, Mapping)}


def _num(value: Any, default: float = 0.0) -> float:
    return value if isinstance(value, int | float) and not isinstance(value, bool) else default


def _opt_int(value: Any) -> int | None:
    """An integer count, or None when the report does not have it."""
    return None if isinstance(value, bool) or not isinstance(value, int | float) else int(value)


def _failed(report: Report) -> str | None:
    """The error of a failed run (``status: failed``), or None for a run that finished."""
    if _get(report, "status") != "failed":
        return None
    return " ".join(str(_get(report, "error", default="no error message")).split())


def _funnel(src: Mapping[str, Any]) -> list[_Step]:
    """Input, then documents after read, each stage and dedup (funnel of report.json), with
    characters and (estimated) tokens after each step where the report has them."""
    stages = {st.get("stage"): st for st in _list(src, "stages") if isinstance(st, Mapping)}
    prev = int(_num(src.get("input_docs")))
    steps = [_Step("input", prev, 0, {})]
    for row in _list(src, "funnel"):
        if not isinstance(row, Mapping):
            continue
        docs = int(_num(row.get("docs")))
        st = stages.get(row.get("step"), {})
        steps.append(
            _Step(
                step=str(row.get("step", "?")),
                docs=docs,
                removed=prev - docs,
                dropped={k: int(_num(v)) for k, v in _map(row, "dropped").items()},
                modified=st.get("modified"),
                seconds=st.get("seconds"),
                would_drop={k: int(_num(v)) for k, v in _map(st, "would_drop").items()},
                chars=_opt_int(row.get("chars")),
                tokens=_opt_int(row.get("tokens")),
            )
        )
        prev = docs
    return steps


def _step_order(report: Report) -> list[str]:
    """Every source's funnel steps merged into one pipeline order: a step first seen in one
    source goes right after the step before it there."""
    order: list[str] = []
    for src in _sources(report).values():
        before = -1
        for row in _list(src, "funnel"):
            step = str(_get(row, "step", default="?"))
            if step not in order:
                order.insert(before + 1, step)
            before = order.index(step)
    return order


def _reason_order(report: Report, src: Mapping[str, Any] | None = None) -> list[str]:
    """Drop reasons in pipeline order (the order of the stages in the funnel, then rule), of
    one source or, without ``src``, of every source; reasons outside the funnel come last."""
    sources = [src] if src is not None else list(_sources(report).values())
    steps = _step_order({"sources": {str(i): s for i, s in enumerate(sources)}})
    reasons: set[str] = set()
    step_of: dict[str, str] = {}
    for s in sources:
        for row in _list(s, "funnel"):
            for reason in _map(row, "dropped"):
                reasons.add(str(reason))
                step_of.setdefault(str(reason), str(_get(row, "step", default="?")))
        reasons.update(str(r) for r in _map(s, "dropped"))
    for reason in reasons:
        step_of.setdefault(reason, reason.split(":", 1)[0])

    def key(reason: str) -> tuple[int, str]:
        step = step_of[reason]
        return (steps.index(step) if step in steps else len(steps), reason)

    return sorted(reasons, key=key)


def _short_reason(reason: str, step: str) -> str:
    """``langid:low_score`` in the row of step ``langid`` is just ``low_score``."""
    return reason.removeprefix(f"{step}:") or reason


ACCOUNTING_COLUMNS = (
    ("input", "input"),
    ("rejected", "dropped"),  # by a rule, in rejects/ (the funnel's "dropped by reason")
    ("staged", "staged"),
    ("duplicates", "duplicates"),
    ("kept", "kept"),
    ("sampled", "sampled"),
    ("not_sampled", "not sampled"),
    ("output_rows", "output rows"),
)
"""Counts of ``sources.<s>.accounting``, in the order rows flow through a run."""


def _accounting(src: Mapping[str, Any]) -> tuple[int, int, int, int, bool]:
    """input, kept, dropped, duplicates and whether the source balances (the run's own check
    when the report has it, else input = kept + dropped + duplicates)."""
    acc = _map(src, "accounting")
    dropped_total = sum(int(_num(v)) for v in _map(src, "dropped").values())
    n_in = int(_num(acc.get("input", src.get("input_docs"))))
    kept = int(_num(acc.get("kept", src.get("kept_docs"))))
    dropped = int(_num(acc.get("rejected", acc.get("dropped", dropped_total))))
    dups = int(_num(acc.get("duplicates", src.get("duplicates_removed"))))
    balanced = acc.get("balanced")
    if not isinstance(balanced, bool):
        balanced = n_in == kept + dropped + dups
    return n_in, kept, dropped, dups, balanced


def _accounting_counts(src: Mapping[str, Any]) -> dict[str, int | None]:
    """Every count of ACCOUNTING_COLUMNS for one source, None where the report lacks it
    (``rejected`` is ``dropped`` in older reports)."""
    acc = _map(src, "accounting")
    n_in, kept, dropped, dups, _ = _accounting(src)
    out: dict[str, int | None] = {key: _opt_int(acc.get(key)) for key, _ in ACCOUNTING_COLUMNS}
    out.update(input=n_in, kept=kept, rejected=dropped, duplicates=dups)
    return out


def _accounting_columns(report: Report) -> list[tuple[str, str]]:
    """The ACCOUNTING_COLUMNS some source of the report has."""
    counts = [_accounting_counts(src) for src in _sources(report).values()]
    return [(k, label) for k, label in ACCOUNTING_COLUMNS if any(c[k] is not None for c in counts)]


def _accounting_problems(src: Mapping[str, Any]) -> list[str]:
    """What the run found wrong with a source's accounting (empty when it balances)."""
    if _accounting(src)[4]:
        return []
    return [str(p) for p in _list(src, "accounting", "problems")]


def _destinations(src: Mapping[str, Any]) -> list[tuple[str, int]]:
    """Where a source's input documents went: kept, each drop reason in pipeline order,
    duplicates."""
    _, kept, _, dups, _ = _accounting(src)
    dropped = _map(src, "dropped")
    rows = [("kept", kept)]
    rows += [(k, int(_num(dropped[k]))) for k in _reason_order({}, src) if k in dropped]
    # duplicates by reason (dedup:exact, dedup:near) when the funnel's dedup step has them
    dedup_step = next((st for st in _list(src, "funnel") if _get(st, "step") == "dedup"), {})
    by_reason = {k: int(_num(v)) for k, v in sorted(_map(dedup_step, "dropped").items())}
    if sum(by_reason.values()) == dups:
        rows += list(by_reason.items())
    else:
        rows.append(("dedup:duplicate", dups))
    return [(k, v) for k, v in rows if v or k == "kept"]


def _accounting_ok(report: Report) -> bool | None:
    """Whether every source balances; None for a failed run (its counts stop where it
    failed, so a gap is no mismatch)."""
    ok = report.get("accounting_ok")
    if _failed(report) is not None:
        return True if ok is True else None
    if isinstance(ok, bool):
        return ok
    return all(_accounting(src)[4] for src in _sources(report).values())


def _repeated_ids(name: str, src: Mapping[str, Any]) -> str | None:
    """A note when a source's records reuse ids: the user's data, not an error."""
    rep = _map(src, "repeated_ids")
    ids = _opt_int(rep.get("ids")) or 0
    if ids <= 0:
        return None
    rows = _opt_int(rep.get("rows"))
    examples = [str(e) for e in _list(rep, "examples")][:5]
    text = f"{name}: {ids:,} id{'s' if ids != 1 else ''} occur on more than one input record"
    if rows is not None:
        text += f" ({rows:,} records)"
    if examples:
        text += ", e.g. " + ", ".join(repr(e) for e in examples)
    return text + (
        ". cleanpipe tells records apart by file and position, so none is lost; the ids are "
        "carried to the output as they are (its copy column numbers repeated epochs)."
    )


def _notes(report: Report) -> list[str]:
    """Things worth knowing that are not problems (repeated ids, per source)."""
    return [n for name, src in _sources(report).items() if (n := _repeated_ids(name, src))]


def _epoch_warning(name: str, src: Mapping[str, Any]) -> str | None:
    epochs = _num(src.get("epochs"))
    if epochs <= EPOCH_WARNING:
        return None
    return (
        f"{name} is repeated {epochs:.2f} times (more than {EPOCH_WARNING:g} epochs). "
        f"{_MUENNIGHOFF}. Add more {name} data or lower its weight."
    )


def _warnings(report: Report) -> list[str]:
    """The run's own warnings (``run.warnings``); for an older report without them, the
    epoch and accounting checks made here. Then shares that missed their target."""
    run = _map(report, "run")
    out = [str(w) for w in _list(run, "warnings")]
    for name, src in _sources(report).items():
        if "warnings" not in run:
            epoch = _epoch_warning(name, src)
            out += [epoch] if epoch else []
            n_in, kept, dropped, dups, balanced = _accounting(src)
            if not balanced and _failed(report) is None:
                out.append(
                    f"{name}: accounting does not balance: input {n_in:,} ≠ kept {kept:,} + "
                    f"dropped {dropped:,} + duplicates {dups:,} = {kept + dropped + dups:,}."
                )
        target, achieved = _opt_num(src.get("target_share")), _opt_num(src.get("achieved_share"))
        if target is not None and achieved is not None:
            if abs(achieved - target) > SHARE_WARNING:
                out.append(
                    f"{name}: achieved share {achieved:.1%} differs from the target "
                    f"{target:.1%} by {(achieved - target) * 100:+.1f} percentage points."
                )
    return out


def _opt_num(value: Any) -> float | None:
    """A number, or None when the report does not have it."""
    return None if isinstance(value, bool) or not isinstance(value, int | float) else value


def _summary(report: Report) -> list[tuple[str, str]]:
    run = _map(report, "run")
    rule = f" ({run['budget_rule']})" if run.get("budget_rule") else ""
    tokenizer = str(run.get("tokenizer", "–"))
    if run.get("token_counting", "exact") != "exact":
        tokenizer += f" ({run['token_counting']})"
    rows = [
        ("total tokens", _int(run.get("total_tokens"))),
        ("documents", _int(run.get("total_docs"))),
        ("tokenizer", tokenizer),
        ("seed", str(run.get("seed", "–"))),
        (f"budget{rule}", _int(run.get("budget_tokens"))),
        ("shards", _int(run.get("shards_written"))),
    ]
    if "map_tasks" in run:
        rows.append(
            ("map tasks reused", f"{_int(run.get('map_tasks_reused'))} / {_int(run['map_tasks'])}")
        )
    if "seconds" in run:
        rows.append(("wall time", f"{_num(run['seconds']):,.1f} s"))
    return rows


def _token_estimate_note(report: Report) -> str:
    """One line on estimated token counts and their held-out error, when the run estimated."""
    errors = [
        f"{name} {_num(est.get('total_error')):+.1%}"
        for name, src in _sources(report).items()
        if isinstance(est := src.get("token_estimate"), Mapping) and "total_error" in est
    ]
    if not errors:
        return ""
    return (
        "Token counts are estimates; error of the estimated total on held-out documents: "
        + ", ".join(errors)
        + "."
    )


def _subtitle(report: Report) -> str:
    run = _map(report, "run")
    parts = []
    if run.get("cleanpipe_version"):
        parts.append(f"cleanpipe {run['cleanpipe_version']}")
    if run.get("config_fingerprint"):
        parts.append(f"config {str(run['config_fingerprint'])[:12]}")
    parts.append(f"{len(_sources(report))} sources")
    return " · ".join(parts)


def _languages(src: Mapping[str, Any], top: int = TOP_LANGUAGES) -> list[tuple[str, int]]:
    """The most frequent languages of a source, the rest summed as "other"."""
    langs = sorted(
        ((str(k), int(_num(v))) for k, v in _map(src, "languages").items()),
        key=lambda kv: (-kv[1], kv[0]),
    )
    head, rest = langs[:top], langs[top:]
    if rest:
        head.append((f"other ({len(rest)})", sum(v for _, v in rest)))
    return head


def _finite(values: Iterable[Any]) -> list[float]:
    return [float(v) for v in values if isinstance(v, int | float) and math.isfinite(v)]


def _quantile(sorted_values: Sequence[float], q: float) -> float:
    pos = q * (len(sorted_values) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


def _signal_stats(values: Sequence[float]) -> dict[str, float]:
    v = sorted(values)
    return {
        "n": len(v),
        "min": v[0],
        "p10": _quantile(v, 0.1),
        "median": _quantile(v, 0.5),
        "p90": _quantile(v, 0.9),
        "max": v[-1],
    }


def _signals(report: Report) -> dict[str, dict[str, list[float]]]:
    """signal name -> source -> finite values, for every source that sampled the signal."""
    out: dict[str, dict[str, list[float]]] = {}
    for name, src in _sources(report).items():
        for signal, values in _map(src, "signals").items():
            finite = _finite(values or [])
            if finite:
                out.setdefault(str(signal), {})[name] = finite
    return dict(sorted(out.items()))


def _pii(report: Report) -> tuple[list[str], dict[str, dict[str, int]]]:
    per_source = {
        name: {str(k): int(_num(v)) for k, v in _map(src, "pii").items()}
        for name, src in _sources(report).items()
        if src.get("pii")
    }
    kinds = sorted({k for counts in per_source.values() for k in counts})
    return kinds, per_source


def _truncate(text: Any, limit: int = EXAMPLE_CHARS) -> str:
    text = "" if text is None else str(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _examples(src: Mapping[str, Any]) -> list[tuple[str, list[tuple[str, str]]]]:
    """(reason, [(id, truncated text)]) of a source's rejected examples."""
    out = []
    for reason, items in sorted(_map(src, "examples").items()):
        rows = []
        for item in items or []:
            if isinstance(item, Mapping):
                rows.append((str(item.get("id", "")), _truncate(item.get("text"))))
            else:
                rows.append(("", _truncate(item)))
        if rows:
            out.append((str(reason), rows))
    return out


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def _dedup_parts(
    dedup: Mapping[str, Any],
) -> tuple[list[tuple[str, Any]], list[tuple[str, list[tuple[str, Any]]]], list[Any], list[str]]:
    """Split the dedup block generically: scalars, flat tables, example clusters, the rest."""
    scalars: list[tuple[str, Any]] = []
    tables: list[tuple[str, list[tuple[str, Any]]]] = []
    examples: list[Any] = []
    other: list[str] = []
    for key, value in dedup.items():
        if key == "enabled":
            continue
        if key == "examples" and isinstance(value, list):
            examples = value
        elif _is_scalar(value):
            scalars.append((key, value))
        elif isinstance(value, Mapping) and all(_is_scalar(v) for v in value.values()):
            tables.append((key, sorted(value.items(), key=lambda kv: (-_num(kv[1]), kv[0]))))
        else:
            other.append(f"{key}: {json.dumps(value, sort_keys=True, default=str)}")
    return scalars, tables, examples, other


CLUSTER_HEAD = ("member", "id", "source", "text (start)")


@dataclass(frozen=True)
class _Cluster:
    """An example dedup cluster: its true size and the members listed (keeper first)."""

    size: int
    rows: list[tuple[str, str, str, str]]  # (kept | duplicate | "", id, source, text)

    @property
    def caption(self) -> str:
        shown = f" ({len(self.rows)} shown)" if len(self.rows) < self.size else ""
        kept = "; the kept one is marked" if any(r[0] == "kept" for r in self.rows) else ""
        return f"{self.size:,} documents{shown}{kept}"


def _cluster(cluster: Any) -> _Cluster:
    """An example cluster of report.json, tolerant of its exact shape: ``size`` (the true
    size; older reports: the members listed) and ``kept_member`` (index of the keeper;
    older reports: the first member whose id is ``kept``)."""
    if not isinstance(cluster, Mapping):
        return _Cluster(1, [("", "", "", _truncate(cluster, 120))])
    ids, sources, texts = (_list(cluster, k) for k in ("ids", "sources", "texts"))
    n = max(len(ids), len(sources), len(texts))
    kept = _opt_int(cluster.get("kept_member"))
    if kept is None and cluster.get("kept") is not None and str(cluster["kept"]) in map(str, ids):
        kept = [str(i) for i in ids].index(str(cluster["kept"]))
    rows = [
        (
            "" if kept is None else ("kept" if i == kept else "duplicate"),
            str(ids[i]) if i < len(ids) else "",
            str(sources[i]) if i < len(sources) else "",
            _truncate(texts[i], 120) if i < len(texts) else "",
        )
        for i in range(n)
    ]
    size = _opt_int(cluster.get("size"))
    return _Cluster(max(size or 0, n), rows)


def _dedup_results(report: Report) -> Mapping[str, Any] | None:
    """The dedup block when dedup ran and the report has its results, else None."""
    dedup = _map(report, "dedup")
    if not dedup.get("enabled") or not set(dedup) - {"enabled"}:
        return None
    return dedup


def _dedup_off(report: Report) -> str:
    """Why a report has no dedup results."""
    if _failed(report) is not None:
        return "No deduplication results: the run failed before dedup finished."
    if _map(report, "dedup").get("enabled"):
        return "No deduplication results in this report."
    return "Deduplication was off for this run."


def _int(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "–"
    return f"{round(value):,}"


def _pct(value: Any, digits: int = 1) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "–"
    return f"{value:.{digits}%}"


def _fmt(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.4g}"
    return "–" if value is None else str(value)


def _reasons_text(dropped: Mapping[str, int]) -> str:
    return ", ".join(f"{k} {v:,}" for k, v in dropped.items() if v)


def _removed(n: int) -> str:
    return f"−{n:,}" if n > 0 else (f"+{-n:,}" if n else "")


def _share_diff(src: Mapping[str, Any]) -> str:
    target, achieved = src.get("target_share"), src.get("achieved_share")
    if isinstance(target, int | float) and isinstance(achieved, int | float):
        return f"{(achieved - target) * 100:+.2f} pp"
    return "–"


MIXTURE_HEAD = (
    "source",
    "tokens available",
    "target",
    "achieved",
    "difference",
    "epochs",
    "max epochs",
    "output docs",
    "output tokens",
)


def _mixture_rows(report: Report) -> list[tuple[list[str], bool]]:
    """Rows of the mixture table (columns MIXTURE_HEAD) and whether epochs are above
    EPOCH_WARNING; a dash for what a failed run did not get to."""
    rows = []
    for name, src in _sources(report).items():
        epochs = _opt_num(src.get("epochs"))
        over = epochs is not None and epochs > EPOCH_WARNING
        epochs_text = "–" if epochs is None else f"{epochs:.2f}"
        rows.append(
            (
                [
                    name,
                    _int(src.get("tokens_available")),
                    _pct(src.get("target_share")),
                    _pct(src.get("achieved_share")),
                    _share_diff(src),
                    epochs_text + (f" ⚠ above {EPOCH_WARNING:g}" if over else ""),
                    _fmt(src.get("max_epochs")),
                    _int(src.get("output_docs")),
                    _int(src.get("output_tokens")),
                ],
                over,
            )
        )
    return rows


def _has_mixture(report: Report) -> bool:
    """Whether the run got as far as planning the mixture (a failed run may not have)."""
    keys = ("tokens_available", "epochs", "achieved_share", "output_docs")
    return any(_opt_num(src.get(k)) is not None for src in _sources(report).values() for k in keys)


FUNNEL_HEAD = (
    "step",
    "docs after",
    "removed",
    "of input",
    "chars after",
    "chars kept",
    "tokens after",
    "dropped by reason",
)
"""Columns of a source's funnel table; the numbers are ``_funnel_numbers``."""


def _funnel_numbers(steps: Sequence[_Step]) -> list[list[str]]:
    """Per step: docs after, removed, share of input docs, chars after, share of the chars
    read, tokens after; a dash where the report has no chars or tokens (older runs)."""
    n_in = steps[0].docs if steps else 0
    chars_read = next((st.chars for st in steps if st.chars is not None), None)
    rows = []
    for st in steps:
        kept = _pct(st.chars / chars_read) if st.chars is not None and chars_read else "–"
        rows.append(
            [
                f"{st.docs:,}",
                _removed(st.removed),
                _pct(st.docs / n_in) if n_in else "–",
                _int(st.chars),
                kept,
                _int(st.tokens),
            ]
        )
    return rows


def _funnel_note(src: Mapping[str, Any]) -> str:
    """Where a source's tokens per step come from, when they are estimates."""
    if src.get("funnel_tokens") != "estimated":
        return ""
    return (
        "Tokens after each step are estimated from its characters with the tokens per "
        "character of the documents this source staged."
    )


CHARS_NOTE = "chars kept: the share of the characters read that is left after the step."
EXAMPLES_NOTE = (
    f"Up to three dropped documents per reason, first {EXAMPLE_CHARS} characters. "
    "Every rejected document is in rejects/<source>/."
)
ACCOUNTING_NOTE = (
    "Every input record is kept, dropped by a rule (see rejects/) or removed as a duplicate: "
    "input = kept + dropped + duplicates."
)


def _identity(src: Mapping[str, Any]) -> str:
    n_in, kept, dropped, dups, ok = _accounting(src)
    return f"{n_in:,} {'=' if ok else '≠'} {kept:,} + {dropped:,} + {dups:,}"


def _language_rows(report: Report) -> list[list[str]]:
    """source, documents language ID saw, top languages with counts."""
    return [
        [
            name,
            f"{sum(int(_num(v)) for v in _map(src, 'languages').values()):,}",
            ", ".join(f"{k} {v:,}" for k, v in _languages(src)),
        ]
        for name, src in _sources(report).items()
        if src.get("languages")
    ]


def _shard_rows(report: Report) -> list[list[str]]:
    return [
        [
            str(sh.get("shard", "")),
            _int(sh.get("rows")),
            _int(sh.get("tokens")),
            f"{_num(sh.get('bytes')) / 1e6:,.2f}",
        ]
        for sh in _list(report, "run", "shards")
        if isinstance(sh, Mapping)
    ]


def _label(key: str) -> str:
    return key.replace("_", " ")


def _dedup_key_header(key: str) -> str:
    """Column header for the keys of a dedup table (removed_per_source, cross_source ...)."""
    if key.endswith("per_source"):
        return "source"
    if key.startswith("cross_source"):
        return "sources"
    return "key"


_DEDUP_ROWS = (
    ("docs", "documents"),
    ("exact_groups", "exact groups"),
    ("exact_duplicates", "exact duplicates"),
    ("near_duplicates", "near duplicates"),
    ("candidate_pairs", "candidate pairs"),
    ("verified_pairs", "verified pairs"),
    ("rejected_pairs", "rejected pairs"),
    ("clusters", "clusters"),
    ("largest_cluster", "largest cluster"),
    ("removed", "removed"),
)


def dedup_summary_rows(dedup: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(label, value) rows summing up the dedup block for a terminal: the known counts first
    (documents, exact and near duplicates, candidate pairs ...), then any other count, then
    each per-source table on one line; example clusters are only counted."""
    scalars, tables, examples, other = _dedup_parts(dedup)
    values = dict(scalars)
    near = _map(dedup, "removed_near_per_source")
    if near and "near_duplicates" not in values:
        values["near_duplicates"] = sum(int(_num(v)) for v in near.values())
    rows = [(label, _fmt(values.pop(key))) for key, label in _DEDUP_ROWS if key in values]
    rows += [(_label(k), _fmt(v)) for k, v in values.items()]
    rows += [
        (_label(k), ", ".join(f"{a}: {_fmt(b)}" for a, b in items)) for k, items in tables if items
    ]
    if examples:
        rows.append(("example clusters", f"{len(examples)} (in report.html and report.md)"))
    rows += [(line.split(":", 1)[0], "(in report.json)") for line in other]
    return rows


# -- Markdown ------------------------------------------------------------------------------


def _md_cell(value: Any) -> str:
    text = str(value).replace("\\", "\\\\").replace("|", "\\|")
    text = text.replace("<", "&lt;").replace(">", "&gt;")
    return " ".join(text.split())


def _md_table(
    head: Sequence[str], rows: Iterable[Sequence[Any]], numeric: Sequence[int] = ()
) -> str:
    num = set(numeric)
    lines = [
        "| " + " | ".join(_md_cell(h) for h in head) + " |",
        "|" + "|".join("---:" if i in num else "---" for i in range(len(head))) + "|",
    ]
    lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _md_fence(text: str) -> str:
    """``text`` in a fenced block whose fence is longer than any backtick run inside."""
    ticks, run = 3, 0
    for ch in text:
        run = run + 1 if ch == "`" else 0
        ticks = max(ticks, run + 1)
    fence = "`" * ticks
    return f"{fence}text\n{text}\n{fence}"


def _accounting_word(ok: bool | None) -> str:
    return "incomplete (run failed)" if ok is None else ("OK" if ok else "MISMATCH")


def _md_header(report: Report) -> list[str]:
    out = ["# cleanpipe run report", "", _subtitle(report), ""]
    error = _failed(report)
    if error is not None:
        out += [f"> **Run failed:** {_md_cell(error)}", ""]
        out += ["> What the run got to before it failed follows; missing numbers are –.", ""]
    summary = _summary(report) + [("accounting", _accounting_word(_accounting_ok(report)))]
    out += [_md_table(["run", "value"], summary), ""]
    for w in _warnings(report):
        out += [f"> **Warning:** {_md_cell(w)}", ""]
    for n in _notes(report):
        out += [f"> **Note:** {_md_cell(n)}", ""]
    return out


def _md_funnel(report: Report) -> list[str]:
    out = ["## Funnel: what happened to the documents", ""]
    rows = []
    for name, src in _sources(report).items():
        dest = _destinations(src)
        total = sum(v for _, v in dest) or 1
        went = "; ".join(f"{k} {v:,} ({v / total:.1%})" for k, v in dest)
        rows.append([name, f"{total:,}", went])
    out += [_md_table(["source", "input", "where the documents went"], rows, [1]), ""]
    for name, src in _sources(report).items():
        steps = _funnel(src)
        rows = []
        for st, numbers in zip(steps, _funnel_numbers(steps), strict=True):
            reasons = _reasons_text(st.dropped)
            if any(st.would_drop.values()):
                would = "would drop (annotate only): " + _reasons_text(st.would_drop)
                reasons = f"{reasons}; {would}" if reasons else would
            rows.append([st.step, *numbers, reasons])
        out += [f"### {name}", ""]
        out += [_md_table(FUNNEL_HEAD, rows, range(1, len(FUNNEL_HEAD) - 1)), ""]
        out += [CHARS_NOTE, ""] if any(st.chars is not None for st in steps) else []
        note = _funnel_note(src)
        out += [note, ""] if note else []
    return out


def _md_mixture(report: Report) -> list[str]:
    out = ["## Mixture: target vs achieved", ""]
    if not _has_mixture(report):
        return out + ["The run did not get as far as planning the mixture.", ""]
    for name, src in _sources(report).items():
        warning = _epoch_warning(name, src)
        if warning:
            out += [f"> **Epoch warning:** {_md_cell(warning)}", ""]
    rows = [row for row, _ in _mixture_rows(report)]
    out += [_md_table(MIXTURE_HEAD, rows, range(1, len(MIXTURE_HEAD))), ""]
    out += [f"Epochs: how often a source is repeated. {_MUENNIGHOFF}.", ""]
    note = _token_estimate_note(report)
    return out + [note, ""] if note else out


def _md_languages(report: Report) -> list[str]:
    rows = _language_rows(report)
    if not rows:
        return []
    return ["## Languages", "", _md_table(["source", "documents", "languages"], rows, [1]), ""]


def _md_signals(report: Report) -> list[str]:
    signals = _signals(report)
    if not signals:
        return []
    rows = []
    for signal, per_source in signals.items():
        for name, values in per_source.items():
            st = _signal_stats(values)
            rows.append(
                [signal, name, f"{st['n']:,}"]
                + [f"{st[k]:.4g}" for k in ("min", "p10", "median", "p90", "max")]
            )
    head = ["signal", "source", "n", "min", "p10", "median", "p90", "max"]
    return ["## Quality signals", "", _md_table(head, rows, range(2, 8)), ""]


def _md_pii(report: Report) -> list[str]:
    kinds, pii = _pii(report)
    if not pii:
        return []
    rows = [[name] + [f"{c.get(k, 0):,}" for k in kinds] for name, c in pii.items()]
    return [
        "## PII replaced",
        "",
        _md_table(["source", *kinds], rows, range(1, len(kinds) + 1)),
        "",
    ]


def _md_dedup(report: Report) -> list[str]:
    out = ["## Deduplication", ""]
    dedup = _dedup_results(report)
    if dedup is None:
        return out + [_dedup_off(report), ""]
    scalars, tables, examples, other = _dedup_parts(dedup)
    if scalars:
        rows = [[_label(k), _fmt(v)] for k, v in scalars]
        out += [_md_table(["dedup", "value"], rows, [1]), ""]
    for key, rows in tables:
        out += [f"### {_label(key)}", ""]
        out += [_md_table([_dedup_key_header(key), "count"], [[k, _fmt(v)] for k, v in rows], [1])]
        out.append("")
    if examples:
        out += ["### Example clusters", ""]
        for i, raw in enumerate(examples, 1):
            cluster = _cluster(raw)
            rows = [[f"**{r[0]}**" if r[0] == "kept" else r[0], *r[1:]] for r in cluster.rows]
            out += [f"Cluster {i} · {cluster.caption}:", ""]
            out += [_md_table(CLUSTER_HEAD, rows), ""]
    for line in other:
        out += [_md_fence(line), ""]
    return out


def _md_examples(report: Report) -> list[str]:
    examples = {n: _examples(s) for n, s in _sources(report).items()}
    if not any(examples.values()):
        return []
    note = EXAMPLES_NOTE.replace("rejects/<source>/", "`rejects/<source>/`")
    out = ["## Rejected examples", "", note, ""]
    for name, reasons in examples.items():
        if reasons:
            out += [f"### {name}", ""]
        for reason, items in reasons:
            for doc_id, text in items:
                out += [f"{_md_cell(reason)} · {_md_cell(doc_id)}", "", _md_fence(text), ""]
    return out


def _md_accounting(report: Report) -> list[str]:
    columns = _accounting_columns(report)
    rows, problems = [], []
    for name, src in _sources(report).items():
        counts = _accounting_counts(src)
        ok = _accounting(src)[4]
        rows.append(
            [name, *(_int(counts[k]) for k, _ in columns), _identity(src)]
            + ["OK" if ok else "MISMATCH"]
        )
        problems += [f"- **{_md_cell(name)}:** {_md_cell(p)}" for p in _accounting_problems(src)]
    head = ["source", *(label for _, label in columns), "input = kept + dropped + duplicates"]
    table = _md_table([*head, "status"], rows, range(1, len(columns) + 1))
    out = ["## Accounting", "", ACCOUNTING_NOTE, "", table, ""]
    return out + (["Problems found:", "", *problems, ""] if problems else [])


def _md_shards(report: Report) -> list[str]:
    rows = _shard_rows(report)
    if not rows:
        return []
    return ["## Shards", "", _md_table(["file", "rows", "tokens", "MB"], rows, [1, 2, 3]), ""]


def render_markdown(report: Report) -> str:
    """The report as Markdown: the same sections as the HTML, tables instead of charts."""
    out: list[str] = []
    for section in (
        _md_header,
        _md_funnel,
        _md_mixture,
        _md_languages,
        _md_signals,
        _md_pii,
        _md_dedup,
        _md_examples,
        _md_accounting,
        _md_shards,
    ):
        out += section(report)
    return "\n".join(out).rstrip() + "\n"


# -- compare two runs ----------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """One number compared between two runs: run-wide (source "") or of one source."""

    source: str
    metric: str
    old: float | None
    new: float | None
    kind: str = "count"  # count | share | epochs

    @property
    def delta(self) -> float | None:
        if self.old is None or self.new is None:
            return None
        return self.new - self.old

    @property
    def changed(self) -> bool:
        return self.old != self.new


def _value(src: Mapping[str, Any] | None, key: str) -> float | None:
    if src is None:
        return None
    v = src.get(key)
    return v if isinstance(v, int | float) and not isinstance(v, bool) else None


def compare_reports(old: Report, new: Report) -> list[Change]:
    """Per source (and for the run): input docs, kept, drops by reason, duplicates, tokens
    available, output tokens, target and achieved share, epochs; old and new values."""
    changes = []
    old_run, new_run = _map(old, "run"), _map(new, "run")
    for key in ("total_docs", "total_tokens", "budget_tokens", "shards_written"):
        changes.append(
            Change("", key.replace("_", " "), _value(old_run, key), _value(new_run, key))
        )
    old_src, new_src = _sources(old), _sources(new)
    for name in sorted(set(old_src) | set(new_src)):
        o, n = old_src.get(name), new_src.get(name)

        def row(key: str, metric: str, kind: str = "count", *, o=o, n=n, name=name) -> Change:
            return Change(name, metric, _value(o, key), _value(n, key), kind)

        changes.append(row("input_docs", "input docs"))
        changes.append(row("kept_docs", "kept docs"))
        reasons = sorted(set(_map(o, "dropped")) | set(_map(n, "dropped")))
        for reason in reasons:
            changes.append(
                Change(
                    name,
                    f"dropped {reason}",
                    None if o is None else _value(_map(o, "dropped"), reason) or 0,
                    None if n is None else _value(_map(n, "dropped"), reason) or 0,
                )
            )
        changes.append(row("duplicates_removed", "duplicates"))
        changes.append(row("tokens_available", "tokens available"))
        changes.append(row("output_tokens", "output tokens"))
        changes.append(row("target_share", "target share", "share"))
        changes.append(row("achieved_share", "achieved share", "share"))
        changes.append(row("epochs", "epochs", "epochs"))
    return changes


def _fmt_value(value: float | None, kind: str) -> str:
    if value is None:
        return "–"
    if kind == "share":
        return f"{value:.2%}"
    if kind == "epochs":
        return f"{value:.2f}"
    return f"{round(value):,}"


def format_delta(change: Change) -> str:
    """The signed difference, new − old: "+120 (+3.1%)", "-0.40 pp", "+0.25"; or "added"."""
    if change.old is None and change.new is None:
        return ""
    if change.old is None:
        return "added"
    if change.new is None:
        return "removed"
    d = change.delta or 0
    if change.kind == "share":
        return f"{d * 100:+.2f} pp"
    if change.kind == "epochs":
        return f"{d:+.2f}"
    if not change.old:
        return f"{round(d):+,}"
    ratio = d / change.old
    rel = f"{ratio:+.1%}" if abs(ratio) < 10 else f"×{change.new / change.old:,.0f}"
    return f"{round(d):+,} ({rel})"


def compare_table(
    changes: Sequence[Change],
    *,
    old_label: str = "old",
    new_label: str = "new",
    only_changed: bool = True,
    width: int | None = None,
) -> Table:
    """A rich table of ``compare_reports`` rows (by default the changed ones only), one
    section per source headed by its name; epochs above EPOCH_WARNING in red.

    Four columns (metric, old, new, change), the run labels in the caption. Numbers are never
    broken: for a terminal ``width`` columns wide that the rows do not fit, the relative change
    goes on a second line and, if that is not enough, long metric names wrap."""
    shown = [c for c in changes if c.changed or not only_changed]
    hidden = len(changes) - len(shown)
    caption = f"old: {escape(old_label)} · new: {escape(new_label)}"
    if hidden:
        caption += f" · {hidden} unchanged numbers not shown"
    rows: list[tuple[str, str, str, str, str, bool]] = []  # metric, old, new, markup, change
    for c in shown:
        new_text = _fmt_value(c.new, c.kind)
        over = c.kind == "epochs" and (c.new or 0) > EPOCH_WARNING
        if over:
            new_text = f"{new_text} (>{EPOCH_WARNING:g})"
        rows.append(
            ("  " + c.metric, _fmt_value(c.old, c.kind), new_text, "", format_delta(c), over)
        )
    sources = {c.source or "(run)" for c in shown}
    metric_w = max([len(r[0]) for r in rows] + [len(s) for s in sources] + [6])
    old_w = max([len(r[1]) for r in rows] + [3])
    new_w = max([len(r[2]) for r in rows] + [3])
    change_w = max([len(r[4]) for r in rows] + [6])
    split = width is not None and metric_w + old_w + new_w + change_w + _COMPARE_PADDING > width
    if split:  # "+1,234 (+3.1%)" over two lines
        change_w = max([len(part) for r in rows for part in r[4].split(" (")] + [6])
    metric_max = None
    if width is not None and metric_w + old_w + new_w + change_w + _COMPARE_PADDING > width:
        metric_max = max(12, width - old_w - new_w - change_w - _COMPARE_PADDING)
    table = Table(
        title="Compare: old → new (change = new − old)",
        caption=caption,
        box=box.SIMPLE_HEAD,
        show_edge=False,
    )
    table.add_column("metric", overflow="fold", max_width=metric_max, no_wrap=metric_max is None)
    table.add_column("old", justify="right", no_wrap=True)
    table.add_column("new", justify="right", no_wrap=True)
    table.add_column("change", justify="right", no_wrap=True)
    current = None
    for c, (metric, old_text, new_text, _, delta, over) in zip(shown, rows, strict=True):
        if c.source != current:
            if current is not None:
                table.add_section()
            table.add_row(f"[bold]{escape(c.source or '(run)')}[/bold]", "", "", "")
            current = c.source
        table.add_row(
            escape(metric),
            escape(old_text),
            f"[red]{escape(new_text)}[/red]" if over else escape(new_text),
            escape(delta.replace(" (", "\n(") if split else delta),
            style=None if c.changed else "dim",
        )
    return table


_COMPARE_PADDING = 11
"""Columns a compare table spends besides its cells: one space either side of each of the
four cells and three column separators."""


def print_comparison(
    old: Report,
    new: Report,
    console: Console | None = None,
    *,
    old_label: str = "old",
    new_label: str = "new",
    only_changed: bool = True,
) -> list[Change]:
    """Print what changed from the ``old`` run to the ``new`` one, per source, with signed
    differences (``cleanpipe report NEW --compare OLD``); returns the compared rows."""
    console = console or Console()
    changes = compare_reports(old, new)
    o_run, n_run = _map(old, "run"), _map(new, "run")
    notes = []
    for key in ("config_fingerprint", "seed", "tokenizer", "budget_rule", "cleanpipe_version"):
        o, n = o_run.get(key), n_run.get(key)
        if o != n:
            if key == "config_fingerprint":
                o, n = str(o)[:12], str(n)[:12]
            notes.append(f"{key} {o} → {n}")
    if notes:
        console.print("[bold]run settings differ:[/bold] " + escape("; ".join(notes)))
    if not any(c.changed for c in changes):
        console.print("no differences in the compared numbers")
        if only_changed:
            return changes
    table = compare_table(
        changes,
        old_label=old_label,
        new_label=new_label,
        only_changed=only_changed,
        width=console.width,
    )
    console.print(table)
    return changes
