"""Server-side SVG progress charts (pure Python), so a page and a PDF draw the same chart.

The chart shades the instrument's published severity bands (the same
`Instrument.bands` the scoring engine uses), draws each total over time and a
dashed line at the baseline (the first total). Presentation attributes only, no
inline CSS, so the Content-Security-Policy needs no exception.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from html import escape

from kapcare.measures.instruments import Instrument

BAND_FILLS = ("#e6f4ea", "#fff4d6", "#ffe3c2", "#fdd0c8", "#f7b4b4", "#f29a9a")
WIDTH, HEIGHT = 680, 220
LEFT, RIGHT, TOP, BOTTOM = 36, 176, 12, 28


@dataclass(frozen=True)
class Point:
    on: date
    total: float
    band: str


def _x(on: date, first: date, last: date) -> float:
    span = (last - first).days
    inner = WIDTH - LEFT - RIGHT
    if span == 0:
        return LEFT + inner / 2
    return LEFT + inner * (on - first).days / span


def _y(total: float, low: int, high: int) -> float:
    inner = HEIGHT - TOP - BOTTOM
    return TOP + inner * (1 - (total - low) / (high - low))


def progress_svg(
    instrument: Instrument,
    points: Sequence[Point],
    *,
    chart_id: str,
    dosing_days: Sequence[date] = (),
) -> str:
    """An accessible SVG of totals over time; "" when the instrument has no total.

    `dosing_days` draw a thin vertical mark (with a "D") on each dosing session
    within the charted dates, so a score can be read against the doses.
    """
    if instrument.total_range is None or not points:
        return ""
    low, high = instrument.total_range
    first, last = points[0].on, points[-1].on
    baseline, latest = points[0].total, points[-1].total
    change = (
        f", {100 * (latest - baseline) / baseline:+.0f}% from baseline"
        if baseline
        else ""
    )
    title = f"{instrument.name} totals over time"
    desc = (
        f"{len(points)} result{'s' if len(points) != 1 else ''} from {first:%Y-%m-%d} to {last:%Y-%m-%d}; "
        f"baseline {baseline:g}, latest {latest:g} ({points[-1].band or 'no band'}){change}."
    )
    shown_doses = sorted({d for d in dosing_days if first <= d <= last})
    if shown_doses:
        plural = "s" if len(shown_doses) != 1 else ""
        desc += f" {len(shown_doses)} dosing session{plural} marked."
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" class="progress-chart">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(desc)}</desc>',
    ]
    for index, (lower, upper, label) in enumerate(instrument.band_ranges):
        top, bottom = (
            _y(upper + 1 if upper < high else high, low, high),
            _y(lower, low, high),
        )
        fill = BAND_FILLS[index % len(BAND_FILLS)]
        parts.append(
            f'<rect x="{LEFT}" y="{top:.1f}" width="{WIDTH - LEFT - RIGHT}" height="{bottom - top:.1f}" fill="{fill}"/>'
            f'<text x="{WIDTH - RIGHT + 6}" y="{(top + bottom) / 2 + 4:.1f}" font-size="11" fill="#55606e">'
            f"{escape(label)} ({lower}\u2013{upper})</text>"
        )
    for tick in (low, high):
        parts.append(
            f'<text x="{LEFT - 6}" y="{_y(tick, low, high) + 4:.1f}" font-size="11" text-anchor="end" fill="#55606e">{tick}</text>'
        )
    parts.append(
        f'<text x="{LEFT}" y="{HEIGHT - 8}" font-size="11" fill="#55606e">{first:%Y-%m-%d}</text>'
        f'<text x="{WIDTH - RIGHT}" y="{HEIGHT - 8}" font-size="11" text-anchor="end" fill="#55606e">{last:%Y-%m-%d}</text>'
    )
    for day in shown_doses:
        x = _x(day, first, last)
        parts.append(
            f'<g class="dose"><line x1="{x:.1f}" x2="{x:.1f}" y1="{TOP}" y2="{HEIGHT - BOTTOM}" '
            f'stroke="#7a4fa0" stroke-width="1" stroke-dasharray="2 2"/>'
            f'<text x="{x:.1f}" y="{TOP + 10}" font-size="10" text-anchor="middle" fill="#7a4fa0">D'
            f"<title>Dosing session {day:%Y-%m-%d}</title></text></g>"
        )
    base_y = _y(baseline, low, high)
    parts.append(
        f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{base_y:.1f}" y2="{base_y:.1f}" stroke="#55606e" stroke-dasharray="4 3"/>'
    )
    coords = [(_x(p.on, first, last), _y(p.total, low, high)) for p in points]
    parts.append(
        '<polyline fill="none" stroke="#1f5f8b" stroke-width="2" points="'
        + " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
        + '"/>'
    )
    for (x, y), point in zip(coords, points, strict=True):
        label = f"{point.on:%Y-%m-%d}: {point.total:g}" + (
            f" ({point.band})" if point.band else ""
        )
        parts.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="#1f5f8b"><title>{escape(label)}</title></circle>'
        )
    parts.append("</svg>")
    return "".join(parts)
