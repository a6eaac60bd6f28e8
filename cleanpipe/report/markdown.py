"""report.md: the run report as Markdown, the same sections as report.html with tables
instead of charts (what each section shows comes from :mod:`cleanpipe.report.view`)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import cleanpipe.report.details as details
import cleanpipe.report.thresholds as thresholds
import cleanpipe.report.view as view
from cleanpipe.report.view import Report


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
    out = ["# cleanpipe run report", "", view.subtitle(report), ""]
    error = view.run_error(report)
    if error is not None:
        out += [f"> **Run failed:** {_md_cell(error)}", ""]
        out += ["> What the run got to before it failed follows; missing numbers are –.", ""]
    summary = view.summary_rows(report) + [
        ("accounting", _accounting_word(view.accounting_ok(report)))
    ]
    out += [_md_table(["run", "value"], summary), ""]
    for w in view.run_warnings(report):
        out += [f"> **Warning:** {_md_cell(w)}", ""]
    for n in view.notes(report):
        out += [f"> **Note:** {_md_cell(n)}", ""]
    return out


def _md_funnel(report: Report) -> list[str]:
    out = ["## Funnel: what happened to the documents", ""]
    rows = []
    for name, src in view.sources_of(report).items():
        dest = view.destinations(src)
        total = sum(v for _, v in dest) or 1
        went = "; ".join(f"{k} {v:,} ({v / total:.1%})" for k, v in dest)
        rows.append([name, f"{total:,}", went])
    out += [_md_table(["source", "input", "where the documents went"], rows, [1]), ""]
    for name, src in view.sources_of(report).items():
        steps = view.funnel_steps(src)
        rows = []
        for st, numbers in zip(steps, view.funnel_numbers(steps), strict=True):
            reasons = view.reasons_text(st.dropped)
            if any(st.would_drop.values()):
                would = "would drop (annotate only): " + view.reasons_text(st.would_drop)
                reasons = f"{reasons}; {would}" if reasons else would
            rows.append([st.step, *numbers, reasons])
        out += [f"### {name}", ""]
        out += [_md_table(view.FUNNEL_HEAD, rows, range(1, len(view.FUNNEL_HEAD) - 1)), ""]
        out += [view.CHARS_NOTE, ""] if any(st.chars is not None for st in steps) else []
        note = view.funnel_note(src)
        out += [note, ""] if note else []
    return out


def _md_mixture(report: Report) -> list[str]:
    out = ["## Mixture: target vs achieved", ""]
    if not view.has_mixture(report):
        return out + ["The run did not get as far as planning the mixture.", ""]
    for name, src in view.sources_of(report).items():
        warning = view.epoch_warning(name, src)
        if warning:
            out += [f"> **Epoch warning:** {_md_cell(warning)}", ""]
    rows = [row for row, _ in view.mixture_rows(report)]
    out += [_md_table(view.MIXTURE_HEAD, rows, range(1, len(view.MIXTURE_HEAD))), ""]
    out += [f"Epochs: how often a source is repeated. {view.MUENNIGHOFF}.", ""]
    note = view.token_estimate_note(report)
    return out + [note, ""] if note else out


def _md_languages(report: Report) -> list[str]:
    rows = details.language_rows(report)
    if not rows:
        return []
    return ["## Languages", "", _md_table(["source", "documents", "languages"], rows, [1]), ""]


def _md_signals(report: Report) -> list[str]:
    signals = details.signal_values(report)
    if not signals:
        return []
    rows = []
    for signal, per_source in signals.items():
        for name, values in per_source.items():
            st = details.signal_stats(values)
            rows.append(
                [signal, name, f"{st['n']:,}"]
                + [f"{st[k]:.4g}" for k in ("min", "p10", "median", "p90", "max")]
            )
    head = ["signal", "source", "n", "min", "p10", "median", "p90", "max"]
    return ["## Quality signals", "", _md_table(head, rows, range(2, 8)), ""]


def _md_thresholds(report: Report) -> list[str]:
    tables = thresholds.threshold_tables(report)
    if not tables:
        return []
    out = ["## Classifier thresholds", "", thresholds.NOTE, ""]
    for name, table in tables.items():
        rows = thresholds.threshold_rows(table)
        out += [f"{thresholds.caption(name, table)}:", ""]
        out += [_md_table(thresholds.HEADER, rows, [1, 2, 3]), ""]
    return out


def _md_pii(report: Report) -> list[str]:
    kinds, pii = details.pii_counts(report)
    if not pii:
        return []
    rows = [[name] + [f"{c.get(k, 0):,}" for k in kinds] for name, c in pii.items()]
    return [
        "## PII replaced",
        "",
        _md_table(["source", *kinds], rows, range(1, len(kinds) + 1)),
        "",
    ]


def _md_decontamination(report: Report) -> list[str]:
    tables = details.decontamination_tables(report)
    if not tables:
        return []
    out = ["## Decontamination", "", details.DECONTAMINATION_NOTE, ""]
    for stem, rows in tables:
        out += [f"### {stem}", "", _md_table(details.DECONTAMINATION_HEAD, rows, range(1, 5)), ""]
    return out


def _md_dedup(report: Report) -> list[str]:
    out = ["## Deduplication", ""]
    dedup = details.dedup_results(report)
    if dedup is None:
        return out + [details.dedup_off(report), ""]
    scalars, tables, examples, other = details.dedup_parts(dedup)
    if scalars:
        rows = [[details.key_label(k), view.fmt(v)] for k, v in scalars]
        out += [_md_table(["dedup", "value"], rows, [1]), ""]
    for key, rows in tables:
        out += [f"### {details.key_label(key)}", ""]
        out += [
            _md_table(
                [details.dedup_key_header(key), "count"], [[k, view.fmt(v)] for k, v in rows], [1]
            )
        ]
        out.append("")
    if examples:
        out += ["### Example clusters", ""]
        for i, raw in enumerate(examples, 1):
            cluster = details.example_cluster(raw)
            rows = [[f"**{r[0]}**" if r[0] == "kept" else r[0], *r[1:]] for r in cluster.rows]
            out += [f"Cluster {i} · {cluster.caption}:", ""]
            out += [_md_table(details.CLUSTER_HEAD, rows), ""]
    for line in other:
        out += [_md_fence(line), ""]
    if (para := details.paragraph_tables(dedup)) is not None:
        per_source, repeated = para
        out += [
            "### Paragraph dedup (CCNet)",
            "",
            _md_table(details.PARAGRAPH_HEAD, per_source, [1, 2, 3, 4]),
            "",
        ]
        if repeated:
            out += ["Most repeated units (one copy kept with `keep: first`):", ""]
            out += [_md_table(details.REPEATED_HEAD, repeated, [0]), ""]
    return out


def _md_examples(report: Report) -> list[str]:
    examples = {n: details.rejected_examples(s) for n, s in view.sources_of(report).items()}
    if not any(examples.values()):
        return []
    note = details.EXAMPLES_NOTE.replace("rejects/<source>/", "`rejects/<source>/`")
    out = ["## Rejected examples", "", note, ""]
    for name, reasons in examples.items():
        if reasons:
            out += [f"### {name}", ""]
        for reason, items in reasons:
            for doc_id, text in items:
                out += [f"{_md_cell(reason)} · {_md_cell(doc_id)}", "", _md_fence(text), ""]
    return out


def _md_accounting(report: Report) -> list[str]:
    columns = view.accounting_columns(report)
    rows, problems = [], []
    for name, src in view.sources_of(report).items():
        counts = view.accounting_counts(src)
        ok = view.balance(src).balanced
        rows.append(
            [name, *(view.fmt_int(counts[k]) for k, _ in columns), view.identity_text(src)]
            + ["OK" if ok else "MISMATCH"]
        )
        problems += [
            f"- **{_md_cell(name)}:** {_md_cell(p)}" for p in view.accounting_problems(src)
        ]
    head = ["source", *(label for _, label in columns), "input = kept + dropped + duplicates"]
    table = _md_table([*head, "status"], rows, range(1, len(columns) + 1))
    out = ["## Accounting", "", view.ACCOUNTING_NOTE, "", table, ""]
    return out + (["Problems found:", "", *problems, ""] if problems else [])


def _md_shards(report: Report) -> list[str]:
    rows = view.shard_rows(report)
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
        _md_thresholds,
        _md_pii,
        _md_decontamination,
        _md_dedup,
        _md_examples,
        _md_accounting,
        _md_shards,
    ):
        out += section(report)
    return "\n".join(out).rstrip() + "\n"
