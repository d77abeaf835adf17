from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

# The scheduling tests book the week of MONDAY (2026-12-07) and expect it to lie
# ahead; the clock starts a week before it (and keeps ticking), whatever today is.
BEFORE_MONDAY = datetime(2026, 11, 30, 8, 0, tzinfo=ZoneInfo("America/Toronto"))


@pytest.fixture(autouse=True)
def clinic_clock() -> Iterator[None]:
    with time_machine.travel(BEFORE_MONDAY, tick=True):
        yield
