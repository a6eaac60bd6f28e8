"""report.html: the run report as one self-contained page, charts as inline SVG.

Nothing is fetched when the page opens: the CSS is inline, the fonts are the reader's own and
the charts are drawn here. Every piece of text from the report is escaped. The content and
the shared logic (what a funnel row or a warning is) come from ``cleanpipe.report_render``.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from cleanpipe.report_render import (
    _MUENNIGHOFF,
    ACCOUNTING_NOTE,
    CLUSTER_HEAD,
    EPOCH_WARNING,
    EXAMPLES_NOTE,
    FUNNEL_HEAD,
    MIXTURE_HEAD,
    Report,
    _accounting,
    _accounting_columns,
    _accounting_counts,
    _accounting_ok,
    _accounting_problems,
    _cluster,
    _dedup_key_header,
    _dedup_off,
    _dedup_parts,
    _dedup_results,
    _destinations,
    _epoch_warning,
    _examples,
    _failed,
    _finite,
    _fmt,
    _funnel,
    _funnel_note,
    _funnel_numbers,
    _has_mixture,
    _identity,
    _int,
    _label,
    _language_rows,
    _languages,
    _mixture_rows,
    _notes,
    _num,
    _opt_num,
    _pct,
    _pii,
    _reason_order,
    _reasons_text,
    _shard_rows,
    _short_reason,
    _signal_stats,
    _signals,
    _sources,
    _subtitle,
    _summary,
    _token_estimate_note,
    _warnings,
)

# -- SVG charts ----------------------------------------------------------------------------

_KEPT = "#3d8b5a"
_DUP = "#8d99a6"
_PALETTE = (
    "#d55e00",
    "#e69f00",
    "#cc79a7",
    "#0072b2",
    "#56b4e9",
    "#b8a100",
    "#882255",
    "#44aa99",
    "#aa4499",
    "#6c4f9e",
)
_TARGET = "#a9c4e4"
_ACHIEVED = "#1f5fa8"
_BAR = "#3b6ea8"
_WARN = "#c0392b"
_CHAR_W = 6.8  # rough width of one 12 px character, to size label columns


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _oklch_hex(lightness: float, chroma: float, hue: float) -> str:
    """An OKLCH colour (Ottosson 2020) as sRGB hex; chroma is lowered until it is in gamut."""
    while True:
        a, b = chroma * math.cos(math.radians(hue)), chroma * math.sin(math.radians(hue))
        l_ = (lightness + 0.3963377774 * a + 0.2158037573 * b) ** 3
        m_ = (lightness - 0.1055613458 * a - 0.0638541728 * b) ** 3
        s_ = (lightness - 0.0894841775 * a - 1.2914855480 * b) ** 3
        rgb = (
            4.0767416621 * l_ - 3.3077115913 * m_ + 0.2309699292 * s_,
            -1.2684380046 * l_ + 2.6097574011 * m_ - 0.3413193965 * s_,
            -0.0041960863 * l_ - 0.7034186147 * m_ + 1.7076147010 * s_,
        )
        if all(-1e-4 <= c <= 1 + 1e-4 for c in rgb) or chroma <= 0:
            break
        chroma = max(0.0, chroma - 0.005)
    out = []
    for c in rgb:
        c = min(max(c, 0.0), 1.0)
        c = 12.92 * c if c <= 0.0031308 else 1.055 * c ** (1 / 2.4) - 0.055
        out.append(round(c * 255))
    return "#{:02x}{:02x}{:02x}".format(*out)


_LIGHTNESS = (0.50, 0.72, 0.61)
"""OKLCH lightness of successive drop-reason colours: neighbours differ in lightness too."""
_KEPT_HUE = 153.6
"""OKLCH hue of the kept green (#3d8b5a): reason colours keep clear of it (±_KEPT_GAP°)."""
_KEPT_GAP = 40.0


def distinct_colors(n: int) -> list[str]:
    """``n`` colours that differ from each other and from the kept green, the same for the
    same ``n``: hues evenly spaced (clear of the kept green's hue) and lightness alternating
    between three levels, so that neighbours differ in both."""
    span = 360.0 - 2 * _KEPT_GAP
    out = []
    for i in range(n):
        hue = (_KEPT_HUE + _KEPT_GAP + span * (i + 0.5) / max(n, 1)) % 360.0
        out.append(_oklch_hex(_LIGHTNESS[i % len(_LIGHTNESS)], 0.15, hue))
    return out


def _ink(color: str) -> str:
    """Text colour readable on ``color`` (a #rrggbb fill): white on dark, near-black on light."""
    r, g, b = (int(color[i : i + 2], 16) / 255 for i in (1, 3, 5))
    lum = 0.2126 * r**2.2 + 0.7152 * g**2.2 + 0.0722 * b**2.2
    return "#ffffff" if lum < 0.3 else "#1d232a"


def _label_width(labels: Iterable[str], cap: int = 240) -> int:
    return min(cap, int(max((len(s) for s in labels), default=4) * _CHAR_W) + 14)


def _svg(width: float, height: float, body: str, label: str) -> str:
    return (
        f'<svg class="chart" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" role="img" aria-label="{_e(label)}">'
        f"<title>{_e(label)}</title>{body}</svg>"
    )


def _text(x: float, y: float, text: str, anchor: str = "start", cls: str = "") -> str:
    c = f' class="{cls}"' if cls else ""
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}"{c}>{_e(text)}</text>'


def _rect(x: float, y: float, w: float, h: float, fill: str, tip: str = "") -> str:
    title = f"<title>{_e(tip)}</title>" if tip else ""
    return (
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(w, 0):.1f}" height="{h:.1f}" '
        f'fill="{fill}">{title}</rect>'
    )


def svg_bar_chart(
    rows: Sequence[tuple[str, float]],
    *,
    label: str,
    width: int = 560,
    fmt: Callable[[float], str] = _int,
    colors: Sequence[str] | None = None,
    marker: float | None = None,
    marker_label: str = "",
) -> str:
    """Horizontal bars, one per (label, value), with the value printed after the bar and an
    optional dashed vertical marker (a threshold) at ``marker``."""
    bar_h, gap, top = 18, 6, 18 if marker is not None else 4
    label_w = _label_width(r[0] for r in rows)
    value_w = 70
    plot_w = width - label_w - value_w
    scale = max([v for _, v in rows] + [marker or 0, 0]) or 1.0
    if marker is not None:
        scale *= 1.1  # room right of the marker for its label
    height = top + len(rows) * (bar_h + gap) + 2
    parts = []
    for i, (name, value) in enumerate(rows):
        y = top + i * (bar_h + gap)
        w = plot_w * max(value, 0) / scale
        fill = colors[i] if colors else _BAR
        parts.append(_text(label_w - 8, y + 13, name, "end"))
        parts.append(_rect(label_w, y, w, bar_h, fill, f"{name}: {fmt(value)}"))
        parts.append(_text(label_w + w + 4, y + 13, fmt(value), cls="v"))
    if marker is not None:
        x = label_w + plot_w * marker / scale
        parts.append(
            f'<line x1="{x:.1f}" y1="12" x2="{x:.1f}" y2="{height:.0f}" '
            f'stroke="{_WARN}" stroke-dasharray="4 3" stroke-width="1.5"/>'
        )
        parts.append(_text(x, 10, marker_label, "middle", "warn"))
    return _svg(width, height, "".join(parts), label)


def svg_paired_bars(
    rows: Sequence[tuple[str, float | None, float | None]],
    *,
    label: str,
    names: tuple[str, str] = ("target", "achieved"),
    width: int = 560,
    fmt: Callable[[float], str] = _pct,
) -> str:
    """Two thin bars per row (e.g. target and achieved share), with a legend on top; a value
    of None draws no bar (a dash)."""
    bar_h, gap, top = 11, 10, 24
    label_w = _label_width(r[0] for r in rows)
    value_w = 70
    plot_w = width - label_w - value_w
    scale = max([v for _, a, b in rows for v in (a, b) if v is not None] + [0]) or 1.0
    height = top + len(rows) * (2 * bar_h + 2 + gap)
    parts = [
        _rect(label_w, 4, 12, 12, _TARGET),
        _text(label_w + 16, 14, names[0]),
        _rect(label_w + 26 + len(names[0]) * _CHAR_W, 4, 12, 12, _ACHIEVED),
        _text(label_w + 42 + len(names[0]) * _CHAR_W, 14, names[1]),
    ]
    for i, (name, a, b) in enumerate(rows):
        y = top + i * (2 * bar_h + 2 + gap)
        parts.append(_text(label_w - 8, y + bar_h + 5, name, "end"))
        for j, (value, fill, what) in enumerate(((a, _TARGET, names[0]), (b, _ACHIEVED, names[1]))):
            yy = y + j * (bar_h + 2)
            if value is None:
                parts.append(_text(label_w + 4, yy + 10, "–", cls="v small"))
                continue
            w = plot_w * max(value, 0) / scale
            parts.append(_rect(label_w, yy, w, bar_h, fill, f"{name} {what}: {fmt(value)}"))
            parts.append(_text(label_w + w + 4, yy + 10, fmt(value), cls="v small"))
    return _svg(width, height, "".join(parts), label)


def svg_stacked_bars(
    rows: Sequence[tuple[str, Sequence[tuple[str, float]]]],
    *,
    label: str,
    colors: Mapping[str, str],
    width: int = 1000,
    legend: bool = True,
) -> str:
    """One 100 % bar per row, split into named segments (share of the row total), with the
    percentage inside wide segments, a tooltip per segment and (unless ``legend`` is false,
    when the page draws its own) a legend below."""
    bar_h, gap = 22, 8
    label_w = _label_width(r[0] for r in rows)
    total_w = 90
    plot_w = width - label_w - total_w
    parts = []
    seen: list[str] = []
    for i, (name, segments) in enumerate(rows):
        y = 4 + i * (bar_h + gap)
        total = sum(max(v, 0) for _, v in segments)
        parts.append(_text(label_w - 8, y + 15, name, "end"))
        x = float(label_w)
        for seg, value in segments:
            if value <= 0 or not total:
                continue
            if seg not in seen:
                seen.append(seg)
            w = plot_w * value / total
            share = value / total
            tip = f"{name} · {seg}: {value:,.0f} ({share:.1%})"
            fill = colors.get(seg, _BAR)
            parts.append(_rect(x, y, w, bar_h, fill, tip))
            if w >= 44:
                label_text = _text(x + w / 2, y + 15, f"{share:.0%}", "middle", "in")
                parts.append(label_text.replace("<text ", f'<text style="fill:{_ink(fill)}" ', 1))
            x += w
        parts.append(_text(label_w + plot_w + 6, y + 15, f"{total:,.0f}", cls="v"))
    # legend, wrapped over as many lines as it needs
    y = 4 + len(rows) * (bar_h + gap) + 6
    if not legend:
        return _svg(width, y - 6, "".join(parts), label)
    x = float(label_w)
    for seg in seen:
        item_w = 22 + len(seg) * _CHAR_W + 14
        if x + item_w > width:
            x, y = float(label_w), y + 18
        parts.append(_rect(x, y, 12, 12, colors.get(seg, _BAR)))
        parts.append(_text(x + 16, y + 10, seg))
        x += item_w
    return _svg(width, y + 18, "".join(parts), label)


def _count(n: int) -> str:
    return f"{n / 1000:.1f}k" if n >= 10_000 else f"{n:,}"


def _short(value: float) -> str:
    """Compact number for an axis label."""
    if value != 0 and (abs(value) >= 1e5 or abs(value) < 1e-3):
        return f"{value:.2g}"
    return f"{value:.3g}"


def svg_histogram(
    values: Sequence[float],
    *,
    label: str,
    lo: float | None = None,
    hi: float | None = None,
    bins: int = 24,
    width: int = 250,
    height: int = 110,
) -> str:
    """A histogram of ``values`` over [lo, hi] (default: their range); values outside fall in
    the edge bins (the axis then says ≤ / ≥); the median is a dark tick."""
    finite = sorted(_finite(values))
    if lo is None:
        lo = finite[0] if finite else 0.0
    if hi is None:
        hi = finite[-1] if finite else 1.0
    if hi <= lo:
        lo, hi = lo - 0.5, hi + 0.5
    counts = [0] * bins
    for v in finite:
        counts[min(bins - 1, max(0, int((v - lo) / (hi - lo) * bins)))] += 1
    left, right, top, bottom = 34, 6, 6, 18
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max(counts) or 1
    bw = plot_w / bins
    parts = [
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" '
        f'stroke="#9aa5b1"/>'
    ]
    for i, c in enumerate(counts):
        if c:
            h = max(plot_h * c / peak, 1.0)
            a, b = lo + (hi - lo) * i / bins, lo + (hi - lo) * (i + 1) / bins
            tip = f"[{a:.4g}, {b:.4g}): {c:,}"
            parts.append(_rect(left + i * bw + 0.5, top + plot_h - h, bw - 1, h, _BAR, tip))
    if finite:
        med = finite[len(finite) // 2]
        x = left + plot_w * min(max((med - lo) / (hi - lo), 0.0), 1.0)
        parts.append(
            f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{top + plot_h + 3}" '
            f'stroke="#1d232a" stroke-width="1.2"><title>median {_e(f"{med:.4g}")}</title></line>'
        )
    below = "≤ " if finite and finite[0] < lo else ""
    above = "≥ " if finite and finite[-1] > hi else ""
    parts.append(_text(left - 4, top + 9, _count(peak), "end", "small"))
    parts.append(_text(left - 4, top + plot_h, "0", "end", "small"))
    parts.append(_text(left, height - 4, below + _short(lo), "start", "small"))
    parts.append(_text(left + plot_w, height - 4, above + _short(hi), "end", "small"))
    return _svg(width, height, "".join(parts), label)


def _shared_range(series: Iterable[Sequence[float]]) -> tuple[float, float]:
    """One x-range for the histograms of a signal: the full range, unless a few outliers
    stretch it (then the pooled 0.5th-99.5th percentiles)."""
    pooled = sorted(v for values in series for v in values)
    lo, hi = pooled[0], pooled[-1]
    q_lo = pooled[int(0.005 * (len(pooled) - 1))]
    q_hi = pooled[int(round(0.995 * (len(pooled) - 1)))]
    if q_hi > q_lo and (hi - lo) > 1.5 * (q_hi - q_lo):
        return q_lo, q_hi
    return lo, hi


# -- HTML ----------------------------------------------------------------------------------

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


def _reason_colors(report: Report) -> dict[str, str]:
    """One colour per drop reason, the same in every chart and table of the page and
    different from every other reason's (``distinct_colors``), assigned in pipeline order;
    greys for duplicates, green for kept."""
    reasons = _reason_order(report)
    rules = [r for r in reasons if not r.startswith("dedup:")]
    colors = dict(zip(rules, distinct_colors(len(rules)), strict=True))
    dedup = [r for r in reasons if r.startswith("dedup:")]
    for extra in ("dedup:exact", "dedup:near"):
        if extra not in dedup:
            dedup.append(extra)
    colors.update(
        {r: _DEDUP_GREYS[i % len(_DEDUP_GREYS)] for i, r in enumerate(sorted(set(dedup)))}
    )
    colors.update({"kept": _KEPT, "dedup:duplicate": _DUP})
    return colors


def _html_header(report: Report) -> str:
    kpis = [(_e(k), _e(v)) for k, v in _summary(report)]
    kpis.append(("accounting", _badge(_accounting_ok(report))))
    cards = "".join(
        f'<div class="kpi"><div class="k">{k}</div><div class="v">{v}</div></div>' for k, v in kpis
    )
    error = _failed(report)
    failed = (
        '<div class="failed" role="alert"><strong>Run failed.</strong> '
        f'<span class="mono">{_e(error)}</span><br><span class="muted">Below is what the run '
        "got to before it failed; a dash marks a number it did not get to.</span></div>"
        if error is not None
        else ""
    )
    warnings = "".join(f'<div class="warn">{_e(w)}</div>' for w in _warnings(report))
    notes = "".join(f'<div class="warn info">{_e(n)}</div>' for n in _notes(report))
    return (
        "<header><h1>cleanpipe run report"
        + (' <span class="badge bad">FAILED</span>' if error is not None else "")
        + f'</h1><p class="muted">{_e(_subtitle(report))}</p>{failed}'
        f'<div class="kpis">{cards}</div>{warnings}{notes}</header>'
    )


def _reason_cell(step: str, dropped: Mapping[str, int], colors: Mapping[str, str]) -> str:
    """A step's drop reasons, each with its colour swatch and count; the step's own name is
    left off the rule (the row says it; the full name is the tooltip)."""
    return "<br>".join(
        f'<span class="rs" title="{_e(k)}">{_swatch(colors.get(k, _BAR))}'
        f"<code>{_e(_short_reason(k, step))}</code> {v:,}</span>"
        for k, v in dropped.items()
        if v
    )


def _funnel_card(name: str, src: Mapping[str, Any], colors: Mapping[str, str]) -> str:
    steps = _funnel(src)
    any_modified = any(st.modified for st in steps)
    rows = []
    for st, numbers in zip(steps, _funnel_numbers(steps), strict=True):
        reasons = _reason_cell(st.step, st.dropped, colors)
        if any(st.would_drop.values()):
            would = _e(_reasons_text(st.would_drop))
            reasons += ("<br>" if reasons else "") + (
                f'<span class="muted">would drop (annotate only): {would}</span>'
            )
        row = [st.step, *numbers, reasons]
        if any_modified:
            row.append(f"{st.modified:,}" if st.modified else "")
        row.append(f"{st.seconds:.2f}" if isinstance(st.seconds, int | float) else "")
        rows.append(row)
    head = [*FUNNEL_HEAD, *(["modified"] if any_modified else []), "seconds"]
    reasons_at = len(FUNNEL_HEAD) - 1
    n_in = steps[0].docs
    chars_read = next((st.chars for st in steps if st.chars is not None), None)
    if chars_read:
        chart = svg_paired_bars(
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
        chart = svg_bar_chart(
            [(st.step, st.docs) for st in steps],
            label=f"{name}: documents after each step",
            width=280,
            colors=[_KEPT if i == len(steps) - 1 else _BAR for i in range(len(steps))],
        )
    numeric = [*range(1, reasons_at), *range(reasons_at + 1, len(head))]
    table = _table(head, rows, numeric=numeric, raw=[reasons_at])
    note = _funnel_note(src)
    return (
        f'<div class="card" id="funnel-{_e(name)}"><h3>{_e(name)}</h3>'
        f'<div class="split"><div>{table}'
        + (f'<p class="note">{_e(note)}</p>' if note else "")
        + f"</div><div>{chart}</div></div></div>"
    )


def _legend(report: Report, colors: Mapping[str, str]) -> str:
    """The colours of the funnel chart, grouped by stage in pipeline order."""
    counts: dict[str, int] = {}
    for src in _sources(report).values():
        for reason, n in _destinations(src):
            counts[reason] = counts.get(reason, 0) + n
    order = ["kept", *(r for r in _reason_order(report) if counts.get(r))]
    order += [r for r in counts if r not in order and counts[r]]
    groups: list[tuple[str, list[str]]] = []
    for reason in order:
        stage, _, rule = reason.partition(":")
        if not rule:
            stage, rule = "", reason
        if not groups or groups[-1][0] != stage:
            groups.append((stage, []))
        groups[-1][1].append(
            f'<span class="li" title="{_e(reason)}">{_swatch(colors.get(reason, _BAR))}'
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
    sources = _sources(report)
    overview = svg_stacked_bars(
        [(name, _destinations(src)) for name, src in sources.items()],
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
    sources = _sources(report)
    if not _has_mixture(report):
        return (
            '<section id="mixture"><h2>Mixture: target vs achieved</h2>'
            '<p class="muted">The run did not get as far as planning the mixture.</p></section>'
        )
    warnings = "".join(
        f'<div class="warn bad"><strong>Epoch warning.</strong> {_e(w)}</div>'
        for w in (_epoch_warning(name, src) for name, src in sources.items())
        if w
    )
    shares = svg_paired_bars(
        [
            (name, _opt_num(src.get("target_share")), _opt_num(src.get("achieved_share")))
            for name, src in sources.items()
        ],
        label="Target vs achieved share per source",
        width=520,
    )
    epochs = [(name, _num(src.get("epochs"))) for name, src in sources.items()]
    epoch_chart = svg_bar_chart(
        epochs,
        label="Epochs per source",
        width=520,
        fmt=lambda v: f"{v:.2f}",
        colors=[_WARN if e > EPOCH_WARNING else _BAR for _, e in epochs],
        marker=EPOCH_WARNING,
        marker_label=f"{EPOCH_WARNING:g} epochs",
    )
    rows = _mixture_rows(report)
    table = _table(
        MIXTURE_HEAD,
        [row for row, _ in rows],
        numeric=range(1, len(MIXTURE_HEAD)),
        row_classes=["bad" if over else "" for _, over in rows],
    )
    return (
        '<section id="mixture"><h2>Mixture: target vs achieved</h2>'
        f'{warnings}<div class="pair"><div><h3>Share of the mixture, by tokens</h3>{shares}'
        f"</div><div><h3>Epochs: how often each source is repeated</h3>{epoch_chart}</div>"
        f'</div>{table}<p class="note">Epochs = planned tokens of a source / its tokens '
        f"available after filtering and dedup. {_e(_MUENNIGHOFF)}.</p>"
        + (f'<p class="note">{_e(note)}</p>' if (note := _token_estimate_note(report)) else "")
        + "</section>"
    )


def _html_languages(report: Report) -> str:
    sources = {n: s for n, s in _sources(report).items() if s.get("languages")}
    if not sources:
        return ""
    langs = {name: _languages(src) for name, src in sources.items()}
    totals: dict[str, int] = {}
    for rows in langs.values():
        for lang, n in rows:
            totals[lang] = totals.get(lang, 0) + n
    order = sorted(totals, key=lambda k: -totals[k])
    colors = {lang: _PALETTE[(i + 3) % len(_PALETTE)] for i, lang in enumerate(order)}
    colors.update({lang: "#c3cad2" for lang in order if lang.startswith("other")})
    colors.update({lang: _DUP for lang in order if lang == "unknown"})
    if order and order[0] not in ("unknown",) and not order[0].startswith("other"):
        colors[order[0]] = _ACHIEVED
    chart = svg_stacked_bars(list(langs.items()), label="Languages per source", colors=colors)
    table = _table(["source", "documents", "languages"], _language_rows(report), numeric=[1])
    return (
        '<section id="languages"><h2>Languages</h2>'
        '<p class="note">Documents per language as language ID saw them (before any were '
        f"dropped), per source; the number is the total.</p>{chart}{table}</section>"
    )


def _html_signals(report: Report) -> str:
    signals = _signals(report)
    if not signals:
        return ""
    cards = []
    for signal, per_source in signals.items():
        lo, hi = _shared_range(per_source.values())
        cells = []
        for name, values in per_source.items():
            st = _signal_stats(values)
            hist = svg_histogram(values, label=f"{signal} in {name}", lo=lo, hi=hi)
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


def _html_pii(report: Report) -> str:
    kinds, per_source = _pii(report)
    if not per_source:
        return ""
    rows = [[name] + [f"{c.get(k, 0):,}" for k in kinds] for name, c in per_source.items()]
    table = _table(["source", *kinds], rows, numeric=range(1, len(kinds) + 1))
    return (
        '<section id="pii"><h2>PII replaced</h2><p class="note">Matches replaced by their '
        f"token (e.g. <code>&lt;EMAIL_ADDRESS&gt;</code>), per kind.</p>{table}</section>"
    )


def _html_dedup(report: Report) -> str:
    dedup = _dedup_results(report)
    if dedup is None:
        return (
            '<section id="dedup"><h2>Deduplication</h2>'
            f'<p class="muted">{_e(_dedup_off(report))}</p></section>'
        )
    scalars, tables, examples, other = _dedup_parts(dedup)
    out = ['<section id="dedup"><h2>Deduplication</h2>']
    if scalars:
        rows = [[_label(k), _fmt(v)] for k, v in scalars]
        out.append(_table(["dedup", "value"], rows, numeric=[1]))
    for key, rows in tables:
        table = _table(
            [_dedup_key_header(key), "count"], [[k, _fmt(v)] for k, v in rows], numeric=[1]
        )
        numbers = [(str(k), float(v)) for k, v in rows if isinstance(v, int | float)]
        chart = svg_bar_chart(numbers, label=_label(key), width=360) if numbers else ""
        out.append(
            f'<div class="card"><h3>{_e(_label(key))}</h3>'
            f'<div class="row"><div>{table}</div><div>{chart}</div></div></div>'
        )
    if examples:
        out.append(
            '<h3>Example clusters</h3><p class="note">One document of each cluster is kept '
            "(marked, listed first); the others are removed as its duplicates.</p>"
        )
        for i, raw in enumerate(examples, 1):
            cluster = _cluster(raw)
            out.append(f'<p class="muted">cluster {i} · {_e(cluster.caption)}</p>')
            rows = [
                ['<span class="badge ok">kept</span>' if r[0] == "kept" else _e(r[0])]
                + [_e(c) for c in r[1:]]
                for r in cluster.rows
            ]
            classes = ["kept" if r[0] == "kept" else "" for r in cluster.rows]
            out.append(_table(CLUSTER_HEAD, rows, row_classes=classes, raw=range(4)))
    out += [f"<pre>{_e(line)}</pre>" for line in other]
    out.append("</section>")
    return "".join(out)


def _html_examples(report: Report, colors: Mapping[str, str]) -> str:
    cards = []
    for name, src in _sources(report).items():
        reasons = _examples(src)
        if not reasons:
            continue
        parts = [f'<div class="card"><h3>{_e(name)}</h3>']
        for reason, items in reasons:
            parts.append(
                f'<p class="reason">{_swatch(colors.get(reason, _BAR))}<code>{_e(reason)}</code>'
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
        f'<p class="note">{_e(EXAMPLES_NOTE)}</p>{"".join(cards)}</section>'
    )


def _html_accounting(report: Report) -> str:
    columns = _accounting_columns(report)
    rows, classes, problems = [], [], []
    for name, src in _sources(report).items():
        counts = _accounting_counts(src)
        ok = _accounting(src)[4]
        identity = f'<span class="mono">{_e(_identity(src))}</span>'
        rows.append([_e(name), *(_e(_int(counts[k])) for k, _ in columns), identity, _badge(ok)])
        classes.append("" if ok else "bad")
        problems += [
            f"<li><strong>{_e(name)}:</strong> {_e(p)}</li>" for p in _accounting_problems(src)
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
        f'<p class="note">{_e(ACCOUNTING_NOTE)}</p>{table}'
        + (found if problems else "")
        + "</section>"
    )


def _html_shards(report: Report) -> str:
    rows = _shard_rows(report)
    if not rows:
        return ""
    table = _table(["file", "rows", "tokens", "MB"], rows, numeric=[1, 2, 3])
    return f'<section id="shards"><h2>Shards</h2>{table}</section>'


def render_html(report: Report, *, title: str = "cleanpipe run report") -> str:
    """The report as one self-contained HTML page (inline CSS and SVG; nothing fetched)."""
    colors = _reason_colors(report)
    sections = [
        ("funnel", "Funnel", _html_funnel(report, colors)),
        ("mixture", "Mixture", _html_mixture(report)),
        ("languages", "Languages", _html_languages(report)),
        ("signals", "Quality signals", _html_signals(report)),
        ("pii", "PII", _html_pii(report)),
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
