"""The report in a terminal: ``cleanpipe report OUT`` (:func:`print_report`), ``cleanpipe
plan`` (:func:`print_plan`) and ``cleanpipe report OUT --compare OTHER``
(:func:`print_comparison`), as rich tables. Reads every field through
:mod:`cleanpipe.report.view`: older and failed runs lack some."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

import cleanpipe.report.details as details
import cleanpipe.report.view as view
from cleanpipe import mixture
from cleanpipe.mixture import MixturePlan
from cleanpipe.report.compare import Change, compare_reports, format_delta, format_value
from cleanpipe.report.view import Report


def _epochs(epochs: float | None) -> tuple[str, bool]:
    """Epochs as the terminal shows them (the limit named after them when they are above
    ``cleanpipe.mixture.EPOCH_WARNING``) and whether they are."""
    text = "–" if epochs is None else f"{epochs:.2f}"
    over = view.over_epoch_warning(epochs)
    return (f"{text} (>{mixture.EPOCH_WARNING:g})" if over else text), over


def _red_if(text: str, over: bool) -> str:
    return f"[red]{text}[/red]" if over else text


def _columns(table: Table, names: Sequence[str]) -> Table:
    """``table`` with one column per name: the first left-aligned, the numbers right."""
    for i, name in enumerate(names):
        table.add_column(name, justify="left" if i == 0 else "right")
    return table


# -- cleanpipe report OUT ------------------------------------------------------------------


def print_report(report: Report, console: Console | None = None) -> None:
    """The run in a terminal: an error first if it failed, the funnel per source (documents,
    characters, tokens), the mixture table, the dedup summary table, then the accounting
    problems, warnings and notes."""
    console = console or Console()
    error = view.run_error(report)
    if error is not None:
        console.print(f"[bold red]run failed:[/bold red] {escape(error)}")
        console.print("what the run got to before it failed (– where it did not get to):")
    run = view.get_map(report, "run")
    console.print(
        f"[bold]{view.fmt_int(run.get('total_docs'))} documents, "
        f"{view.fmt_int(run.get('total_tokens'))} tokens[/bold] "
        f"({escape(str(run.get('tokenizer', '–')))}) in "
        f"{view.fmt_int(run.get('shards_written'))} shard(s); seed {run.get('seed', '–')}; "
        f"budget {view.fmt_int(run.get('budget_tokens'))} tokens "
        f"({run.get('budget_rule') or '–'})"
    )
    sources = view.sources_of(report)
    console.print(_funnel_table(sources))
    if view.has_mixture(report):
        console.print(_mixture_table(sources))
    else:
        console.print("mixture: the run did not get as far as planning it")
    dedup_rows = (
        dedup_summary_rows(view.get_map(report, "dedup"))
        if view.get(report, "dedup", "enabled")
        else []
    )
    if dedup_rows:
        dedup = Table(title="Dedup")
        dedup.add_column("dedup")
        dedup.add_column("value")
        for label, value in dedup_rows:
            dedup.add_row(escape(label), escape(value))
        console.print(dedup)
    for name, src in sources.items():
        for problem in view.accounting_problems(src):
            console.print(f"[red]accounting:[/red] {escape(name)}: {escape(problem)}")
    for warning in view.run_warnings(report):
        console.print(f"[yellow]warning:[/yellow] {escape(warning)}")
    for note in view.notes(report):
        console.print(f"[cyan]note:[/cyan] {escape(note)}")


def _funnel_table(sources: Mapping[str, Mapping[str, Any]]) -> Table:
    """Documents, characters and tokens after each step, drops by reason, per source."""
    estimated = any(src.get("funnel_tokens") == "estimated" for src in sources.values())
    funnel = Table(title="Funnel: documents, characters and tokens after each step")
    funnel.add_column("source")
    funnel.add_column("step")
    funnel.add_column("docs", justify="right")
    funnel.add_column("chars", justify="right")
    funnel.add_column("tokens" + (" (est.)" if estimated else ""), justify="right")
    funnel.add_column("dropped (by reason)")
    for name, src in sources.items():
        for i, step in enumerate(view.funnel_steps(src)):
            reasons = ", ".join(
                f"{view.short_reason(k, step.step)} {v:,}" for k, v in step.dropped.items() if v
            )
            funnel.add_row(
                escape(name) if i == 0 else "",
                escape(step.step),
                f"{step.docs:,}",
                view.fmt_int(step.chars),
                view.fmt_int(step.tokens),
                escape(reasons),
            )
        funnel.add_section()
    return funnel


_MIXTURE_COLUMNS = (
    "source",
    "available tokens",
    "target",
    "achieved",
    "epochs",
    "output docs",
    "accounting",
)


def _mixture_table(sources: Mapping[str, Mapping[str, Any]]) -> Table:
    """Target vs achieved share per source, epochs (red above EPOCH_WARNING), accounting."""
    mix = _columns(Table(title="Mixture: target vs achieved (by tokens)"), _MIXTURE_COLUMNS)
    for name, src in sources.items():
        mix.add_row(
            escape(name),
            view.fmt_int(src.get("tokens_available")),
            view.fmt_pct(src.get("target_share")),
            view.fmt_pct(src.get("achieved_share")),
            _red_if(*_epochs(view.opt_num(src.get("epochs")))),
            view.fmt_int(src.get("output_docs")),
            "ok" if view.balance(src).balanced else "[red]MISMATCH[/red]",
        )
    return mix


_DEDUP_ROWS = (
    ("docs", "documents"),
    ("url_groups", "url groups"),
    ("url_duplicates", "url duplicates"),
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
    scalars, tables, examples, other = details.dedup_parts(dedup)
    values = dict(scalars)
    near = view.get_map(dedup, "removed_near_per_source")
    if near and "near_duplicates" not in values:
        values["near_duplicates"] = sum(int(view.num(v)) for v in near.values())
    rows = [(label, view.fmt(values.pop(key))) for key, label in _DEDUP_ROWS if key in values]
    rows += [(details.key_label(k), view.fmt(v)) for k, v in values.items()]
    rows += [
        (details.key_label(k), ", ".join(f"{a}: {view.fmt(b)}" for a, b in items))
        for k, items in tables
        if items
    ]
    if examples:
        rows.append(("example clusters", f"{len(examples)} (in report.html and report.md)"))
    rows += [(line.split(":", 1)[0], "(in report.json)") for line in other]
    if (para := details.paragraph_tables(dedup)) is not None:
        cut = ", ".join(f"{r[0]}: {r[1]} units, {r[2]} chars" for r in para[0])
        rows.append(("paragraphs cut", cut or "none"))
    return rows


# -- cleanpipe plan ------------------------------------------------------------------------

_PLAN_COLUMNS = (
    "source",
    "docs",
    "available tokens",
    "share",
    "target tokens",
    "epochs",
    "max epochs",
)


def print_plan(plan: MixturePlan, basis: str, console: Console | None = None) -> None:
    """The mixture plan as a table: tokens available, target, epochs, warnings."""
    console = console or Console()
    console.print(f"plan from {basis}")
    console.print(f"budget: {plan.budget_tokens:,.0f} tokens ({plan.budget_rule})")
    table = _columns(Table(), _PLAN_COLUMNS)
    for name, p in plan.sources.items():
        table.add_row(
            name,
            f"{p.available_docs:,}",
            f"{p.available_tokens:,}",
            f"{p.weight:.1%}",
            f"{p.target_tokens:,.0f}",
            _red_if(*_epochs(p.epochs)),
            f"{p.max_epochs:g}",
        )
    console.print(table)
    for warning in plan.warnings:
        console.print(f"[yellow]warning:[/yellow] {warning}")


# -- cleanpipe report OUT --compare OTHER --------------------------------------------------

_COMPARE_PADDING = 11
"""Columns a compare table spends besides its cells: one space either side of each of the
four cells and three column separators."""


def _compare_cells(c: Change) -> tuple[str, str, str, str, bool]:
    """metric, old, new, change of one compared number, and whether its epochs are over
    EPOCH_WARNING."""
    new_text, over = format_value(c.new, c.kind), False
    if c.kind == "epochs":
        new_text, over = _epochs(c.new)
    return "  " + c.metric, format_value(c.old, c.kind), new_text, format_delta(c), over


def _compare_widths(
    rows: Sequence[tuple[str, str, str, str, bool]], sources: set[str], width: int | None
) -> tuple[bool, int | None]:
    """How the rows fit ``width`` columns: whether the relative change goes on a second line,
    and the width long metric names wrap at (None: they need not)."""
    metric_w = max([len(r[0]) for r in rows] + [len(s) for s in sources] + [6])
    old_w = max([len(r[1]) for r in rows] + [3])
    new_w = max([len(r[2]) for r in rows] + [3])
    change_w = max([len(r[3]) for r in rows] + [6])
    split = width is not None and metric_w + old_w + new_w + change_w + _COMPARE_PADDING > width
    if split:  # "+1,234 (+3.1%)" over two lines
        change_w = max([len(part) for r in rows for part in r[3].split(" (")] + [6])
    metric_max = None
    if width is not None and metric_w + old_w + new_w + change_w + _COMPARE_PADDING > width:
        metric_max = max(12, width - old_w - new_w - change_w - _COMPARE_PADDING)
    return split, metric_max


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
    rows = [_compare_cells(c) for c in shown]
    split, metric_max = _compare_widths(rows, {c.source or "(run)" for c in shown}, width)
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
    for c, (metric, old_text, new_text, delta, over) in zip(shown, rows, strict=True):
        if c.source != current:
            if current is not None:
                table.add_section()
            table.add_row(f"[bold]{escape(c.source or '(run)')}[/bold]", "", "", "")
            current = c.source
        table.add_row(
            escape(metric),
            escape(old_text),
            _red_if(escape(new_text), over),
            escape(delta.replace(" (", "\n(") if split else delta),
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
    o_run, n_run = view.get_map(old, "run"), view.get_map(new, "run")
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
