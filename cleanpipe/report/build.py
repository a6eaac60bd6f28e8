"""report.json: what happened to every document, per source and per stage (``build_report``),
and the three files of a run's report (``write_reports``: report.json, report.md,
report.html)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

import pyarrow as pa

from cleanpipe.config import Config
from cleanpipe.io import fs
from cleanpipe.io.writers import write_json_atomic, write_text_atomic
from cleanpipe.mixture import MixturePlan
from cleanpipe.report.html import render_html
from cleanpipe.report.markdown import render_markdown
from cleanpipe.report.samples import merge_collected
from cleanpipe.report.thresholds import STAGE as CLASSIFIER
from cleanpipe.report.thresholds import classifier_thresholds
from cleanpipe.stages.base import StageStats
from cleanpipe.tokens import EstimateStats, tokenizer_name


def _stage_totals(mine: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each stage's stats summed over the source's map tasks (``StageStats`` add up with
    ``+``), in pipeline order; seconds rounded to milliseconds."""
    per_stage: dict[str, list[StageStats]] = {}
    for s in mine:
        for st in s["stages"]:
            per_stage.setdefault(st["stage"], []).append(StageStats.from_dict(st))
    totals = [sum(parts) for parts in per_stage.values()]
    return [{**t.to_dict(), "seconds": round(t.seconds, 3)} for t in totals]


def _funnel(
    read: Counter,
    stages: list[dict[str, Any]],
    staged: dict[str, int],
    removed: Counter,
    removed_chars: int,
) -> list[dict[str, Any]]:
    """Documents, characters and tokens after each step. Tokens are counted only for the
    staged documents; for earlier steps they are estimated from characters with the
    source's staged tokens per character (``funnel_tokens: estimated``)."""
    per_char = staged["tokens"] / staged["chars"] if staged["chars"] else 0.0
    read_chars = stages[0].get("chars_in", 0) if stages else staged["chars"]

    def step(name: str, docs: int, chars: int, dropped: dict[str, int]) -> dict[str, Any]:
        tokens = round(chars * per_char)
        return {"step": name, "docs": docs, "chars": chars, "tokens": tokens, "dropped": dropped}

    read_rejects = {k: v for k, v in sorted(read.items()) if k.startswith("read:")}
    funnel = [step("read", read["documents"], read_chars, read_rejects)]
    for st in stages:
        funnel.append(step(st["stage"], st["out"], st.get("chars_out", 0), st["dropped"]))
    funnel.append(
        step(
            "dedup",
            staged["docs"] - sum(removed.values()),
            staged["chars"] - removed_chars,
            dict(sorted(removed.items())),
        )
    )
    return funnel


def _accounting(
    input_docs: int,
    dropped: Counter,
    written: dict[str, int],
    routes: list[dict[str, Any]],
    out: dict[str, int],
) -> dict[str, Any]:
    """Every input record accounted for exactly once, from the rows written: rejects/ and
    staging/ files (their footers), dedup/removed.parquet (read by each route task for its
    own file), what each route task did with each staged row, and the shards' rows. A loss
    anywhere (a unique document removed with a duplicate that shares its id, a row routed
    twice) makes ``balanced`` false and names the step."""
    duplicates = sum(sum(r.get("removed", {}).values()) for r in routes)
    route = Counter()
    for r in routes:
        route.update({k: r.get(k, 0) for k in ("staged", "sampled", "not_sampled", "rows")})
    staged, rejected = written["staged"], written["rejected"]
    problems = []
    if input_docs != rejected + staged:
        problems.append(
            f"input records {input_docs:,} != rejected {rejected:,} + staged {staged:,}"
        )
    if sum(dropped.values()) != rejected:
        problems.append(f"drops counted {sum(dropped.values()):,} != rows in rejects/ {rejected:,}")
    if route["staged"] != staged:
        problems.append(f"route read {route['staged']:,} staged rows of {staged:,}")
    if staged != duplicates + route["sampled"] + route["not_sampled"]:
        problems.append(
            f"staged {staged:,} != duplicates {duplicates:,} + sampled {route['sampled']:,} "
            f"+ not sampled {route['not_sampled']:,}"
        )
    if out["distinct"] != route["sampled"]:
        problems.append(
            f"documents in the shards {out['distinct']:,} != sampled {route['sampled']:,}"
        )
    if out["docs"] != route["rows"]:
        problems.append(f"rows in the shards {out['docs']:,} != rows routed {route['rows']:,}")
    return {
        "input": input_docs,
        "rejected": rejected,
        "staged": staged,
        "duplicates": duplicates,
        "kept": staged - duplicates,
        "sampled": out["distinct"],
        "not_sampled": route["not_sampled"],
        "output_rows": out["docs"],
        # kept as before: what the mixture section and older readers use
        "dropped": sum(dropped.values()),
        "balanced": not problems,
        "problems": problems,
    }


def _map_totals(
    mine: list[dict[str, Any]],
) -> tuple[Counter, Counter, Counter, EstimateStats, dict[str, Counter]]:
    """One source's map-task stats summed: records read (and drops while reading), records
    skipped as no documents (web archives), what was staged, the token estimate, and the
    stages' extra counts."""
    read: Counter = Counter()
    skipped: Counter = Counter()
    staged: Counter = Counter()
    estimate = EstimateStats()
    extra: dict[str, Counter] = {}
    for s in mine:
        read.update(s["read"])
        skipped.update(s.get("skipped", {}))
        staged.update({k: s["kept"].get(k, 0) for k in ("docs", "tokens", "chars")})
        if s.get("token_estimate"):
            estimate.merge(s["token_estimate"])
        for stage, values in s.get("stage_extra", {}).items():
            extra.setdefault(stage, Counter()).update(values)
    return read, skipped, staged, estimate, extra


def _source_report(
    source: str,
    map_stats: list[dict[str, Any]],
    route_stats: list[dict[str, Any]] | None,
    plan: MixturePlan | None,
    shard_stats: list[dict[str, Any]],
    collected: dict[str, Any],
    written: dict[str, int],
    params: dict[str, dict[str, Any]],
) -> dict[str, Any]:
    """One source's section of report.json. Without ``plan`` and ``route_stats`` (a run that
    failed before the mixture was planned) only what the map step did."""
    mine = [s for s in map_stats if s["source"] == source]
    read, skipped, staged, estimate, extra = _map_totals(mine)
    stages = _stage_totals(mine)
    routes = [r for r in route_stats or [] if r["task"].split("/")[0] == source]
    removed: Counter = Counter()
    for r in routes:
        removed.update(r["removed"])
    dedup_chars = sum(r.get("removed_chars", 0) for r in routes)
    dropped: Counter = Counter({k: v for k, v in read.items() if k.startswith("read:")})
    for st in stages:
        dropped.update(st["dropped"])
    out: Counter = Counter()
    for sh in shard_stats:
        out.update(sh["sources"].get(source, {}))
    report: dict[str, Any] = {
        "input_docs": read["records"],
        "records_read": read["records"] + sum(skipped.values()),
        "skipped": dict(sorted(skipped.items())),
        "funnel": _funnel(read, stages, staged, removed, dedup_chars),
        "funnel_tokens": "estimated",
        "stages": stages,
        "stage_extra": {k: dict(sorted(v.items())) for k, v in extra.items()},
        "pii": dict(sorted(extra["pii"].items())) if "pii" in extra else None,
        "dropped": dict(sorted(dropped.items())),
        "duplicates_removed": sum(removed.values()),
        "kept_docs": staged["docs"] - sum(removed.values()),
        "tokens_staged": staged["tokens"],
        "token_estimate": estimate.summary() if estimate.calibration_docs else None,
        "languages": collected["languages"],
        "signals": collected["signals"],
        "examples": collected["examples"],
    }
    if CLASSIFIER in extra:
        report["classifier_thresholds"] = classifier_thresholds(
            extra[CLASSIFIER],
            next(st for st in stages if st["stage"] == CLASSIFIER),
            params.get(CLASSIFIER, {}),
            staged["tokens"] / staged["chars"] if staged["chars"] else 0.0,
            plan.sources[source] if plan is not None else None,
        )
    if plan is None:
        return report
    sp = plan.sources[source]
    report.update(
        {
            "tokens_available": sp.available_tokens,
            "target_share": round(sp.weight, 6),
            "epochs": round(sp.epochs, 4),
            "max_epochs": sp.max_epochs,
            "output_docs": out["docs"],
            "output_tokens": out["tokens"],
            "accounting": _accounting(read["records"], dropped, written, routes, out),
        }
    )
    return report


def build_report(
    config: Config,
    map_stats: list[dict[str, Any]],
    dedup_info: dict[str, Any] | None,
    plan: MixturePlan | None,
    route_stats: list[dict[str, Any]] | None,
    shard_stats: list[dict[str, Any]],
    manifest: dict[str, Any],
    collected: Callable[[str], Iterable[tuple[dict[str, Any], pa.Table]]],
    written: dict[str, dict[str, int]],
    repeated_ids: dict[str, dict[str, Any]] | None = None,
    error: str | None = None,
) -> dict[str, Any]:
    """The machine-readable report (keys documented in README "report.json").

    ``collected(source)`` yields what the source's map tasks collected (languages, examples
    and the signal sample table), one task at a time: they are folded as they come (see
    :func:`cleanpipe.report.samples.merge_collected`). ``written`` holds, per source, the rows in
    its staging/ and rejects/ files (``staged``, ``rejected``). With ``error`` the report is
    of a failed run (``status: failed``): whatever was done before the error.
    """
    sources = {
        s: _source_report(
            s,
            map_stats,
            route_stats,
            plan,
            shard_stats,
            merge_collected(collected(s)),
            written.get(s, {"staged": 0, "rejected": 0}),
            {spec.name: spec.params for spec in config.sources[s].stages},
        )
        for s in sorted(config.sources)
    }
    warnings = list(plan.warnings) if plan is not None else []
    for name, src in sources.items():
        repeats = (repeated_ids or {}).get(name)
        if repeats and repeats["ids"]:
            src["repeated_ids"] = repeats
            warnings.append(
                f"source {name!r}: {repeats['ids']:,} ids occur more than once "
                f"({repeats['rows']:,} documents, e.g. {', '.join(map(repr, repeats['examples']))}"
                "); each document is still handled on its own (ids are carried, never keys)"
            )
        for problem in src.get("accounting", {}).get("problems", []):
            warnings.append(f"source {name!r}: accounting: {problem}")
    total_tokens = sum(s.get("output_tokens", 0) for s in sources.values())
    for s in sources.values():
        if "output_tokens" in s:
            share = s["output_tokens"] / total_tokens if total_tokens else 0.0
            s["achieved_share"] = round(share, 6)
    report = {
        "status": "failed" if error else "ok",
        "run": {
            "seed": config.seed,
            "tokenizer": tokenizer_name(config.mixture.tokenizer),
            "token_counting": config.mixture.token_counting,
            "warnings": warnings,
            "total_tokens": total_tokens,
            "total_docs": sum(s.get("output_docs", 0) for s in sources.values()),
            "budget_tokens": round(plan.budget_tokens) if plan is not None else None,
            "budget_rule": plan.budget_rule if plan is not None else None,
            "shards_written": len(shard_stats),
            "shards": shard_stats,
            "config_fingerprint": manifest["config_fingerprint"],
            "cleanpipe_version": manifest["cleanpipe_version"],
        },
        "sources": sources,
        "dedup": dedup_info if dedup_info is not None else {"enabled": config.dedup is not None},
        "accounting_ok": not error and all(s["accounting"]["balanced"] for s in sources.values()),
    }
    if error:
        report["error"] = error
    return report


def write_reports(report: dict[str, Any], root: str) -> None:
    """report.json for machines; report.md and a self-contained report.html for people."""
    write_json_atomic(report, fs.join(root, "report.json"))
    write_text_atomic(render_markdown(report), fs.join(root, "report.md"))
    write_text_atomic(render_html(report), fs.join(root, "report.html"))


def load_report(root: str) -> dict[str, Any]:
    """report.json of a run's output folder (a path or URI), or that file itself."""
    path = fs.join(root, "report.json") if fs.isdir(root) else root
    return json.loads(fs.read_text(path))
