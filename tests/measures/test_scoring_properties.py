"""Invariants of the scoring engine, checked with hypothesis."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kapcare.measures.instruments import INSTRUMENTS
from kapcare.measures.scoring import score

SUMMED = ["phq9", "gad7", "pcl5", "qids_sr16", "madrs", "cadss", "msm"]
RISK_ORDER = ["none", "low", "moderate", "high"]


@st.composite
def complete_answers(draw: st.DrawFn, code: str) -> list[int | None]:
    return [
        draw(st.integers(item.min_value, item.max_value))
        for item in INSTRUMENTS[code].scored_items
    ]


@pytest.mark.parametrize("code", SUMMED)
@given(data=st.data())
def test_the_total_stays_within_the_published_range(
    code: str, data: st.DataObject
) -> None:
    answers = data.draw(complete_answers(code))
    result = score(code, answers)
    low, high = INSTRUMENTS[code].total_range or (0, 0)
    assert result.total is not None
    assert low <= result.total <= high
    assert result.band is not None or not INSTRUMENTS[code].bands


@pytest.mark.parametrize("code", SUMMED)
@given(data=st.data())
def test_raising_one_item_never_lowers_the_total(
    code: str, data: st.DataObject
) -> None:
    answers = data.draw(complete_answers(code))
    items = INSTRUMENTS[code].scored_items
    index = data.draw(st.integers(0, len(items) - 1))
    value = answers[index]
    assert value is not None
    raised = list(answers)
    raised[index] = data.draw(st.integers(value, items[index].max_value))
    before, after = score(code, answers).total, score(code, raised).total
    assert before is not None
    assert after is not None
    assert after >= before


@given(
    answers=st.lists(st.integers(0, 3), min_size=9, max_size=9),
    missing=st.sets(st.integers(0, 8), min_size=1, max_size=2),
    index=st.integers(0, 8),
)
def test_a_prorated_phq9_stays_in_range_and_rises_with_any_item(
    answers: list[int], missing: set[int], index: int
) -> None:
    with_gaps: list[int | None] = [
        None if i in missing else value for i, value in enumerate(answers)
    ]
    before = score("phq9", with_gaps).total
    assert before is not None
    assert 0 <= before <= 27
    value = with_gaps[index]
    if value is not None and value < 3:
        with_gaps[index] = value + 1
        after = score("phq9", with_gaps).total
        assert after is not None
        assert after >= before


@given(
    asked=st.lists(st.integers(0, 1), min_size=6, max_size=6),
    index=st.integers(0, 5),
)
def test_a_further_yes_on_the_cssrs_never_lowers_the_risk(
    asked: list[int], index: int
) -> None:
    # With question 2 yes and question 6 yes every question is asked.
    q1, _, q3, q4, q5, recent = asked
    answers: list[int | None] = [q1, 1, q3, q4, q5, 1, recent]
    position = [0, 2, 3, 4, 6][index % 5]
    raised = list(answers)
    raised[position] = 1
    before = score("cssrs_screener", answers).risk
    after = score("cssrs_screener", raised).risk
    assert before is not None
    assert after is not None
    assert RISK_ORDER.index(after) >= RISK_ORDER.index(before)
