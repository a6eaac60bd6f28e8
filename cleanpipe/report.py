"""report.json: what happened to every document, per source and per stage; and the terminal
summary of it (``cleanpipe report OUT``)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

import pyarrow as pa
from rich.console import Console
from rich.table import Table

from cleanpipe.config import Config
from cleanpipe.io import fs
from cleanpipe.io.writers import write_json_atomic, write_text_atomic
from cleanpipe.mixture import MixturePlan
from cleanpipe.signals import merge_collected
from cleanpipe.tokens import EstimateStats


def _source_report(
    source: str,
    map_stats: list[dict[str, Any]],
    route_stats: list[dict[str, Any]],
    plan: MixturePlan,
    shard_stats: list[dict[str, Any]],
    collected: dict[str, Any],
) -> dict[str, Any]:
    mine = [s for s in map_stats if s["source"] == source]
    read: Counter = Counter()
    for s in mine:
        read.update(s["read"])
    read_rejects = {k: v for k, v in read.items() if k.startswith("read:")}
    funnel = [{"step": "read", "docs": read["documents"], "dropped": read_rejects}]
    stage_totals: dict[str, dict[str, Any]] = {}
    for s in mine:
        for st in s["stages"]:
            total = stage_totals.setdefault(
                st["stage"],
                {
                    "stage": st["stage"],
                    "in": 0,
                    "out": 0,
                    "modified": 0,
                    "seconds": 0.0,
                    "dropped": Counter(),
                    "dropped_chars": Counter(),
                    "would_drop": Counter(),
                },
            )
            for key in ("in", "out", "modified", "seconds"):
                total[key] += st[key]
            for key in ("dropped", "dropped_chars", "would_drop"):
                total[key].update(st[key])
    stages = []
    for total in stage_totals.values():
        total = {
            k: dict(sorted(v.items())) if isinstance(v, Counter) else v for k, v in total.items()
        }
        total["seconds"] = round(total["seconds"], 3)
        stages.append(total)
        funnel.append({"step": total["stage"], "docs": total["out"], "dropped": total["dropped"]})
    staged_docs = sum(s["kept"].get("docs", 0) for s in mine)
    removed: Counter = Counter()
    for r in route_stats:
        if r["task"].split("/")[0] == source:
            removed.update(r["removed"])
    duplicates = sum(removed.values())
    funnel.append(
        {
            "step": "dedup",
            "docs": staged_docs - duplicates,
            "dropped": dict(sorted(removed.items())),
        }
    )
    dropped: Counter = Counter(read_rejects)
    for st in stages:
        dropped.update(st["dropped"])
    sp = plan.sources[source]
    out_docs = sum(sh["sources"].get(source, {}).get("docs", 0) for sh in shard_stats)
    out_tokens = sum(sh["sources"].get(source, {}).get("tokens", 0) for sh in shard_stats)
    kept = staged_docs - duplicates
    input_docs = read["records"]
    estimate = EstimateStats()
    for s in mine:
        if s.get("token_estimate"):
            estimate.merge(s["token_estimate"])
    extra: dict[str, Counter] = {}
    for s in mine:
        for stage, values in s.get("stage_extra", {}).items():
            extra.setdefault(stage, Counter()).update(values)
    return {
        "input_docs": input_docs,
        "funnel": funnel,
        "stages": stages,
        "stage_extra": {k: dict(sorted(v.items())) for k, v in extra.items()},
        "pii": dict(sorted(extra["pii"].items())) if "pii" in extra else None,
        "dropped": dict(sorted(dropped.items())),
        "duplicates_removed": duplicates,
        "kept_docs": kept,
        "tokens_staged": sum(s["kept"].get("tokens", 0) for s in mine),
        "tokens_available": sp.available_tokens,
        "target_share": round(sp.weight, 6),
        "epochs": round(sp.epochs, 4),
        "max_epochs": sp.max_epochs,
        "output_docs": out_docs,
        "output_tokens": out_tokens,
        "token_estimate": estimate.summary() if estimate.calibration_docs else None,
        "languages": collected["languages"],
        "signals": collected["signals"],
        "examples": collected["examples"],
        "accounting": {
            "input": input_docs,
            "kept": kept,
            "dropped": sum(dropped.values()),
            "duplicates": duplicates,
            "balanced": input_docs == kept + sum(dropped.values()) + duplicates,
        },
    }


def build_report(
    config: Config,
    map_stats: list[dict[str, Any]],
    dedup_info: dict[str, Any],
    plan: MixturePlan,
    route_stats: list[dict[str, Any]],
    shard_stats: list[dict[str, Any]],
    manifest: dict[str, Any],
    collected: Callable[[str], Iterable[tuple[dict[str, Any], pa.Table]]],
) -> dict[str, Any]:
    """The machine-readable report (keys documented in README "report.json").

    ``collected(source)`` yields what the source's map tasks collected (languages, examples
    and the signal sample table), one task at a time: they are folded as they come (see
    :func:`cleanpipe.signals.merge_collected`).
    """
    sources = {
        s: _source_report(
            s, map_stats, route_stats, plan, shard_stats, merge_collected(collected(s))
        )
        for s in sorted(config.sources)
    }
    total_tokens = sum(s["output_tokens"] for s in sources.values())
    warnings = list(plan.warnings)
    warnings += [
        f"source {name!r}: input {s['accounting']['input']:,} != kept + dropped + duplicates"
        for name, s in sources.items()
        if not s["accounting"]["balanced"]
    ]
    for s in sources.values():
        s["achieved_share"] = round(s["output_tokens"] / total_tokens, 6) if total_tokens else 0.0
    return {
        "run": {
            "seed": config.seed,
            "tokenizer": config.mixture.tokenizer,
            "token_counting": config.mixture.token_counting,
            "warnings": warnings,
            "total_tokens": total_tokens,
            "total_docs": sum(s["output_docs"] for s in sources.values()),
            "budget_tokens": round(plan.budget_tokens),
            "budget_rule": plan.budget_rule,
            "shards_written": len(shard_stats),
            "shards": shard_stats,
            "config_fingerprint": manifest["config_fingerprint"],
            "cleanpipe_version": manifest["cleanpipe_version"],
        },
        "sources": sources,
        "dedup": dedup_info,
        "accounting_ok": all(s["accounting"]["balanced"] for s in sources.values()),
    }


def write_reports(report: dict[str, Any], root: str) -> None:
    """report.json for machines; report.md and a self-contained report.html for people."""
    from cleanpipe.report_html import render_html
    from cleanpipe.report_render import render_markdown

    write_json_atomic(report, fs.join(root, "report.json"))
    write_text_atomic(render_markdown(report), fs.join(root, "report.md"))
    write_text_atomic(render_html(report), fs.join(root, "report.html"))


def load_report(root: str) -> dict[str, Any]:
    """report.json of a run's output folder (a path or URI), or that file itself."""
    path = fs.join(root, "report.json") if fs.isdir(root) else root
    return json.loads(fs.read_text(path))


def print_report(report: dict[str, Any], console: Console | None = None) -> None:
    """Funnel per source and the mixture table, as rich tables."""
    console = console or Console()
    run = report["run"]
    console.print(
        f"[bold]{run['total_docs']:,} documents, {run['total_tokens']:,} tokens[/bold] "
        f"({run['tokenizer']}) in {run['shards_written']} shard(s); seed {run['seed']}; "
        f"budget {run['budget_tokens']:,} tokens ({run['budget_rule']})"
    )
    funnel = Table(title="Funnel: documents after each step")
    funnel.add_column("source")
    funnel.add_column("input", justify="right")
    funnel.add_column("step")
    funnel.add_column("docs after", justify="right")
    funnel.add_column("dropped (by reason)")
    for name, src in report["sources"].items():
        first = True
        for step in src["funnel"]:
            reasons = ", ".join(f"{k.split(':', 1)[1]} {v:,}" for k, v in step["dropped"].items())
            funnel.add_row(
                name if first else "",
                f"{src['input_docs']:,}" if first else "",
                step["step"],
                f"{step['docs']:,}",
                reasons,
            )
            first = False
        funnel.add_section()
    console.print(funnel)
    mix = Table(title="Mixture: target vs achieved (by tokens)")
    for col in (
        "source",
        "available tokens",
        "target",
        "achieved",
        "epochs",
        "output docs",
        "accounting",
    ):
        mix.add_column(col, justify="left" if col == "source" else "right")
    for name, src in report["sources"].items():
        acc = src["accounting"]
        epochs = f"{src['epochs']:.2f}"
        if src["epochs"] > 4:
            epochs = f"[red]{epochs} (>4)[/red]"
        mix.add_row(
            name,
            f"{src['tokens_available']:,}",
            f"{src['target_share']:.1%}",
            f"{src['achieved_share']:.1%}",
            epochs,
            f"{src['output_docs']:,}",
            "ok" if acc["balanced"] else "[red]MISMATCH[/red]",
        )
    console.print(mix)
    if report.get("dedup", {}).get("enabled"):
        d = report["dedup"]
        console.print(f"dedup: {json.dumps({k: v for k, v in d.items() if k != 'examples'})}")


def print_plan(plan: MixturePlan, basis: str, console: Console | None = None) -> None:
    """The mixture plan as a table: tokens available, target, epochs, warnings."""
    console = console or Console()
    console.print(f"plan from {basis}")
    console.print(f"budget: {plan.budget_tokens:,.0f} tokens ({plan.budget_rule})")
    table = Table()
    for col in (
        "source",
        "docs",
        "available tokens",
        "share",
        "target tokens",
        "epochs",
        "max epochs",
    ):
        table.add_column(col, justify="left" if col == "source" else "right")
    for name, p in plan.sources.items():
        epochs = f"{p.epochs:.2f}"
        if p.epochs > 4:
            epochs = f"[red]{epochs}[/red]"
        table.add_row(
            name,
            f"{p.available_docs:,}",
            f"{p.available_tokens:,}",
            f"{p.weight:.1%}",
            f"{p.target_tokens:,.0f}",
            epochs,
            f"{p.max_epochs:g}",
        )
    console.print(table)
    for warning in plan.warnings:
        console.print(f"[yellow]warning:[/yellow] {warning}")
