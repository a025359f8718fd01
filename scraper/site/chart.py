"""Downloads over time as inline SVG: a hand-written polyline, no script, no external file.

A charting library costs about 100 times more per chart and pygal's SVG loads a remote
script, which the site's Content-Security-Policy would (rightly) block.
"""

from __future__ import annotations

from datetime import datetime

from markupsafe import Markup, escape

WIDTH, HEIGHT = 640, 200
LEFT, RIGHT, TOP, BOTTOM = 64, 12, 12, 28  # room for the axis labels
MAX_POINTS = 240


def downloads_svg(points: list[tuple[str, int]], label: str) -> Markup | None:
    """A line of (ISO time, downloads) snapshots; None when there are fewer than two."""
    points = [(t, int(v)) for t, v in points if t and isinstance(v, int | float)]
    if len(points) < 2:
        return None
    if len(points) > MAX_POINTS:  # keep the first, the last and evenly spaced ones between
        step = (len(points) - 1) / (MAX_POINTS - 1)
        points = [points[round(i * step)] for i in range(MAX_POINTS)]
    times = [_seconds(t, i) for i, (t, _) in enumerate(points)]
    values = [v for _, v in points]
    t0, t1 = min(times), max(times)
    v0, v1 = min(values), max(values)
    span_t = (t1 - t0) or 1.0
    span_v = (v1 - v0) or 1
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    if t1 == t0:  # no usable times: space the snapshots evenly
        times = [t0 + i for i in range(len(points))]
        span_t = float(len(points) - 1)
    coords = " ".join(
        f"{LEFT + (t - t0) / span_t * plot_w:.1f},{TOP + plot_h - (v - v0) / span_v * plot_h:.1f}"
        for t, v in zip(times, values, strict=True)
    )
    first, last = escape(points[0][0][:10]), escape(points[-1][0][:10])
    title = escape(label)
    bottom = HEIGHT - BOTTOM
    return Markup(
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{title}" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{title}: {v0:,} → {v1:,}</title>"
        f'<line class="axis" x1="{LEFT}" y1="{bottom}" x2="{WIDTH - RIGHT}" y2="{bottom}"/>'
        f'<line class="axis" x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{bottom}"/>'
        f'<text x="{LEFT - 6}" y="{TOP + 10}" text-anchor="end">{v1:,}</text>'
        f'<text x="{LEFT - 6}" y="{bottom}" text-anchor="end">{v0:,}</text>'
        f'<text x="{LEFT}" y="{HEIGHT - 8}">{first}</text>'
        f'<text x="{WIDTH - RIGHT}" y="{HEIGHT - 8}" text-anchor="end">{last}</text>'
        f'<polyline class="line" fill="none" points="{coords}"/>'
        "</svg>"
    )


def _seconds(stamp: str, fallback: int) -> float:
    try:
        return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return float(fallback)
