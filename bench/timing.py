"""Time requests in-process and count their SQL queries."""

import gc
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.db import connection
from django.http.response import HttpResponseBase
from django.test.utils import CaptureQueriesContext

Send = Callable[[], HttpResponseBase]


@dataclass(frozen=True)
class Timing:
    p50_ms: float
    p95_ms: float
    queries: int
    iterations: int


def _send_checked(send: Send, expect: int, label: str) -> None:
    response = send()
    if response.status_code != expect:
        raise RuntimeError(
            f"{label}: expected HTTP {expect}, got {response.status_code}"
        )


def count_queries(send: Send, *, expect: int, label: str) -> int:
    """SQL queries of one request, on a separate run so logging them costs no time."""
    with CaptureQueriesContext(connection) as captured:
        _send_checked(send, expect, label)
    return len(captured.captured_queries)


def time_requests(
    send: Send, *, iterations: int, warmup: int, expect: int, label: str
) -> Timing:
    """Warm up, count queries, then time `iterations` requests."""
    for _ in range(warmup):
        _send_checked(send, expect, label)
    queries = count_queries(send, expect=expect, label=label)
    gc.collect()
    times = []
    for _ in range(iterations):
        start = time.perf_counter()
        _send_checked(send, expect, label)
        times.append((time.perf_counter() - start) * 1000)
    p50, p95 = percentile(times, 50), percentile(times, 95)
    return Timing(p50_ms=p50, p95_ms=p95, queries=queries, iterations=iterations)


def percentile(samples: list[float], pct: int) -> float:
    if len(samples) == 1:
        return samples[0]
    return statistics.quantiles(samples, n=100, method="inclusive")[pct - 1]
