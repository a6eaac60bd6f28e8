"""report.html: the run report as one self-contained page.

Nothing is fetched when the page opens: the CSS is inline, the fonts are the reader's own and
the charts are inline SVG (:mod:`cleanpipe.report.svg`). Every piece of text from the report
is escaped. What each section shows comes from :mod:`cleanpipe.report.view`, shared with
report.md and the terminal.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import cleanpipe.report.details as details
import cleanpipe.report.svg as svg
import cleanpipe.report.thresholds as thresholds
import cleanpipe.report.view as view
from cleanpipe import mixture
from cleanpipe.report.svg import escape as _e
from cleanpipe.report.view import Report

_SANS = (
    'system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,'
    '"Noto Sans","Noto Sans CJK SC","Hiragino Sans","Microsoft YaHei",sans-serif'
)
_MONO = 'ui-monospace,SFMono-Regular,Menlo,Consolas,"DejaVu Sans Mono","Noto Sans Mono",monospace'
_CSS = f"""
:root{{--fg:#1d232a;--muted:#5f6b76;--line:#d9dee3;--soft:#f4f6f8;--ok:#1e7b3c;--bad:#b3261e}}
*{{box-sizing:border-box}}
body{{margin:0;color:var(--fg);background:#fff;font:14px/1.45 {_SANS}}}
main{{max-width:1340px;margin:0 auto;padding:24px 32px 56px}}
h1{{font-size:26px;margin:0}}
h2{{font-size:20px;margin:36px 0 6px;padding-bottom:4px;border-bottom:2px solid var(--line)}}
h3{{font-size:15px;margin:18px 0 6px}}
p{{margin:6px 0}}
.muted,.note{{color:var(--muted)}} .note{{font-size:13px;margin:4px 0 10px}}
code,.mono{{font-family:{_MONO};font-size:12.5px}}
nav.toc{{margin:14px 0 0;font-size:13px}}
nav.toc a{{color:#1f5fa8;text-decoration:none;margin-right:14px;white-space:nowrap}}
.kpis{{display:grid;grid-template-columns:repeat(auto-fill,minmax(160px,1fr));gap:8px;
 margin:16px 0}}
.kpi{{border:1px solid var(--line);border-radius:6px;padding:8px 12px;background:var(--soft)}}
.kpi .k{{font-size:11px;color:var(--muted);text-transform:uppercase;letter-spacing:.05em}}
.kpi .v{{font-size:17px;font-weight:600;font-variant-numeric:tabular-nums;
 overflow-wrap:anywhere}}
.badge{{display:inline-block;padding:1px 9px;border-radius:999px;font-size:12px;
 font-weight:700;color:#fff;letter-spacing:.03em;vertical-align:1px}}
.badge.ok{{background:var(--ok)}} .badge.bad{{background:var(--bad)}}
.badge.na{{background:var(--muted)}}
.failed{{border:2px solid var(--bad);background:#fdecea;padding:10px 14px;margin:14px 0;
 border-radius:6px;font-size:15px;overflow-wrap:anywhere}}
.warn{{border-left:4px solid #d98e04;background:#fff5dc;padding:7px 12px;margin:6px 0;
 border-radius:0 4px 4px 0}}
.warn.bad{{border-color:var(--bad);background:#fdecea}}
.warn.info{{border-color:#1f5fa8;background:#eaf2fb}}
.warn ul{{margin:4px 0 0;padding-left:20px}}
table{{border-collapse:collapse;margin:6px 0 10px;font-variant-numeric:tabular-nums}}
th,td{{padding:4px 10px;border-bottom:1px solid var(--line);text-align:left;
 vertical-align:top;overflow-wrap:anywhere}}
th{{background:var(--soft);font-weight:600;font-size:13px;overflow-wrap:normal}}
td.n,th.n{{text-align:right}} td.n{{white-space:nowrap}}
tr.bad td{{background:#fdecea}} tr.kept td{{background:#eef7f0}}
.sw{{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:5px}}
.card{{border:1px solid var(--line);border-radius:6px;padding:10px 16px 8px;margin:12px 0;
 break-inside:avoid}}
.card h3{{margin-top:4px}}
.split{{display:grid;grid-template-columns:minmax(0,1fr) 280px;gap:8px 20px;
 align-items:start}}
.split>div{{min-width:0;overflow-x:auto}}
.legend{{display:flex;flex-wrap:wrap;gap:4px 18px;margin:2px 0 12px;font-size:12.5px}}
.legend .lg{{display:flex;flex-wrap:wrap;gap:2px 10px;align-items:center}}
.legend b{{font-weight:600;margin-right:2px}} .legend .li{{white-space:nowrap}}
.rs,.split td:first-child{{white-space:nowrap}}
.pair{{display:grid;grid-template-columns:repeat(2,minmax(0,1fr));gap:8px 32px}}
.hists{{display:flex;flex-wrap:wrap;gap:10px 18px}}
.hist{{font-size:12px}} .hist .t{{font-weight:600}} .hist .s{{color:var(--muted)}}
.reason{{margin:10px 0 4px}} .nw{{white-space:nowrap}}
.row{{display:flex;flex-wrap:wrap;gap:8px 40px;align-items:flex-start}}
.exgrid{{display:grid;grid-template-columns:repeat(3,minmax(0,1fr));gap:8px}}
.ex{{border:1px solid var(--line);border-radius:4px;background:var(--soft);min-width:0}}
.ex .id{{font-size:12px;color:var(--muted);padding:3px 8px;border-bottom:1px solid var(--line);
 overflow-wrap:anywhere}}
.ex pre{{margin:0;padding:6px 8px;white-space:pre-wrap;overflow-wrap:anywhere;
 font:12px/1.4 {_MONO}}}
svg.chart{{display:block;max-width:100%;height:auto;margin:6px 0}}
.split table{{font-size:13px}} .split th,.split td{{padding:3px 6px}}
svg.chart text{{font-size:12px;fill:#1d232a}}
svg.chart text.v{{fill:#3b4650}} svg.chart text.small{{font-size:10.5px;fill:#5f6b76}}
svg.chart text.in{{fill:#fff;font-size:11px;font-weight:600}}
svg.chart text.warn{{fill:#c0392b}}
@media (max-width:1100px){{.split,.pair{{grid-template-columns:1fr}}
 .exgrid{{grid-template-columns:1fr}}}}
@media print{{
 main{{max-width:none;padding:0}} nav.toc{{display:none}}
 .split,.pair{{grid-template-columns:1fr}} .exgrid{{grid-template-columns:1fr 1fr}}
 .card,.ex,table,svg.chart,.warn{{break-inside:avoid}} h2,h3{{break-after:avoid}}
 .kpi,.badge,.warn,tr.bad td,th,.sw,svg.chart{{print-color-adjust:exact;
  -webkit-print-color-adjust:exact}}
}}
"""


def _table(
    head: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    numeric: Iterable[int] = (),
    row_classes: Sequence[str] | None = None,
    raw: Iterable[int] = (),
) -> str:
    """An HTML table; cells are escaped unless their column index is in ``raw``."""
    num, raw = set(numeric), set(raw)
    out = ["<table><thead><tr>"]
    out += [f"<th{' class=n' if i in num else ''}>{_e(h)}</th>" for i, h in enumerate(head)]
    out.append("</tr></thead><tbody>")
    for r, row in enumerate(rows):
        cls = row_classes[r] if row_classes and row_classes[r] else ""
        out.append(f'<tr class="{cls}">' if cls else "<tr>")
        for i, cell in enumerate(row):
            klass = ' class="n"' if i in num else ""
            out.append(f"<td{klass}>{cell if i in raw else _e(cell)}</td>")
        out.append("</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def _badge(ok: bool | None) -> str:
    if ok is None:
        return '<span class="badge na">INCOMPLETE</span>'
    return '<span class="badge ok">OK</span>' if ok else '<span class="badge bad">MISMATCH</span>'


def _swatch(color: str) -> str:
    return f'<span class="sw" style="background:{color}"></span>'


_DEDUP_GREYS = ("#8d99a6", "#5f6b76", "#b4bcc5", "#46505a")


def reason_colors(report: Report) -> dict[str, str]:
    """One colour per drop reason, the same in every chart and table of the page and
    different from every other reason's (``svg.distinct_colors``), assigned in pipeline order;
    greys for duplicates, green for kept."""
    reasons = view.reason_order(report)
    rules = [r for r in reasons if not r.startswith("dedup:")]
    colors = dict(zip(rules, svg.distinct_colors(len(rules)), strict=True))
    dedup = [r for r in reasons if r.startswith("dedup:")]
    for extra in ("dedup:url", "dedup:exact", "dedup:near"):
        if extra not in dedup:
            dedup.append(extra)
    colors.update(
        {r: _DEDUP_GREYS[i % len(_DEDUP_GREYS)] for i, r in enumerate(sorted(set(dedup)))}
    )
    colors.update({"kept": svg.KEPT, "dedup:duplicate": svg.DUP})
    return colors


def _html_header(report: Report) -> str:
    kpis = [(_e(k), _e(v)) for k, v in view.summary_rows(report)]
    kpis.append(("accounting", _badge(view.accounting_ok(report))))
    cards = "".join(
        f'<div class="kpi"><div class="k">{k}</div><div class="v">{v}</div></div>' for k, v in kpis
    )
    error = view.run_error(report)
    failed = (
        '<div class="failed" role="alert"><strong>Run failed.</strong> '
        f'<span class="mono">{_e(error)}</span><br><span class="muted">Below is what the run '
        "got to before it failed; a dash marks a number it did not get to.</span></div>"
        if error is not None
        else ""
    )
    warnings = "".join(f'<div class="warn">{_e(w)}</div>' for w in view.run_warnings(report))
    notes = "".join(f'<div class="warn info">{_e(n)}</div>' for n in view.notes(report))
    return (
        "<header><h1>cleanpipe run report"
        + (' <span class="badge bad">FAILED</span>' if error is not None else "")
        + f'</h1><p class="muted">{_e(view.subtitle(report))}</p>{failed}'
        f'<div class="kpis">{cards}</div>{warnings}{notes}</header>'
    )


def _reason_cell(step: str, dropped: Mapping[str, int], colors: Mapping[str, str]) -> str:
    """A step's drop reasons, each with its colour swatch and count; the step's own name is
    left off the rule (the row says it; the full name is the tooltip)."""
    return "<br>".join(
        f'<span class="rs" title="{_e(k)}">{_swatch(colors.get(k, svg.BAR))}'
        f"<code>{_e(view.short_reason(k, step))}</code> {v:,}</span>"
        for k, v in dropped.items()
        if v
    )


def _funnel_card(name: str, src: Mapping[str, Any], colors: Mapping[str, str]) -> str:
    steps = view.funnel_steps(src)
    any_modified = any(st.modified for st in steps)
    rows = []
    for st, numbers in zip(steps, view.funnel_numbers(steps), strict=True):
        reasons = _reason_cell(st.step, st.dropped, colors)
        if any(st.would_drop.values()):
            would = _e(view.reasons_text(st.would_drop))
            reasons += ("<br>" if reasons else "") + (
                f'<span class="muted">would drop (annotate only): {would}</span>'
            )
        row = [st.step, *numbers, reasons]
        if any_modified:
            row.append(f"{st.modified:,}" if st.modified else "")
        row.append(f"{st.seconds:.2f}" if isinstance(st.seconds, int | float) else "")
        rows.append(row)
    head = [*view.FUNNEL_HEAD, *(["modified"] if any_modified else []), "seconds"]
    reasons_at = len(view.FUNNEL_HEAD) - 1
    n_in = steps[0].docs
    chars_read = next((st.chars for st in steps if st.chars is not None), None)
    if chars_read:
        chart = svg.paired_bars(
            [
                (
                    st.step,
                    st.docs / n_in if n_in else 0.0,
                    st.chars / chars_read if st.chars is not None else None,
                )
                for st in steps
            ],
            label=f"{name}: documents and characters left after each step",
            names=("docs", "chars"),
            width=280,
        )
    else:
        chart = svg.bar_chart(
            [(st.step, st.docs) for st in steps],
            label=f"{name}: documents after each step",
            width=280,
            colors=[svg.KEPT if i == len(steps) - 1 else svg.BAR for i in range(len(steps))],
        )
    numeric = [*range(1, reasons_at), *range(reasons_at + 1, len(head))]
    table = _table(head, rows, numeric=numeric, raw=[reasons_at])
    note = view.funnel_note(src)
    return (
        f'<div class="card" id="funnel-{_e(name)}"><h3>{_e(name)}</h3>'
        f'<div class="split"><div>{table}'
        + (f'<p class="note">{_e(note)}</p>' if note else "")
        + f"</div><div>{chart}</div></div></div>"
    )


def _legend(report: Report, colors: Mapping[str, str]) -> str:
    """The colours of the funnel chart, grouped by stage in pipeline order."""
    counts: dict[str, int] = {}
    for src in view.sources_of(report).values():
        for reason, n in view.destinations(src):
            counts[reason] = counts.get(reason, 0) + n
    order = ["kept", *(r for r in view.reason_order(report) if counts.get(r))]
    order += [r for r in counts if r not in order and counts[r]]
    groups: list[tuple[str, list[str]]] = []
    for reason in order:
        stage, _, rule = reason.partition(":")
        if not rule:
            stage, rule = "", reason
        if not groups or groups[-1][0] != stage:
            groups.append((stage, []))
        groups[-1][1].append(
            f'<span class="li" title="{_e(reason)}">{_swatch(colors.get(reason, svg.BAR))}'
            f"{_e(rule)}</span>"
        )
    return (
        '<div class="legend" aria-label="legend">'
        + "".join(
            f'<div class="lg">{f"<b>{_e(stage)}</b>" if stage else ""}{"".join(items)}</div>'
            for stage, items in groups
        )
        + "</div>"
    )


def _html_funnel(report: Report, colors: Mapping[str, str]) -> str:
    sources = view.sources_of(report)
    overview = svg.stacked_bars(
        [(name, view.destinations(src)) for name, src in sources.items()],
        label="Where each source's input documents went",
        colors=colors,
        legend=False,
    )
    cards = "".join(_funnel_card(name, src, colors) for name, src in sources.items())
    return (
        '<section id="funnel"><h2>Funnel: what happened to the documents</h2>'
        '<p class="note">Share of each source\'s input documents that was kept, dropped (by '
        "reason, in pipeline order) or removed as a duplicate; the number is the input count. "
        "Each reason has its own colour; hover a segment for its count. Below, per source, "
        "documents, characters and tokens after each step; <em>chars kept</em> is the share "
        f"of the characters read that is left.</p>{overview}"
        f"{_legend(report, colors)}{cards}</section>"
    )


def _html_mixture(report: Report) -> str:
    sources = view.sources_of(report)
    if not view.has_mixture(report):
        return (
            '<section id="mixture"><h2>Mixture: target vs achieved</h2>'
            '<p class="muted">The run did not get as far as planning the mixture.</p></section>'
        )
    warnings = "".join(
        f'<div class="warn bad"><strong>Epoch warning.</strong> {_e(w)}</div>'
        for w in (view.epoch_warning(name, src) for name, src in sources.items())
        if w
    )
    shares = svg.paired_bars(
        [
            (name, view.opt_num(src.get("target_share")), view.opt_num(src.get("achieved_share")))
            for name, src in sources.items()
        ],
        label="Target vs achieved share per source",
        width=520,
    )
    epochs = [(name, view.num(src.get("epochs"))) for name, src in sources.items()]
    epoch_chart = svg.bar_chart(
        epochs,
        label="Epochs per source",
        width=520,
        fmt=lambda v: f"{v:.2f}",
        colors=[svg.WARN if view.over_epoch_warning(e) else svg.BAR for _, e in epochs],
        marker=mixture.EPOCH_WARNING,
        marker_label=f"{mixture.EPOCH_WARNING:g} epochs",
    )
    rows = view.mixture_rows(report)
    table = _table(
        view.MIXTURE_HEAD,
        [row for row, _ in rows],
        numeric=range(1, len(view.MIXTURE_HEAD)),
        row_classes=["bad" if over else "" for _, over in rows],
    )
    return (
        '<section id="mixture"><h2>Mixture: target vs achieved</h2>'
        f'{warnings}<div class="pair"><div><h3>Share of the mixture, by tokens</h3>{shares}'
        f"</div><div><h3>Epochs: how often each source is repeated</h3>{epoch_chart}</div>"
        f'</div>{table}<p class="note">Epochs = planned tokens of a source / its tokens '
        f"available after filtering and dedup. {_e(view.MUENNIGHOFF)}.</p>"
        + (f'<p class="note">{_e(note)}</p>' if (note := view.token_estimate_note(report)) else "")
        + "</section>"
    )


def _html_languages(report: Report) -> str:
    sources = {n: s for n, s in view.sources_of(report).items() if s.get("languages")}
    if not sources:
        return ""
    langs = {name: details.top_languages(src) for name, src in sources.items()}
    totals: dict[str, int] = {}
    for rows in langs.values():
        for lang, n in rows:
            totals[lang] = totals.get(lang, 0) + n
    order = sorted(totals, key=lambda k: -totals[k])
    colors = {lang: svg.PALETTE[(i + 3) % len(svg.PALETTE)] for i, lang in enumerate(order)}
    colors.update({lang: "#c3cad2" for lang in order if lang.startswith("other")})
    colors.update({lang: svg.DUP for lang in order if lang == "unknown"})
    if order and order[0] not in ("unknown",) and not order[0].startswith("other"):
        colors[order[0]] = svg.ACHIEVED
    chart = svg.stacked_bars(list(langs.items()), label="Languages per source", colors=colors)
    table = _table(["source", "documents", "languages"], details.language_rows(report), numeric=[1])
    return (
        '<section id="languages"><h2>Languages</h2>'
        '<p class="note">Documents per language as language ID saw them (before any were '
        f"dropped), per source; the number is the total.</p>{chart}{table}</section>"
    )


def _html_signals(report: Report) -> str:
    signals = details.signal_values(report)
    if not signals:
        return ""
    cards = []
    for signal, per_source in signals.items():
        lo, hi = svg.shared_range(per_source.values())
        cells = []
        for name, values in per_source.items():
            st = details.signal_stats(values)
            hist = svg.histogram(values, label=f"{signal} in {name}", lo=lo, hi=hi)
            cells.append(
                f'<div class="hist"><div class="t">{_e(name)}</div>{hist}'
                f'<div class="s">n {st["n"]:,} · median {st["median"]:.3g} · '
                f"p10–p90 {st['p10']:.3g}–{st['p90']:.3g}</div></div>"
            )
        cards.append(
            f'<div class="card"><h3><code>{_e(signal)}</code></h3>'
            f'<div class="hists">{"".join(cells)}</div></div>'
        )
    return (
        '<section id="signals"><h2>Quality signals</h2>'
        '<p class="note">Distribution of each signal the filters measured, over the documents '
        "that reached the stage, kept and dropped (a sample of at most 2,000 per source). The "
        "histograms of one signal share their x-axis; the dark tick is the median.</p>"
        f"{''.join(cards)}</section>"
    )


def _html_thresholds(report: Report) -> str:
    tables = thresholds.threshold_tables(report)
    if not tables:
        return ""
    cards = [
        f'<div class="card"><h3>{_e(thresholds.caption(name, table))}</h3>'
        f"{_table(thresholds.HEADER, thresholds.threshold_rows(table), numeric=range(1, 4))}"
        "</div>"
        for name, table in tables.items()
    ]
    return (
        '<section id="thresholds"><h2>Classifier thresholds</h2>'
        f'<p class="note">{_e(thresholds.NOTE)}</p>{"".join(cards)}</section>'
    )


def _html_pii(report: Report) -> str:
    kinds, per_source = details.pii_counts(report)
    if not per_source:
        return ""
    rows = [[name] + [f"{c.get(k, 0):,}" for k in kinds] for name, c in per_source.items()]
    table = _table(["source", *kinds], rows, numeric=range(1, len(kinds) + 1))
    return (
        '<section id="pii"><h2>PII replaced</h2><p class="note">Matches replaced by their '
        f"token (e.g. <code>&lt;EMAIL_ADDRESS&gt;</code>), per kind.</p>{table}</section>"
    )


def _html_decontamination(report: Report) -> str:
    tables = details.decontamination_tables(report)
    parts = [
        f"<h3>{_e(stem)}</h3>"
        + _table(list(details.DECONTAMINATION_HEAD), rows, numeric=range(1, 5))
        for stem, rows in tables
    ]
    if not parts:
        return ""
    note = f'<p class="note">{_e(details.DECONTAMINATION_NOTE)}</p>'
    return f'<section id="decontamination"><h2>Decontamination</h2>{note}{"".join(parts)}</section>'


def _html_dedup(report: Report) -> str:
    dedup = details.dedup_results(report)
    if dedup is None:
        return (
            '<section id="dedup"><h2>Deduplication</h2>'
            f'<p class="muted">{_e(details.dedup_off(report))}</p></section>'
        )
    scalars, tables, examples, other = details.dedup_parts(dedup)
    out = ['<section id="dedup"><h2>Deduplication</h2>']
    if scalars:
        rows = [[details.key_label(k), view.fmt(v)] for k, v in scalars]
        out.append(_table(["dedup", "value"], rows, numeric=[1]))
    for key, rows in tables:
        table = _table(
            [details.dedup_key_header(key), "count"],
            [[k, view.fmt(v)] for k, v in rows],
            numeric=[1],
        )
        numbers = [(str(k), float(v)) for k, v in rows if isinstance(v, int | float)]
        chart = svg.bar_chart(numbers, label=details.key_label(key), width=360) if numbers else ""
        out.append(
            f'<div class="card"><h3>{_e(details.key_label(key))}</h3>'
            f'<div class="row"><div>{table}</div><div>{chart}</div></div></div>'
        )
    if examples:
        out.append(
            '<h3>Example clusters</h3><p class="note">One document of each cluster is kept '
            "(marked, listed first); the others are removed as its duplicates.</p>"
        )
        for i, raw in enumerate(examples, 1):
            cluster = details.example_cluster(raw)
            out.append(f'<p class="muted">cluster {i} · {_e(cluster.caption)}</p>')
            rows = [
                ['<span class="badge ok">kept</span>' if r[0] == "kept" else _e(r[0])]
                + [_e(c) for c in r[1:]]
                for r in cluster.rows
            ]
            classes = ["kept" if r[0] == "kept" else "" for r in cluster.rows]
            out.append(_table(details.CLUSTER_HEAD, rows, row_classes=classes, raw=range(4)))
    out += [f"<pre>{_e(line)}</pre>" for line in other]
    if (para := details.paragraph_tables(dedup)) is not None:
        out.append("<h3>Paragraph dedup (CCNet)</h3>")
        out.append(_table(details.PARAGRAPH_HEAD, para[0], numeric=range(1, 5)))
        if para[1]:
            out.append("<p>Most repeated units (one copy kept with <code>keep: first</code>):</p>")
            out.append(_table(details.REPEATED_HEAD, para[1], numeric=[0]))
    out.append("</section>")
    return "".join(out)


def _html_examples(report: Report, colors: Mapping[str, str]) -> str:
    cards = []
    for name, src in view.sources_of(report).items():
        reasons = details.rejected_examples(src)
        if not reasons:
            continue
        parts = [f'<div class="card"><h3>{_e(name)}</h3>']
        for reason, items in reasons:
            parts.append(
                f'<p class="reason">{_swatch(colors.get(reason, svg.BAR))}<code>{_e(reason)}</code>'
                '</p><div class="exgrid">'
            )
            parts += [
                f'<div class="ex"><div class="id">{_e(doc_id)}</div><pre>{_e(text)}</pre></div>'
                for doc_id, text in items
            ]
            parts.append("</div>")
        parts.append("</div>")
        cards.append("".join(parts))
    if not cards:
        return ""
    return (
        '<section id="examples"><h2>Rejected examples</h2>'
        f'<p class="note">{_e(details.EXAMPLES_NOTE)}</p>{"".join(cards)}</section>'
    )


def _html_accounting(report: Report) -> str:
    columns = view.accounting_columns(report)
    rows, classes, problems = [], [], []
    for name, src in view.sources_of(report).items():
        counts = view.accounting_counts(src)
        ok = view.balance(src).balanced
        identity = f'<span class="mono">{_e(view.identity_text(src))}</span>'
        rows.append(
            [_e(name), *(_e(view.fmt_int(counts[k])) for k, _ in columns), identity, _badge(ok)]
        )
        classes.append("" if ok else "bad")
        problems += [
            f"<li><strong>{_e(name)}:</strong> {_e(p)}</li>" for p in view.accounting_problems(src)
        ]
    head = ["source", *(label for _, label in columns), "identity", ""]
    table = _table(
        head,
        rows,
        numeric=range(1, len(columns) + 1),
        row_classes=classes,
        raw=range(len(head)),
    )
    found = (
        f'<div class="warn bad"><strong>Problems found</strong><ul>{"".join(problems)}</ul></div>'
    )
    return (
        '<section id="accounting"><h2>Accounting</h2>'
        f'<p class="note">{_e(view.ACCOUNTING_NOTE)}</p>{table}'
        + (found if problems else "")
        + "</section>"
    )


def _html_shards(report: Report) -> str:
    rows = view.shard_rows(report)
    if not rows:
        return ""
    table = _table(["file", "rows", "tokens", "MB"], rows, numeric=[1, 2, 3])
    return f'<section id="shards"><h2>Shards</h2>{table}</section>'


def render_html(report: Report, *, title: str = "cleanpipe run report") -> str:
    """The report as one self-contained HTML page (inline CSS and SVG; nothing fetched)."""
    colors = reason_colors(report)
    sections = [
        ("funnel", "Funnel", _html_funnel(report, colors)),
        ("mixture", "Mixture", _html_mixture(report)),
        ("languages", "Languages", _html_languages(report)),
        ("signals", "Quality signals", _html_signals(report)),
        ("thresholds", "Classifier thresholds", _html_thresholds(report)),
        ("pii", "PII", _html_pii(report)),
        ("decontamination", "Decontamination", _html_decontamination(report)),
        ("dedup", "Dedup", _html_dedup(report)),
        ("examples", "Rejected examples", _html_examples(report, colors)),
        ("accounting", "Accounting", _html_accounting(report)),
        ("shards", "Shards", _html_shards(report)),
    ]
    toc = "".join(f'<a href="#{key}">{_e(name)}</a>' for key, name, body in sections if body)
    body = "".join(body for _, _, body in sections)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body><main>"
        f'{_html_header(report)}<nav class="toc">{toc}</nav>{body}'
        "</main></body></html>\n"
    )
