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

from rich.console import Console
from rich.markup import escape
from rich.table import Table

EPOCH_WARNING = 4.0
"""Repeating a source more often than this costs quality (Muennighoff et al. 2023)."""
SHARE_WARNING = 0.01
"""Achieved share this far (absolute) from the target share is worth a warning."""
EXAMPLE_CHARS = 300
TOP_LANGUAGES = 6

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


def _sources(report: Report) -> dict[str, dict[str, Any]]:
    return dict(report.get("sources") or {})


def _num(value: Any, default: float = 0.0) -> float:
    return value if isinstance(value, int | float) and not isinstance(value, bool) else default


def _funnel(src: Mapping[str, Any]) -> list[_Step]:
    """Input, then documents after read, each stage and dedup (funnel of report.json)."""
    stages = {st.get("stage"): st for st in src.get("stages") or []}
    prev = int(_num(src.get("input_docs")))
    steps = [_Step("input", prev, 0, {})]
    for row in src.get("funnel") or []:
        docs = int(_num(row.get("docs")))
        st = stages.get(row.get("step"), {})
        steps.append(
            _Step(
                step=str(row.get("step", "?")),
                docs=docs,
                removed=prev - docs,
                dropped={k: int(_num(v)) for k, v in (row.get("dropped") or {}).items()},
                modified=st.get("modified"),
                seconds=st.get("seconds"),
                would_drop={k: int(_num(v)) for k, v in (st.get("would_drop") or {}).items()},
            )
        )
        prev = docs
    return steps


def _accounting(src: Mapping[str, Any]) -> tuple[int, int, int, int, bool]:
    """input, kept, dropped, duplicates and whether input = kept + dropped + duplicates."""
    acc = src.get("accounting") or {}
    dropped_total = sum(int(_num(v)) for v in (src.get("dropped") or {}).values())
    n_in = int(_num(acc.get("input", src.get("input_docs"))))
    kept = int(_num(acc.get("kept", src.get("kept_docs"))))
    dropped = int(_num(acc.get("dropped", dropped_total)))
    dups = int(_num(acc.get("duplicates", src.get("duplicates_removed"))))
    balanced = acc.get("balanced")
    if not isinstance(balanced, bool):
        balanced = n_in == kept + dropped + dups
    return n_in, kept, dropped, dups, balanced


def _destinations(src: Mapping[str, Any]) -> list[tuple[str, int]]:
    """Where a source's input documents went: kept, each drop reason, duplicates."""
    _, kept, _, dups, _ = _accounting(src)
    rows = [("kept", kept)]
    rows += [(k, int(_num(v))) for k, v in sorted((src.get("dropped") or {}).items())]
    # duplicates by reason (dedup:exact, dedup:near) when the funnel's dedup step has them
    dedup_step = next((st for st in src.get("funnel") or [] if st.get("step") == "dedup"), {})
    by_reason = {k: int(_num(v)) for k, v in sorted((dedup_step.get("dropped") or {}).items())}
    if sum(by_reason.values()) == dups:
        rows += list(by_reason.items())
    else:
        rows.append(("dedup:duplicate", dups))
    return [(k, v) for k, v in rows if v or k == "kept"]


def _accounting_ok(report: Report) -> bool:
    ok = report.get("accounting_ok")
    if isinstance(ok, bool):
        return ok
    return all(_accounting(src)[4] for src in _sources(report).values())


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
    run = report.get("run") or {}
    out = [str(w) for w in run.get("warnings") or []]
    for name, src in _sources(report).items():
        if "warnings" not in run:
            epoch = _epoch_warning(name, src)
            out += [epoch] if epoch else []
            n_in, kept, dropped, dups, balanced = _accounting(src)
            if not balanced:
                out.append(
                    f"{name}: accounting does not balance: input {n_in:,} ≠ kept {kept:,} + "
                    f"dropped {dropped:,} + duplicates {dups:,} = {kept + dropped + dups:,}."
                )
        target, achieved = src.get("target_share"), src.get("achieved_share")
        if isinstance(target, int | float) and isinstance(achieved, int | float):
            if abs(achieved - target) > SHARE_WARNING:
                out.append(
                    f"{name}: achieved share {achieved:.1%} differs from the target "
                    f"{target:.1%} by {(achieved - target) * 100:+.1f} percentage points."
                )
    return out


def _summary(report: Report) -> list[tuple[str, str]]:
    run = report.get("run") or {}
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
    run = report.get("run") or {}
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
        ((str(k), int(_num(v))) for k, v in (src.get("languages") or {}).items()),
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
        for signal, values in (src.get("signals") or {}).items():
            finite = _finite(values or [])
            if finite:
                out.setdefault(str(signal), {})[name] = finite
    return dict(sorted(out.items()))


def _pii(report: Report) -> tuple[list[str], dict[str, dict[str, int]]]:
    per_source = {
        name: {str(k): int(_num(v)) for k, v in (src.get("pii") or {}).items()}
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
    for reason, items in sorted((src.get("examples") or {}).items()):
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


def _cluster_rows(cluster: Any) -> list[tuple[str, str, str]]:
    """(id, source, text) per member of an example cluster; tolerant of its exact shape."""
    if not isinstance(cluster, Mapping):
        return [("", "", _truncate(cluster, 120))]
    ids = list(cluster.get("ids") or [])
    sources = list(cluster.get("sources") or [])
    texts = list(cluster.get("texts") or [])
    n = max(len(ids), len(sources), len(texts))
    rows = []
    for i in range(n):
        rows.append(
            (
                str(ids[i]) if i < len(ids) else "",
                str(sources[i]) if i < len(sources) else "",
                _truncate(texts[i], 120) if i < len(texts) else "",
            )
        )
    return rows


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
    """Rows of the mixture table (columns MIXTURE_HEAD) and whether epochs are above 4."""
    rows = []
    for name, src in _sources(report).items():
        epochs = _num(src.get("epochs"))
        over = epochs > EPOCH_WARNING
        rows.append(
            (
                [
                    name,
                    _int(src.get("tokens_available")),
                    _pct(src.get("target_share")),
                    _pct(src.get("achieved_share")),
                    _share_diff(src),
                    f"{epochs:.2f}" + (f" ⚠ above {EPOCH_WARNING:g}" if over else ""),
                    _fmt(src.get("max_epochs")),
                    _int(src.get("output_docs")),
                    _int(src.get("output_tokens")),
                ],
                over,
            )
        )
    return rows


FUNNEL_HEAD = ("step", "docs after", "removed", "of input", "dropped by reason")
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
            f"{sum(int(_num(v)) for v in src['languages'].values()):,}",
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
        for sh in (report.get("run") or {}).get("shards") or []
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


def _md_header(report: Report) -> list[str]:
    ok = _accounting_ok(report)
    out = ["# cleanpipe run report", "", _subtitle(report), ""]
    summary = _summary(report) + [("accounting", "OK" if ok else "MISMATCH")]
    out += [_md_table(["run", "value"], summary), ""]
    for w in _warnings(report):
        out += [f"> **Warning:** {_md_cell(w)}", ""]
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
        n_in = steps[0].docs or 1
        rows = []
        for st in steps:
            reasons = _reasons_text(st.dropped)
            if any(st.would_drop.values()):
                would = "would drop (annotate only): " + _reasons_text(st.would_drop)
                reasons = f"{reasons}; {would}" if reasons else would
            rows.append(
                [st.step, f"{st.docs:,}", _removed(st.removed), f"{st.docs / n_in:.1%}", reasons]
            )
        out += [f"### {name}", ""]
        out += [_md_table(FUNNEL_HEAD, rows, [1, 2, 3]), ""]
    return out


def _md_mixture(report: Report) -> list[str]:
    out = ["## Mixture: target vs achieved", ""]
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
    dedup = report.get("dedup") or {}
    if not dedup.get("enabled"):
        return out + ["Deduplication was off for this run.", ""]
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
        for i, cluster in enumerate(examples, 1):
            out += [f"Cluster {i}:", ""]
            out += [_md_table(["id", "source", "text (start)"], _cluster_rows(cluster)), ""]
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
    rows = []
    for name, src in _sources(report).items():
        ok = _accounting(src)[4]
        rows.append([name, _identity(src), "OK" if ok else "MISMATCH"])
    head = ["source", "input = kept + dropped + duplicates", "status"]
    return ["## Accounting", "", ACCOUNTING_NOTE, "", _md_table(head, rows), ""]


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
    old_run, new_run = old.get("run") or {}, new.get("run") or {}
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
        reasons = sorted(set((o or {}).get("dropped") or {}) | set((n or {}).get("dropped") or {}))
        for reason in reasons:
            changes.append(
                Change(
                    name,
                    f"dropped {reason}",
                    None if o is None else _value(o.get("dropped") or {}, reason) or 0,
                    None if n is None else _value(n.get("dropped") or {}, reason) or 0,
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
    rel = f" ({d / change.old:+.1%})" if change.old else ""
    return f"{round(d):+,}{rel}"


def compare_table(
    changes: Sequence[Change],
    *,
    old_label: str = "old",
    new_label: str = "new",
    only_changed: bool = True,
) -> Table:
    """A rich table of ``compare_reports`` rows (by default the changed ones only), one
    section per source; epochs above 4 in red."""
    shown = [c for c in changes if c.changed or not only_changed]
    hidden = len(changes) - len(shown)
    table = Table(
        title=f"Compare: {escape(old_label)} → {escape(new_label)}",
        caption=f"{hidden} unchanged numbers not shown" if hidden else None,
    )
    table.add_column("source")
    table.add_column("metric")
    table.add_column(escape(old_label), justify="right")
    table.add_column(escape(new_label), justify="right")
    table.add_column("change (new − old)", justify="right")
    current = None
    for c in shown:
        if current is not None and c.source != current:
            table.add_section()
        first = c.source != current
        current = c.source
        new_text = _fmt_value(c.new, c.kind)
        if c.kind == "epochs" and (c.new or 0) > EPOCH_WARNING:
            new_text = f"[red]{new_text} (>{EPOCH_WARNING:g})[/red]"
        table.add_row(
            escape(c.source or "(run)") if first else "",
            escape(c.metric),
            _fmt_value(c.old, c.kind),
            new_text,
            format_delta(c),
            style=None if c.changed else "dim",
        )
    return table


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
    o_run, n_run = old.get("run") or {}, new.get("run") or {}
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
    console.print(
        compare_table(changes, old_label=old_label, new_label=new_label, only_changed=only_changed)
    )
    return changes
