import xml.etree.ElementTree as ET
from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from kapcare.measures.charts import Point, progress_svg
from kapcare.measures.instruments import INSTRUMENTS

SVG = "{http://www.w3.org/2000/svg}"
PHQ9 = INSTRUMENTS["phq9"]


def _points(totals: list[int]) -> list[Point]:
    start = date(2026, 1, 5)
    return [
        Point(start + timedelta(days=7 * n), float(t), PHQ9.band_for(t) or "")
        for n, t in enumerate(totals)
    ]


def _parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # noqa: S314 - our own output, parsed to check it is valid SVG


def test_the_chart_is_valid_svg_with_a_title_and_description() -> None:
    root = _parse(progress_svg(PHQ9, _points([20, 14, 9]), chart_id="c"))
    assert root.get("role") == "img"
    assert root.findtext(f"{SVG}title") == "PHQ-9 totals over time"
    desc = root.findtext(f"{SVG}desc") or ""
    assert "baseline 20, latest 9 (mild), -55% from baseline" in desc


def test_every_band_is_shaded_and_every_result_drawn() -> None:
    root = _parse(progress_svg(PHQ9, _points([20, 14, 9, 4]), chart_id="c"))
    assert len(root.findall(f"{SVG}rect")) == len(PHQ9.bands)
    circles = root.findall(f"{SVG}circle")
    assert circles[0].findtext(f"{SVG}title") == "2026-01-05: 20 (severe)"
    assert len(circles) == 4


def test_a_single_result_is_drawn_in_the_middle() -> None:
    root = _parse(progress_svg(PHQ9, _points([12]), chart_id="c"))
    assert len(root.findall(f"{SVG}circle")) == 1


def test_no_chart_without_a_total_or_results() -> None:
    assert progress_svg(INSTRUMENTS["cssrs_screener"], _points([1]), chart_id="c") == ""
    assert progress_svg(PHQ9, [], chart_id="c") == ""


@given(st.lists(st.integers(0, 27), min_size=1, max_size=40))
def test_higher_totals_are_drawn_higher(totals: list[int]) -> None:
    root = _parse(progress_svg(PHQ9, _points(totals), chart_id="c"))
    heights = [float(c.get("cy", "0")) for c in root.findall(f"{SVG}circle")]
    for n in range(len(totals) - 1):
        if totals[n] > totals[n + 1]:
            assert heights[n] < heights[n + 1]
        elif totals[n] < totals[n + 1]:
            assert heights[n] > heights[n + 1]


def test_dosing_sessions_are_marked_within_the_charted_dates() -> None:
    from datetime import date

    from kapcare.measures.charts import Point, progress_svg
    from kapcare.measures.instruments import INSTRUMENTS

    points = [
        Point(date(2026, 1, 1), 20, "severe"),
        Point(date(2026, 1, 21), 8, "mild"),
    ]
    doses = [date(2025, 12, 1), date(2026, 1, 5), date(2026, 1, 8), date(2026, 1, 8)]
    svg = progress_svg(INSTRUMENTS["phq9"], points, chart_id="c", dosing_days=doses)
    assert svg.count('<g class="dose">') == 2
    assert "Dosing session 2026-01-05" in svg
    assert "Dosing session 2025-12-01" not in svg
    assert "2 dosing sessions marked." in svg
    assert '<g class="dose">' not in progress_svg(
        INSTRUMENTS["phq9"], points, chart_id="c"
    )
