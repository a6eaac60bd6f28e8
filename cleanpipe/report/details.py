"""The detail sections of a report as every renderer shares them: languages, quality
signals, PII counts, rejected examples and dedup results with their example clusters.

Like :mod:`cleanpipe.report.view` (whose getters it reads with), the package's internal API:
public names for the renderers, not re-exported from :mod:`cleanpipe.report`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import cleanpipe.report.view as view
from cleanpipe.report.samples import EXAMPLE_CHARS
from cleanpipe.report.view import Report

TOP_LANGUAGES = 6
"""Languages listed per source; the rest are summed as "other"."""


def top_languages(src: Mapping[str, Any], top: int = TOP_LANGUAGES) -> list[tuple[str, int]]:
    """The most frequent languages of a source, the rest summed as "other"."""
    langs = sorted(
        ((str(k), int(view.num(v))) for k, v in view.get_map(src, "languages").items()),
        key=lambda kv: (-kv[1], kv[0]),
    )
    head, rest = langs[:top], langs[top:]
    if rest:
        head.append((f"other ({len(rest)})", sum(v for _, v in rest)))
    return head


def finite(values: Iterable[Any]) -> list[float]:
    return [float(v) for v in values if isinstance(v, int | float) and math.isfinite(v)]


def _quantile(sorted_values: Sequence[float], q: float) -> float:
    pos = q * (len(sorted_values) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


def signal_stats(values: Sequence[float]) -> dict[str, float]:
    v = sorted(values)
    return {
        "n": len(v),
        "min": v[0],
        "p10": _quantile(v, 0.1),
        "median": _quantile(v, 0.5),
        "p90": _quantile(v, 0.9),
        "max": v[-1],
    }


def signal_values(report: Report) -> dict[str, dict[str, list[float]]]:
    """signal name -> source -> finite values, for every source that sampled the signal."""
    out: dict[str, dict[str, list[float]]] = {}
    for name, src in view.sources_of(report).items():
        for signal, values in view.get_map(src, "signals").items():
            kept = finite(values or [])
            if kept:
                out.setdefault(str(signal), {})[name] = kept
    return dict(sorted(out.items()))


def pii_counts(report: Report) -> tuple[list[str], dict[str, dict[str, int]]]:
    per_source = {
        name: {str(k): int(view.num(v)) for k, v in view.get_map(src, "pii").items()}
        for name, src in view.sources_of(report).items()
        if src.get("pii")
    }
    kinds = sorted({k for counts in per_source.values() for k in counts})
    return kinds, per_source


def truncate(text: Any, limit: int = EXAMPLE_CHARS) -> str:
    text = "" if text is None else str(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def rejected_examples(src: Mapping[str, Any]) -> list[tuple[str, list[tuple[str, str]]]]:
    """(reason, [(id, truncated text)]) of a source's rejected examples."""
    out = []
    for reason, items in sorted(view.get_map(src, "examples").items()):
        rows = []
        for item in items or []:
            if isinstance(item, Mapping):
                rows.append((str(item.get("id", "")), truncate(item.get("text"))))
            else:
                rows.append(("", truncate(item)))
        if rows:
            out.append((str(reason), rows))
    return out


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def dedup_parts(
    dedup: Mapping[str, Any],
) -> tuple[list[tuple[str, Any]], list[tuple[str, list[tuple[str, Any]]]], list[Any], list[str]]:
    """Split the dedup block generically: scalars, flat tables, example clusters, the rest."""
    scalars: list[tuple[str, Any]] = []
    tables: list[tuple[str, list[tuple[str, Any]]]] = []
    examples: list[Any] = []
    other: list[str] = []
    for key, value in dedup.items():
        if key in ("enabled", "paragraphs"):  # paragraphs: paragraph_tables
            continue
        if key == "examples" and isinstance(value, list):
            examples = value
        elif _is_scalar(value):
            scalars.append((key, value))
        elif isinstance(value, Mapping) and all(_is_scalar(v) for v in value.values()):
            tables.append((key, sorted(value.items(), key=lambda kv: (-view.num(kv[1]), kv[0]))))
        else:
            other.append(f"{key}: {json.dumps(value, sort_keys=True, default=str)}")
    return scalars, tables, examples, other


PARAGRAPH_HEAD = ("source", "units cut", "chars cut", "docs edited", "docs emptied")
REPEATED_HEAD = ("copies", "first in", "unit (start)")


def paragraph_tables(dedup: Mapping[str, Any]) -> tuple[list[list[str]], list[list[str]]] | None:
    """Paragraph dedup's rows for people: per source what was cut (:data:`PARAGRAPH_HEAD`),
    and the most repeated units (:data:`REPEATED_HEAD`); None when it did not run."""
    para = dedup.get("paragraphs")
    if not isinstance(para, Mapping) or not para.get("enabled"):
        return None
    keys = ("units_cut", "chars_cut", "docs_edited", "docs_emptied")
    sources = sorted(para.get("units_cut_per_source", {}))
    per_source = [
        [s, *(view.fmt(para.get(f"{k}_per_source", {}).get(s, 0)) for k in keys)] for s in sources
    ]
    repeated = [
        [view.fmt(u["copies"]), u["source"], " ".join(u["text"].split())]
        for u in para.get("most_repeated", [])
    ]
    return per_source, repeated


CLUSTER_HEAD = ("member", "id", "source", "text (start)")


@dataclass(frozen=True)
class Cluster:
    """An example dedup cluster: its true size and the members listed (keeper first)."""

    size: int
    rows: list[tuple[str, str, str, str]]  # (kept | duplicate | "", id, source, text)

    @property
    def caption(self) -> str:
        shown = f" ({len(self.rows)} shown)" if len(self.rows) < self.size else ""
        kept = "; the kept one is marked" if any(r[0] == "kept" for r in self.rows) else ""
        return f"{self.size:,} documents{shown}{kept}"


def example_cluster(cluster: Any) -> Cluster:
    """An example cluster of report.json, tolerant of its exact shape: ``size`` (the true
    size; older reports: the members listed) and ``kept_member`` (index of the keeper;
    older reports: the first member whose id is ``kept``)."""
    if not isinstance(cluster, Mapping):
        return Cluster(1, [("", "", "", truncate(cluster, 120))])
    ids, sources, texts = (view.get_list(cluster, k) for k in ("ids", "sources", "texts"))
    n = max(len(ids), len(sources), len(texts))
    kept = view.opt_int(cluster.get("kept_member"))
    if kept is None and cluster.get("kept") is not None and str(cluster["kept"]) in map(str, ids):
        kept = [str(i) for i in ids].index(str(cluster["kept"]))
    rows = [
        (
            "" if kept is None else ("kept" if i == kept else "duplicate"),
            str(ids[i]) if i < len(ids) else "",
            str(sources[i]) if i < len(sources) else "",
            truncate(texts[i], 120) if i < len(texts) else "",
        )
        for i in range(n)
    ]
    size = view.opt_int(cluster.get("size"))
    return Cluster(max(size or 0, n), rows)


def dedup_results(report: Report) -> Mapping[str, Any] | None:
    """The dedup block when dedup ran and the report has its results, else None."""
    dedup = view.get_map(report, "dedup")
    if not dedup.get("enabled") or not set(dedup) - {"enabled"}:
        return None
    return dedup


def dedup_off(report: Report) -> str:
    """Why a report has no dedup results."""
    if view.run_error(report) is not None:
        return "No deduplication results: the run failed before dedup finished."
    if view.get_map(report, "dedup").get("enabled"):
        return "No deduplication results in this report."
    return "Deduplication was off for this run."


EXAMPLES_NOTE = (
    f"Up to three dropped documents per reason, first {EXAMPLE_CHARS} characters. "
    "Every rejected document is in rejects/<source>/."
)


def language_rows(report: Report) -> list[list[str]]:
    """source, documents language ID saw, top languages with counts."""
    return [
        [
            name,
            f"{sum(int(view.num(v)) for v in view.get_map(src, 'languages').values()):,}",
            ", ".join(f"{k} {v:,}" for k, v in top_languages(src)),
        ]
        for name, src in view.sources_of(report).items()
        if src.get("languages")
    ]


def key_label(key: str) -> str:
    return key.replace("_", " ")


def dedup_key_header(key: str) -> str:
    """Column header for the keys of a dedup table (removed_per_source, cross_source ...)."""
    if key.endswith("per_source"):
        return "source"
    if key.startswith("cross_source"):
        return "sources"
    return "key"


DECONTAMINATION_HEAD = (
    "source",
    "items matched",
    "documents removed",
    "documents cut",
    "tokens removed (est.)",
    "most matched items",
)
DECONTAMINATION_NOTE = (
    "Documents that share a word n-gram with an eval item (decontaminate stage), per eval "
    "set: the items some document matched, the documents dropped and those only cut "
    "(action: remove), and the tokens that went, estimated from characters with the "
    "source's tokens per character. A document matching two sets counts in both."
)


def _tokens_per_char(src: Mapping[str, Any]) -> float:
    steps = [s for s in view.get_list(src, "funnel") if isinstance(s, Mapping)]
    for step in steps:
        if view.num(step.get("chars")) > 0:
            return view.num(step.get("tokens")) / view.num(step.get("chars"))
    return 0.0


def decontamination_tables(report: Report) -> list[tuple[str, list[list[str]]]]:
    """(eval set, rows) per eval set that ``decontaminate`` ran with: one row per source
    (and an "all sources" row when there are several), columns :data:`DECONTAMINATION_HEAD`.
    Read from each source's ``stage_extra.decontaminate`` counts."""
    per_set: dict[str, dict[str, dict[str, Any]]] = {}
    for name, src in view.sources_of(report).items():
        counts = view.get_map(src, "stage_extra", "decontaminate")
        rate = _tokens_per_char(src)
        for key, value in counts.items():
            kind, _, rest = str(key).partition(":")
            stem = rest.split(":", 1)[0]
            row = per_set.setdefault(stem, {}).setdefault(name, {"items": {}, "rate": rate})
            if kind == "item":
                row["items"][rest] = row["items"].get(rest, 0) + int(view.num(value))
            else:
                row[kind] = row.get(kind, 0) + int(view.num(value))
    tables = []
    for stem, sources in sorted(per_set.items()):
        if len(sources) > 1:
            total: dict[str, Any] = {"items": {}, "chars_tokens": 0}
            for row in sources.values():
                for item, n in row["items"].items():
                    total["items"][item] = total["items"].get(item, 0) + n
                for kind in ("dropped", "cut"):
                    total[kind] = total.get(kind, 0) + row.get(kind, 0)
                total["chars_tokens"] += row.get("chars", 0) * row["rate"]
            sources = {**sources, "all sources": total}
        tables.append((stem, [_decontamination_row(n, r) for n, r in sources.items()]))
    return tables


def _decontamination_row(name: str, row: Mapping[str, Any]) -> list[str]:
    items = sorted(row["items"].items(), key=lambda kv: (-kv[1], kv[0]))
    tokens = row.get("chars_tokens", row.get("chars", 0) * row.get("rate", 0.0))
    top = ", ".join(f"{item.split(':', 1)[-1]} ({n})" for item, n in items[:3])
    return [
        name,
        f"{len(items):,}",
        f"{row.get('dropped', 0):,}",
        f"{row.get('cut', 0):,}",
        f"{round(tokens):,}",
        top + (", …" if len(items) > 3 else ""),
    ]
