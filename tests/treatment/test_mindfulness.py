from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from kapcare.treatment.mindfulness import streak, week_start, weekly_totals

TODAY = date(2026, 11, 27)  # a Friday


def test_weeks_start_on_monday() -> None:
    assert week_start(TODAY) == date(2026, 11, 23)
    assert week_start(date(2026, 11, 23)) == date(2026, 11, 23)


def test_weekly_totals_cover_the_last_weeks_oldest_first() -> None:
    weeks = weekly_totals(
        [(TODAY, 10), (TODAY - timedelta(days=1), 15), (date(2026, 11, 16), 20),
         (date(2026, 1, 1), 99)],
        today=TODAY, weeks=3,
    )  # fmt: skip
    assert [(w.starts_on, w.minutes, w.sessions) for w in weeks] == [
        (date(2026, 11, 9), 0, 0),
        (date(2026, 11, 16), 20, 1),
        (date(2026, 11, 23), 25, 2),
    ]


def test_a_streak_counts_consecutive_days_to_today_or_yesterday() -> None:
    days = [TODAY - timedelta(days=n) for n in (1, 2, 3, 5)]
    assert streak(days, today=TODAY) == 3
    assert streak([*days, TODAY], today=TODAY) == 4
    assert streak([TODAY - timedelta(days=2)], today=TODAY) == 0
    assert streak([], today=TODAY) == 0


@given(
    st.lists(
        st.tuples(st.integers(min_value=0, max_value=120), st.integers(1, 600)),
        max_size=60,
    )
)
def test_weekly_totals_add_up_to_the_practice_in_the_window(
    raw: list[tuple[int, int]],
) -> None:
    practices = [(TODAY - timedelta(days=ago), minutes) for ago, minutes in raw]
    weeks = weekly_totals(practices, today=TODAY, weeks=8)
    first = weeks[0].starts_on
    assert sum(w.minutes for w in weeks) == sum(m for d, m in practices if d >= first)
    assert streak([d for d, _ in practices], today=TODAY) <= len(
        {d for d, _ in practices}
    )
