"""The classifier's "what raising it costs" table: per source, the documents and tokens the
``classifier`` stage would keep at other ``min_score`` thresholds, and the epochs the source
would then need to fill its share of the mixture.

The stage tallies, per threshold, the documents and characters scored at least it (its
stage extra, summed over tasks like every count); tokens are estimated from characters with
the source's staged tokens per character, as the funnel does. The epochs assume the
documents a threshold keeps fare as well in the later stages and dedup as those kept now.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import cleanpipe.report.view as view
from cleanpipe.report.view import Report
from cleanpipe.stages.classifier import THRESHOLDS, threshold_key

STAGE = "classifier"


def classifier_thresholds(
    extra: Mapping[str, int],
    stage: Mapping[str, Any],
    params: Mapping[str, Any],
    tokens_per_char: float,
    plan: Any | None,
) -> dict[str, Any]:
    """report.json's ``classifier_thresholds`` of one source. ``extra``: the classifier's
    summed stage extra; ``stage``: its summed stats; ``params``: its config parameters;
    ``plan``: the source's :class:`~cleanpipe.mixture.SourcePlan` (None before planning)."""
    sampling = params.get("sampling", "threshold")
    annotate_only = bool(params.get("annotate_only", False))
    in_use = sampling == "threshold" and not annotate_only
    current = params.get("min_score", 0.5) if in_use else None
    kept_chars = stage.get("chars_out", 0)
    rows = []
    shown = {float(k.split(">=")[1].split(":")[0]) for k in extra if k.startswith("score>=")}
    for threshold in sorted(shown | set(THRESHOLDS)):
        chars = extra.get(threshold_key(threshold, "chars"), 0)
        row: dict[str, Any] = {
            "min_score": threshold,
            "docs": extra.get(threshold_key(threshold, "docs"), 0),
            "tokens": round(chars * tokens_per_char),
        }
        if plan is not None and kept_chars and plan.target_tokens:
            available = plan.available_tokens * chars / kept_chars
            row["epochs"] = round(plan.target_tokens / available, 2) if available else None
            row["fits"] = bool(available) and plan.target_tokens / available <= plan.max_epochs
        rows.append(row)
    return {
        "sampling": sampling,
        "min_score": current,
        "annotate_only": annotate_only,
        "max_epochs": plan.max_epochs if plan is not None else None,
        "tokens": "estimated",
        "rows": rows,
    }


def threshold_tables(report: Report) -> dict[str, dict[str, Any]]:
    """source -> its ``classifier_thresholds``, for the sources that have one."""
    return {
        name: src["classifier_thresholds"]
        for name, src in view.sources_of(report).items()
        if view.get_list(src.get("classifier_thresholds"), "rows")
    }


NOTE = (
    "What the classifier stage would keep at other min_score thresholds: documents and "
    "tokens (estimated from characters) scored at least each, and the epochs the source "
    "would then need to fill its share, if the documents fare in the later stages and dedup "
    "as those kept now."
)
HEADER = ["min_score", "documents", "tokens (est.)", "epochs to fill share"]


def threshold_rows(table: Mapping[str, Any]) -> list[list[str]]:
    """The table's rows as text; the threshold in use is marked "(in use)", an epoch count
    above the source's ``max_epochs`` "(over max)"."""
    rows = []
    for row in view.get_list(table, "rows"):
        mark = " (in use)" if row.get("min_score") == table.get("min_score") else ""
        epochs = row.get("epochs")
        if epochs is None:
            shown = "n/a" if "epochs" in row else ""
        else:
            shown = f"{epochs:g}" + ("" if row.get("fits") else " (over max)")
        rows.append(
            [
                f"{row['min_score']:g}{mark}",
                view.fmt_int(row.get("docs")),
                f"{row.get('tokens', 0):,}",
                shown,
            ]
        )
    return rows


def caption(name: str, table: Mapping[str, Any]) -> str:
    """One line over a source's table: how the stage decided, and the source's max_epochs."""
    if table.get("annotate_only"):
        how = "annotate_only (nothing dropped; rows: if min_score were used)"
    elif table.get("sampling") == "pareto":
        how = "Pareto sampling (rows: if min_score were used instead)"
    else:
        how = f"min_score {table.get('min_score')}"
    limit = table.get("max_epochs")
    tail = f"; max_epochs {limit:g}" if isinstance(limit, int | float) else ""
    return f"{name}: {how}{tail}"
