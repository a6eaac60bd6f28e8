"""The view of a report.json that every renderer shares: what a funnel row, a warning, an
accounting identity or a mixture row is, and how numbers are written (the detail sections:
languages, signals, PII, examples, dedup are in :mod:`cleanpipe.report.details`).

This module is the report package's internal API: :mod:`~cleanpipe.report.markdown`,
:mod:`~cleanpipe.report.html` and :mod:`~cleanpipe.report.terminal` import its public names
(``from cleanpipe.report import view``); :mod:`cleanpipe.report` does not re-export them, and
nothing outside the package should rely on them.

Everything is a pure function of the report dict. Keys an older or a failed run did not write
(signals, examples, pii, warnings, dedup clusters ...) are skipped, never required: the
getters :func:`get`, :func:`get_map` and :func:`get_list` read every optional field.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from cleanpipe import mixture

SHARE_WARNING = 0.01
"""Achieved share this far (absolute) from the target share is worth a warning."""

MUENNIGHOFF = (
    "Muennighoff et al. 2023 (“Scaling Data-Constrained Language Models”) find that up to "
    "about 4 epochs of repeated data cost little, and that returns fall quickly beyond that"
)

Report = Mapping[str, Any]


def over_epoch_warning(epochs: float | None) -> bool:
    """Whether a source is repeated more often than :data:`cleanpipe.mixture.EPOCH_WARNING`
    (read when called, so every renderer follows the one constant)."""
    return epochs is not None and epochs > mixture.EPOCH_WARNING


@dataclass(frozen=True)
class Step:
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


def get(data: Any, *path: str, default: Any = None) -> Any:
    """``data[path[0]][path[1]]...``, or ``default`` where a level is missing, None or not a
    mapping: how every renderer reads an optional field (older and failed runs lack some)."""
    for key in path:
        if not isinstance(data, Mapping):
            return default
        data = data.get(key)
        if data is None:
            return default
    return data


def get_map(data: Any, *path: str) -> Mapping[str, Any]:
    """The mapping at ``path`` (see ``get``), or {} when it is missing or not a mapping."""
    value = get(data, *path)
    return value if isinstance(value, Mapping) else {}


def get_list(data: Any, *path: str) -> list[Any]:
    """The list at ``path`` (see ``get``), or [] when it is missing or not a list."""
    value = get(data, *path)
    return list(value) if isinstance(value, list | tuple) else []


def sources_of(report: Report) -> dict[str, dict[str, Any]]:
    return {
        str(k): dict(v) for k, v in get_map(report, "sources").items() if isinstance(v, Mapping)
    }


def num(value: Any, default: float = 0.0) -> float:
    return value if isinstance(value, int | float) and not isinstance(value, bool) else default


def opt_int(value: Any) -> int | None:
    """An integer count, or None when the report does not have it."""
    return None if isinstance(value, bool) or not isinstance(value, int | float) else int(value)


def run_error(report: Report) -> str | None:
    """The error of a failed run (``status: failed``), or None for a run that finished."""
    if get(report, "status") != "failed":
        return None
    return " ".join(str(get(report, "error", default="no error message")).split())


def funnel_steps(src: Mapping[str, Any]) -> list[Step]:
    """Input, then documents after read, each stage and dedup (funnel of report.json), with
    characters and (estimated) tokens after each step where the report has them."""
    stages = {st.get("stage"): st for st in get_list(src, "stages") if isinstance(st, Mapping)}
    prev = int(num(src.get("input_docs")))
    steps = [Step("input", prev, 0, {})]
    for row in get_list(src, "funnel"):
        if not isinstance(row, Mapping):
            continue
        docs = int(num(row.get("docs")))
        st = stages.get(row.get("step"), {})
        steps.append(
            Step(
                step=str(row.get("step", "?")),
                docs=docs,
                removed=prev - docs,
                dropped={k: int(num(v)) for k, v in get_map(row, "dropped").items()},
                modified=st.get("modified"),
                seconds=st.get("seconds"),
                would_drop={k: int(num(v)) for k, v in get_map(st, "would_drop").items()},
                chars=opt_int(row.get("chars")),
                tokens=opt_int(row.get("tokens")),
            )
        )
        prev = docs
    return steps


def step_order(report: Report) -> list[str]:
    """Every source's funnel steps merged into one pipeline order: a step first seen in one
    source goes right after the step before it there."""
    order: list[str] = []
    for src in sources_of(report).values():
        before = -1
        for row in get_list(src, "funnel"):
            step = str(get(row, "step", default="?"))
            if step not in order:
                order.insert(before + 1, step)
            before = order.index(step)
    return order


def reason_order(report: Report, src: Mapping[str, Any] | None = None) -> list[str]:
    """Drop reasons in pipeline order (the order of the stages in the funnel, then rule), of
    one source or, without ``src``, of every source; reasons outside the funnel come last."""
    sources = [src] if src is not None else list(sources_of(report).values())
    steps = step_order({"sources": {str(i): s for i, s in enumerate(sources)}})
    reasons: set[str] = set()
    step_of: dict[str, str] = {}
    for s in sources:
        for row in get_list(s, "funnel"):
            for reason in get_map(row, "dropped"):
                reasons.add(str(reason))
                step_of.setdefault(str(reason), str(get(row, "step", default="?")))
        reasons.update(str(r) for r in get_map(s, "dropped"))
    for reason in reasons:
        step_of.setdefault(reason, reason.split(":", 1)[0])

    def key(reason: str) -> tuple[int, str]:
        step = step_of[reason]
        return (steps.index(step) if step in steps else len(steps), reason)

    return sorted(reasons, key=key)


def short_reason(reason: str, step: str) -> str:
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


class Balance(NamedTuple):
    """A source's accounting identity: input = kept + dropped + duplicates."""

    input: int
    kept: int
    dropped: int
    duplicates: int
    balanced: bool


def balance(src: Mapping[str, Any]) -> Balance:
    """input, kept, dropped, duplicates and whether the source balances (the run's own check
    when the report has it, else input = kept + dropped + duplicates)."""
    acc = get_map(src, "accounting")
    dropped_total = sum(int(num(v)) for v in get_map(src, "dropped").values())
    n_in = int(num(acc.get("input", src.get("input_docs"))))
    kept = int(num(acc.get("kept", src.get("kept_docs"))))
    dropped = int(num(acc.get("rejected", acc.get("dropped", dropped_total))))
    dups = int(num(acc.get("duplicates", src.get("duplicates_removed"))))
    balanced = acc.get("balanced")
    if not isinstance(balanced, bool):
        balanced = n_in == kept + dropped + dups
    return Balance(n_in, kept, dropped, dups, balanced)


def accounting_counts(src: Mapping[str, Any]) -> dict[str, int | None]:
    """Every count of ACCOUNTING_COLUMNS for one source, None where the report lacks it
    (``rejected`` is ``dropped`` in older reports)."""
    acc = get_map(src, "accounting")
    n_in, kept, dropped, dups, _ = balance(src)
    out: dict[str, int | None] = {key: opt_int(acc.get(key)) for key, _ in ACCOUNTING_COLUMNS}
    out.update(input=n_in, kept=kept, rejected=dropped, duplicates=dups)
    return out


def accounting_columns(report: Report) -> list[tuple[str, str]]:
    """The ACCOUNTING_COLUMNS some source of the report has."""
    counts = [accounting_counts(src) for src in sources_of(report).values()]
    return [(k, label) for k, label in ACCOUNTING_COLUMNS if any(c[k] is not None for c in counts)]


def accounting_problems(src: Mapping[str, Any]) -> list[str]:
    """What the run found wrong with a source's accounting (empty when it balances)."""
    if balance(src).balanced:
        return []
    return [str(p) for p in get_list(src, "accounting", "problems")]


def destinations(src: Mapping[str, Any]) -> list[tuple[str, int]]:
    """Where a source's input documents went: kept, each drop reason in pipeline order,
    duplicates."""
    _, kept, _, dups, _ = balance(src)
    dropped = get_map(src, "dropped")
    rows = [("kept", kept)]
    rows += [(k, int(num(dropped[k]))) for k in reason_order({}, src) if k in dropped]
    # duplicates by reason (dedup:exact, dedup:near) when the funnel's dedup step has them
    dedup_step = next((st for st in get_list(src, "funnel") if get(st, "step") == "dedup"), {})
    by_reason = {k: int(num(v)) for k, v in sorted(get_map(dedup_step, "dropped").items())}
    if sum(by_reason.values()) == dups:
        rows += list(by_reason.items())
    else:
        rows.append(("dedup:duplicate", dups))
    return [(k, v) for k, v in rows if v or k == "kept"]


def accounting_ok(report: Report) -> bool | None:
    """Whether every source balances; None for a failed run (its counts stop where it
    failed, so a gap is no mismatch)."""
    ok = report.get("accounting_ok")
    if run_error(report) is not None:
        return True if ok is True else None
    if isinstance(ok, bool):
        return ok
    return all(balance(src).balanced for src in sources_of(report).values())


def repeated_ids_note(name: str, src: Mapping[str, Any]) -> str | None:
    """A note when a source's records reuse ids: the user's data, not an error."""
    rep = get_map(src, "repeated_ids")
    ids = opt_int(rep.get("ids")) or 0
    if ids <= 0:
        return None
    rows = opt_int(rep.get("rows"))
    examples = [str(e) for e in get_list(rep, "examples")][:5]
    text = f"{name}: {ids:,} id{'s' if ids != 1 else ''} occur on more than one input record"
    if rows is not None:
        text += f" ({rows:,} records)"
    if examples:
        text += ", e.g. " + ", ".join(repr(e) for e in examples)
    return text + (
        ". cleanpipe tells records apart by file and position, so none is lost; the ids are "
        "carried to the output as they are (its copy column numbers repeated epochs)."
    )


def skipped_note(name: str, src: Mapping[str, Any]) -> str | None:
    """What a source's reader skipped as no documents (a web archive's requests, images,
    redirects ...), by reason; None when it skipped nothing."""
    skipped = {k: int(num(v)) for k, v in get_map(src, "skipped").items()}
    if not sum(skipped.values()):
        return None
    read = int(num(src.get("records_read", sum(skipped.values()) + num(src.get("input_docs")))))
    return (
        f"{name}: {read:,} records read, {sum(skipped.values()):,} of them skipped as no "
        f"documents ({reasons_text(skipped)}); the funnel starts from the other "
        f"{read - sum(skipped.values()):,}."
    )


def notes(report: Report) -> list[str]:
    """Things worth knowing that are not problems (records skipped, repeated ids, per
    source)."""
    found = []
    for name, src in sources_of(report).items():
        found += [n for n in (skipped_note(name, src), repeated_ids_note(name, src)) if n]
    return found


def epoch_warning(name: str, src: Mapping[str, Any]) -> str | None:
    """The warning for a source repeated more often than EPOCH_WARNING, or None."""
    epochs = num(src.get("epochs"))
    if not over_epoch_warning(epochs):
        return None
    return (
        f"{name} is repeated {epochs:.2f} times (more than {mixture.EPOCH_WARNING:g} epochs). "
        f"{MUENNIGHOFF}. Add more {name} data or lower its weight."
    )


def run_warnings(report: Report) -> list[str]:
    """The run's own warnings (``run.warnings``); for an older report without them, the
    epoch and accounting checks made here. Then shares that missed their target."""
    run = get_map(report, "run")
    out = [str(w) for w in get_list(run, "warnings")]
    for name, src in sources_of(report).items():
        if "warnings" not in run:
            epoch = epoch_warning(name, src)
            out += [epoch] if epoch else []
            n_in, kept, dropped, dups, balanced = balance(src)
            if not balanced and run_error(report) is None:
                out.append(
                    f"{name}: accounting does not balance: input {n_in:,} ≠ kept {kept:,} + "
                    f"dropped {dropped:,} + duplicates {dups:,} = {kept + dropped + dups:,}."
                )
        target, achieved = opt_num(src.get("target_share")), opt_num(src.get("achieved_share"))
        if target is not None and achieved is not None:
            if abs(achieved - target) > SHARE_WARNING:
                out.append(
                    f"{name}: achieved share {achieved:.1%} differs from the target "
                    f"{target:.1%} by {(achieved - target) * 100:+.1f} percentage points."
                )
    return out


def opt_num(value: Any) -> float | None:
    """A number, or None when the report does not have it."""
    return None if isinstance(value, bool) or not isinstance(value, int | float) else value


def summary_rows(report: Report) -> list[tuple[str, str]]:
    run = get_map(report, "run")
    rule = f" ({run['budget_rule']})" if run.get("budget_rule") else ""
    tokenizer = str(run.get("tokenizer", "–"))
    if run.get("token_counting", "exact") != "exact":
        tokenizer += f" ({run['token_counting']})"
    rows = [
        ("total tokens", fmt_int(run.get("total_tokens"))),
        ("documents", fmt_int(run.get("total_docs"))),
        ("tokenizer", tokenizer),
        ("seed", str(run.get("seed", "–"))),
        (f"budget{rule}", fmt_int(run.get("budget_tokens"))),
        ("shards", fmt_int(run.get("shards_written"))),
    ]
    if "map_tasks" in run:
        rows.append(
            (
                "map tasks reused",
                f"{fmt_int(run.get('map_tasks_reused'))} / {fmt_int(run['map_tasks'])}",
            )
        )
    if "seconds" in run:
        rows.append(("wall time", f"{num(run['seconds']):,.1f} s"))
    return rows


def token_estimate_note(report: Report) -> str:
    """One line on estimated token counts and their held-out error, when the run estimated."""
    errors = [
        f"{name} {num(est.get('total_error')):+.1%}"
        for name, src in sources_of(report).items()
        if isinstance(est := src.get("token_estimate"), Mapping) and "total_error" in est
    ]
    if not errors:
        return ""
    return (
        "Token counts are estimates; error of the estimated total on held-out documents: "
        + ", ".join(errors)
        + "."
    )


def subtitle(report: Report) -> str:
    run = get_map(report, "run")
    parts = []
    if run.get("cleanpipe_version"):
        parts.append(f"cleanpipe {run['cleanpipe_version']}")
    if run.get("config_fingerprint"):
        parts.append(f"config {str(run['config_fingerprint'])[:12]}")
    parts.append(f"{len(sources_of(report))} sources")
    return " · ".join(parts)


def fmt_int(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "–"
    return f"{round(value):,}"


def fmt_pct(value: Any, digits: int = 1) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "–"
    return f"{value:.{digits}%}"


def fmt(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.4g}"
    return "–" if value is None else str(value)


def reasons_text(dropped: Mapping[str, int]) -> str:
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


def mixture_rows(report: Report) -> list[tuple[list[str], bool]]:
    """Rows of the mixture table (columns MIXTURE_HEAD) and whether epochs are above
    EPOCH_WARNING; a dash for what a failed run did not get to."""
    rows = []
    for name, src in sources_of(report).items():
        epochs = opt_num(src.get("epochs"))
        over = over_epoch_warning(epochs)
        epochs_text = "–" if epochs is None else f"{epochs:.2f}"
        rows.append(
            (
                [
                    name,
                    fmt_int(src.get("tokens_available")),
                    fmt_pct(src.get("target_share")),
                    fmt_pct(src.get("achieved_share")),
                    _share_diff(src),
                    epochs_text + (f" ⚠ above {mixture.EPOCH_WARNING:g}" if over else ""),
                    fmt(src.get("max_epochs")),
                    fmt_int(src.get("output_docs")),
                    fmt_int(src.get("output_tokens")),
                ],
                over,
            )
        )
    return rows


def has_mixture(report: Report) -> bool:
    """Whether the run got as far as planning the mixture (a failed run may not have)."""
    keys = ("tokens_available", "epochs", "achieved_share", "output_docs")
    return any(opt_num(src.get(k)) is not None for src in sources_of(report).values() for k in keys)


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
"""Columns of a source's funnel table; the numbers are ``funnel_numbers``."""


def funnel_numbers(steps: Sequence[Step]) -> list[list[str]]:
    """Per step: docs after, removed, share of input docs, chars after, share of the chars
    read, tokens after; a dash where the report has no chars or tokens (older runs)."""
    n_in = steps[0].docs if steps else 0
    chars_read = next((st.chars for st in steps if st.chars is not None), None)
    rows = []
    for st in steps:
        kept = fmt_pct(st.chars / chars_read) if st.chars is not None and chars_read else "–"
        rows.append(
            [
                f"{st.docs:,}",
                _removed(st.removed),
                fmt_pct(st.docs / n_in) if n_in else "–",
                fmt_int(st.chars),
                kept,
                fmt_int(st.tokens),
            ]
        )
    return rows


def funnel_note(src: Mapping[str, Any]) -> str:
    """Where a source's tokens per step come from, when they are estimates."""
    if src.get("funnel_tokens") != "estimated":
        return ""
    return (
        "Tokens after each step are estimated from its characters with the tokens per "
        "character of the documents this source staged."
    )


CHARS_NOTE = "chars kept: the share of the characters read that is left after the step."
ACCOUNTING_NOTE = (
    "Every input record is kept, dropped by a rule (see rejects/) or removed as a duplicate: "
    "input = kept + dropped + duplicates."
)


def identity_text(src: Mapping[str, Any]) -> str:
    n_in, kept, dropped, dups, ok = balance(src)
    return f"{n_in:,} {'=' if ok else '≠'} {kept:,} + {dropped:,} + {dups:,}"


def shard_rows(report: Report) -> list[list[str]]:
    return [
        [
            str(sh.get("shard", "")),
            fmt_int(sh.get("rows")),
            fmt_int(sh.get("tokens")),
            f"{num(sh.get('bytes')) / 1e6:,.2f}",
        ]
        for sh in get_list(report, "run", "shards")
        if isinstance(sh, Mapping)
    ]
