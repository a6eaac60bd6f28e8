"""``cleanpipe report OUT --compare OTHER``: the numbers of two runs side by side, per
source, with their signed differences. The rows are data (:class:`Change`); the terminal
table is drawn by :func:`cleanpipe.report.terminal.print_comparison`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import cleanpipe.report.view as view
from cleanpipe.report.view import Report


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
    """The number at ``src[key]``, or None (no such source, or no such number)."""
    return view.opt_num(view.get(src, key))


def compare_reports(old: Report, new: Report) -> list[Change]:
    """Per source (and for the run): input docs, kept, drops by reason, duplicates, tokens
    available, output tokens, target and achieved share, epochs; old and new values."""
    changes = []
    old_run, new_run = view.get_map(old, "run"), view.get_map(new, "run")
    for key in ("total_docs", "total_tokens", "budget_tokens", "shards_written"):
        changes.append(
            Change("", key.replace("_", " "), _value(old_run, key), _value(new_run, key))
        )
    old_src, new_src = view.sources_of(old), view.sources_of(new)
    for name in sorted(set(old_src) | set(new_src)):
        o, n = old_src.get(name), new_src.get(name)

        def row(key: str, metric: str, kind: str = "count", *, o=o, n=n, name=name) -> Change:
            return Change(name, metric, _value(o, key), _value(n, key), kind)

        changes.append(row("input_docs", "input docs"))
        changes.append(row("kept_docs", "kept docs"))
        reasons = sorted(set(view.get_map(o, "dropped")) | set(view.get_map(n, "dropped")))
        for reason in reasons:
            changes.append(
                Change(
                    name,
                    f"dropped {reason}",
                    None if o is None else _value(view.get_map(o, "dropped"), reason) or 0,
                    None if n is None else _value(view.get_map(n, "dropped"), reason) or 0,
                )
            )
        changes.append(row("duplicates_removed", "duplicates"))
        changes.append(row("tokens_available", "tokens available"))
        changes.append(row("output_tokens", "output tokens"))
        changes.append(row("target_share", "target share", "share"))
        changes.append(row("achieved_share", "achieved share", "share"))
        changes.append(row("epochs", "epochs", "epochs"))
    return changes


def format_value(value: float | None, kind: str) -> str:
    """One compared number as the table shows it ("–" when a run lacks it)."""
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
