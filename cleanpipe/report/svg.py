"""The charts of report.html, drawn as inline SVG (nothing is fetched when the page opens):
horizontal bars, paired bars, 100 % stacked bars and histograms, and the colours they use.
Every piece of text is escaped."""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import cleanpipe.report.details as details
import cleanpipe.report.view as view

KEPT = "#3d8b5a"
DUP = "#8d99a6"
PALETTE = (
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
TARGET = "#a9c4e4"
ACHIEVED = "#1f5fa8"
BAR = "#3b6ea8"
WARN = "#c0392b"
_CHAR_W = 6.8  # rough width of one 12 px character, to size label columns


def escape(text: Any) -> str:
    """``text`` safe inside HTML and SVG, quotes included (attributes too)."""
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
        f'viewBox="0 0 {width:.0f} {height:.0f}" role="img" aria-label="{escape(label)}">'
        f"<title>{escape(label)}</title>{body}</svg>"
    )


def _text(x: float, y: float, text: str, anchor: str = "start", cls: str = "") -> str:
    c = f' class="{cls}"' if cls else ""
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}"{c}>{escape(text)}</text>'


def _rect(x: float, y: float, w: float, h: float, fill: str, tip: str = "") -> str:
    title = f"<title>{escape(tip)}</title>" if tip else ""
    return (
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(w, 0):.1f}" height="{h:.1f}" '
        f'fill="{fill}">{title}</rect>'
    )


def bar_chart(
    rows: Sequence[tuple[str, float]],
    *,
    label: str,
    width: int = 560,
    fmt: Callable[[float], str] = view.fmt_int,
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
        fill = colors[i] if colors else BAR
        parts.append(_text(label_w - 8, y + 13, name, "end"))
        parts.append(_rect(label_w, y, w, bar_h, fill, f"{name}: {fmt(value)}"))
        parts.append(_text(label_w + w + 4, y + 13, fmt(value), cls="v"))
    if marker is not None:
        x = label_w + plot_w * marker / scale
        parts.append(
            f'<line x1="{x:.1f}" y1="12" x2="{x:.1f}" y2="{height:.0f}" '
            f'stroke="{WARN}" stroke-dasharray="4 3" stroke-width="1.5"/>'
        )
        parts.append(_text(x, 10, marker_label, "middle", "warn"))
    return _svg(width, height, "".join(parts), label)


def paired_bars(
    rows: Sequence[tuple[str, float | None, float | None]],
    *,
    label: str,
    names: tuple[str, str] = ("target", "achieved"),
    width: int = 560,
    fmt: Callable[[float], str] = view.fmt_pct,
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
        _rect(label_w, 4, 12, 12, TARGET),
        _text(label_w + 16, 14, names[0]),
        _rect(label_w + 26 + len(names[0]) * _CHAR_W, 4, 12, 12, ACHIEVED),
        _text(label_w + 42 + len(names[0]) * _CHAR_W, 14, names[1]),
    ]
    for i, (name, a, b) in enumerate(rows):
        y = top + i * (2 * bar_h + 2 + gap)
        parts.append(_text(label_w - 8, y + bar_h + 5, name, "end"))
        for j, (value, fill, what) in enumerate(((a, TARGET, names[0]), (b, ACHIEVED, names[1]))):
            yy = y + j * (bar_h + 2)
            if value is None:
                parts.append(_text(label_w + 4, yy + 10, "–", cls="v small"))
                continue
            w = plot_w * max(value, 0) / scale
            parts.append(_rect(label_w, yy, w, bar_h, fill, f"{name} {what}: {fmt(value)}"))
            parts.append(_text(label_w + w + 4, yy + 10, fmt(value), cls="v small"))
    return _svg(width, height, "".join(parts), label)


def stacked_bars(
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
            fill = colors.get(seg, BAR)
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
        parts.append(_rect(x, y, 12, 12, colors.get(seg, BAR)))
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


def histogram(
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
    finite = sorted(details.finite(values))
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
            parts.append(_rect(left + i * bw + 0.5, top + plot_h - h, bw - 1, h, BAR, tip))
    if finite:
        med = finite[len(finite) // 2]
        x = left + plot_w * min(max((med - lo) / (hi - lo), 0.0), 1.0)
        parts.append(
            f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{top + plot_h + 3}" '
            f'stroke="#1d232a" stroke-width="1.2">'
            f"<title>median {escape(f'{med:.4g}')}</title></line>"
        )
    below = "≤ " if finite and finite[0] < lo else ""
    above = "≥ " if finite and finite[-1] > hi else ""
    parts.append(_text(left - 4, top + 9, _count(peak), "end", "small"))
    parts.append(_text(left - 4, top + plot_h, "0", "end", "small"))
    parts.append(_text(left, height - 4, below + _short(lo), "start", "small"))
    parts.append(_text(left + plot_w, height - 4, above + _short(hi), "end", "small"))
    return _svg(width, height, "".join(parts), label)


def shared_range(series: Iterable[Sequence[float]]) -> tuple[float, float]:
    """One x-range for the histograms of a signal: the full range, unless a few outliers
    stretch it (then the pooled 0.5th-99.5th percentiles)."""
    pooled = sorted(v for values in series for v in values)
    lo, hi = pooled[0], pooled[-1]
    q_lo = pooled[int(0.005 * (len(pooled) - 1))]
    q_hi = pooled[int(round(0.995 * (len(pooled) - 1)))]
    if q_hi > q_lo and (hi - lo) > 1.5 * (q_hi - q_lo):
        return q_lo, q_hi
    return lo, hi
