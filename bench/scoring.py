"""Throughput of the pure scoring engine: responses scored per second, per instrument."""

import random
import time
from dataclasses import dataclass

from kapcare.measures.instruments import INSTRUMENTS
from kapcare.measures.scoring import ScoringError, score

RESPONSES = 20_000


@dataclass(frozen=True)
class Throughput:
    instrument: str
    responses: int
    per_second: int


def _random_answers(rng: random.Random, code: str) -> list[int | None]:
    return [
        rng.randint(item.min_value, item.max_value) for item in INSTRUMENTS[code].items
    ]


def _valid_answer_sets(
    rng: random.Random, code: str, count: int
) -> list[list[int | None]]:
    """Random answer sets the engine accepts (the C-SSRS screener's skip logic refuses
    contradictory ones, which would otherwise be timed as cheap early errors)."""
    found: list[list[int | None]] = []
    while len(found) < count:
        answers = _random_answers(rng, code)
        try:
            score(code, answers)
        except ScoringError:
            continue
        found.append(answers)
    return found


def measure(responses: int = RESPONSES, seed: int = 7) -> list[Throughput]:
    """Score `responses` valid random answer sets per instrument, prepared beforehand."""
    rng = random.Random(seed)
    results = []
    for code in sorted(INSTRUMENTS):
        batches = _valid_answer_sets(rng, code, responses)
        started = time.perf_counter()
        for answers in batches:
            score(code, answers)
        elapsed = time.perf_counter() - started
        results.append(Throughput(code, responses, int(responses / elapsed)))
    return results


def table(results: list[Throughput]) -> str:
    lines = [f"{'instrument':<16}{'responses':>10}{'scored per s':>14}"]
    lines += [
        f"{r.instrument:<16}{r.responses:>10}{r.per_second:>14,}" for r in results
    ]
    return "\n".join(lines)
