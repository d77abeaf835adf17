"""The dashboard's charts as server-side SVG (pure Python), in the style of the score
charts: presentation attributes only (CSP), a title and a description for screen
readers, and the numbers also given as a table on the page."""

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

WIDTH, HEIGHT = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 44, 16, 14, 40
LINE, BAND, BAR = "#1f5f8b", "#cfe0ee", "#6d8fb3"


@dataclass(frozen=True)
class SessionMean:
    """Mean score after `session` doses (0 = before the first dose), with its 95% CI."""

    session: int
    n: int
    mean: float
    low: float | None
    high: float | None


@dataclass(frozen=True)
class Bin:
    low: float
    high: float
    count: int


def _y(value: float, top: float) -> float:
    inner = HEIGHT - TOP - BOTTOM
    return TOP + inner * (1 - max(0.0, min(value, top)) / top)


def mean_by_session_svg(
    points: Sequence[SessionMean], *, top: float, name: str, chart_id: str
) -> str:
    """Mean score by number of doses given, with its 95% confidence band."""
    if not points:
        return ""
    last = max(p.session for p in points) or 1
    inner = WIDTH - LEFT - RIGHT

    def x(session: int) -> float:
        return LEFT + inner * session / last

    banded = [p for p in points if p.low is not None and p.high is not None]
    band = ""
    if len(banded) >= 2:
        upper = [f"{x(p.session):.1f},{_y(p.high or 0, top):.1f}" for p in banded]
        lower = [
            f"{x(p.session):.1f},{_y(p.low or 0, top):.1f}" for p in reversed(banded)
        ]
        band = (
            f'<polygon points="{" ".join(upper + lower)}" fill="{BAND}" stroke="none"/>'
        )
    line = " ".join(f"{x(p.session):.1f},{_y(p.mean, top):.1f}" for p in points)
    dots = "".join(
        f'<circle cx="{x(p.session):.1f}" cy="{_y(p.mean, top):.1f}" r="3" fill="{LINE}"/>'
        for p in points
    )
    ticks = "".join(
        f'<text x="{x(p.session):.1f}" y="{HEIGHT - BOTTOM + 16}" font-size="11" '
        f'text-anchor="middle">{p.session}</text>'
        for p in points
    )
    grid = "".join(
        f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{_y(v, top):.1f}" y2="{_y(v, top):.1f}" '
        f'stroke="#e3e3e3"/><text x="{LEFT - 6}" y="{_y(v, top) + 4:.1f}" font-size="11" '
        f'text-anchor="end">{v:g}</text>'
        for v in (0, top / 2, top)
    )
    first, final = points[0], points[-1]
    summary = (
        f"Mean {escape(name)} {first.mean:.1f} before the first dose (n={first.n}) and "
        f"{final.mean:.1f} after {final.session} doses (n={final.n}); shaded: 95% "
        "confidence interval."
    )
    return (
        f'<svg role="img" aria-labelledby="{chart_id}-title {chart_id}-desc" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{chart_id}-title">Mean {escape(name)} by number of doses</title>'
        f'<desc id="{chart_id}-desc">{summary}</desc>{grid}{band}'
        f'<polyline points="{line}" fill="none" stroke="{LINE}" stroke-width="2"/>{dots}{ticks}'
        f'<text x="{LEFT + inner / 2:.1f}" y="{HEIGHT - 6}" font-size="11" '
        'text-anchor="middle">Doses given before the score (0 = baseline)</text></svg>'
    )


def change_histogram_svg(bins: Sequence[Bin], *, name: str, chart_id: str) -> str:
    """How many courses changed by how much (latest minus baseline)."""
    if not bins or not any(b.count for b in bins):
        return ""
    tallest = max(b.count for b in bins)
    inner = WIDTH - LEFT - RIGHT
    width = inner / len(bins)
    bars, labels = [], []
    for i, b in enumerate(bins):
        height = (HEIGHT - TOP - BOTTOM) * b.count / tallest
        left = LEFT + i * width
        bars.append(
            f'<rect x="{left + 1:.1f}" y="{HEIGHT - BOTTOM - height:.1f}" '
            f'width="{width - 2:.1f}" height="{height:.1f}" fill="{BAR}">'
            f"<title>{b.low:g} to {b.high:g}: {b.count}</title></rect>"
        )
        if i % 2 == 0:
            labels.append(
                f'<text x="{left:.1f}" y="{HEIGHT - BOTTOM + 14}" font-size="10" '
                f'text-anchor="middle">{b.low:g}</text>'
            )
    improved = sum(b.count for b in bins if b.high <= 0)
    total = sum(b.count for b in bins)
    summary = (
        f"{total} courses; {improved} improved (a change below 0; lower is better)."
    )
    zero = next((LEFT + i * width for i, b in enumerate(bins) if b.low == 0), None)
    zero_line = (
        f'<line x1="{zero:.1f}" x2="{zero:.1f}" y1="{TOP}" y2="{HEIGHT - BOTTOM}" '
        'stroke="#444" stroke-dasharray="4 3"/>'
        if zero is not None
        else ""
    )
    return (
        f'<svg role="img" aria-labelledby="{chart_id}-title {chart_id}-desc" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{chart_id}-title">Distribution of change in {escape(name)}</title>'
        f'<desc id="{chart_id}-desc">{summary}</desc>{"".join(bars)}{zero_line}'
        f"{''.join(labels)}"
        f'<text x="{LEFT + inner / 2:.1f}" y="{HEIGHT - 6}" font-size="11" '
        'text-anchor="middle">Change from baseline (points)</text></svg>'
    )
