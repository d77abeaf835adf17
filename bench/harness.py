"""Seed, measure and report (run inside a configured Django)."""

import argparse
import json
import os
import platform
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import django
from django.conf import settings

from bench import database, fhir, pk, scoring
from bench.caseload import ACTIVE_PATIENTS, RESPONSES, seed_caseload
from bench.intake import REQUESTS, seed_requests
from bench.pages import Page, healthz_page, pages
from bench.timing import Timing, time_requests
from bench.treatment import REGISTER_LINES, VITALS
from kapcare.patients.demo import seed_demo
from kapcare.patients.models import Patient

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "latest.json"
SEED_TARGET_SECONDS = 60


@dataclass(frozen=True)
class Row:
    page: str
    p50_ms: float
    p95_ms: float
    queries: int
    iterations: int
    ratio: dict[str, float]


def run(args: argparse.Namespace) -> None:
    # Other work on the machine inflates p95 most; compare runs with similar load.
    load_before = round(os.getloadavg()[0], 2)
    with database.scratch_database():
        started = time.perf_counter()
        seed_demo(patients=args.patients)
        seed_seconds = time.perf_counter() - started
        started = time.perf_counter()
        seed_caseload()
        seed_requests()
        caseload_seconds = time.perf_counter() - started
        database.analyze()
        meta = {
            **_meta(args, seed_seconds),
            "load_average": load_before,
            "caseload_seed_seconds": round(caseload_seconds, 2),
        }
        print(_header(meta))
        print(
            f"Caseload: {ACTIVE_PATIENTS:,} active patients with {RESPONSES:,} responses "
            f"and {REQUESTS:,} consultation requests seeded in {caseload_seconds:.1f} s; "
            f"a dosing session with {VITALS} vitals and {REGISTER_LINES:,} register lines."
        )
        rows = _measure(args)
        export = fhir.measure_export(min(5_000, args.patients))
    print(_table(rows))
    print(
        f"\nFHIR bulk export ({export.patients:,} patients, Patient and "
        f"QuestionnaireResponse): {export.resources:,} resources in "
        f"{export.seconds:.1f} s = {export.per_second:,.0f} resources/s, resident memory "
        f"growth at peak {export.peak_mb:.1f} MB; json.dumps of the same rows: "
        f"{export.plain_seconds:.2f} s, growth {export.plain_peak_mb:.1f} MB; FHIR "
        f"overhead {export.overhead:.1f}x."
    )
    meta["bulk_export"] = asdict(export)
    pk_figures = pk.measure()
    print(
        f"\nPK planner: {pk.PATIENTS:,} patients x {pk.POINTS:,} points (every 10 s for "
        "4 h), exact, one batch; ratio to a numpy-only polyexponential baseline of the "
        "same closed form, measured in this run:"
    )
    for code, figures in pk_figures.items():
        print(
            f"  {code:<12} {figures.seconds * 1000:6.0f} ms   baseline "
            f"{figures.baseline_seconds * 1000:6.0f} ms   ratio {figures.ratio:.2f}x   "
            f"curves agree to {figures.max_relative_difference:.1e}"
        )
    meta["pk"] = {
        code: {**asdict(f), "ratio": f.ratio} for code, f in pk_figures.items()
    }
    throughput = scoring.measure()
    print("\nScoring engine (pure Python, no database):\n" + scoring.table(throughput))
    meta["scoring"] = [asdict(t) for t in throughput]
    _write(meta, rows)


def _meta(args: argparse.Namespace, seed_seconds: float) -> dict[str, Any]:
    return {
        "database": database.describe(),
        "patients": Patient.objects.count(),
        "iterations": args.iterations,
        "login_iterations": args.login_iterations,
        "warmup": args.warmup,
        "seed_seconds": round(seed_seconds, 2),
        "connect_ms": round(database.connect_ms(), 3),
        "conn_max_age": settings.DATABASES["default"].get("CONN_MAX_AGE", 0),
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "django": django.get_version(),
        "cpus": os.cpu_count(),
    }


def _header(meta: dict[str, Any]) -> str:
    verdict = "OK" if meta["seed_seconds"] < SEED_TARGET_SECONDS else "SLOW"
    return (
        f"Kapcare bench: {meta['database']}, {meta['patients']:,} patients, "
        f"Python {meta['python']}, Django {meta['django']}, "
        f"{meta['cpus']} CPUs, load average {meta['load_average']} before the run\n"
        f"Seeded in {meta['seed_seconds']:.1f} s ({verdict}: target < {SEED_TARGET_SECONDS} s). "
        f"A new database connection costs {meta['connect_ms']:.2f} ms "
        f"(CONN_MAX_AGE={meta['conn_max_age']} s; not included below).\n"
        f"Timing {meta['iterations']} requests per page "
        f"({meta['login_iterations']} for login POST) after {meta['warmup']} warm-up requests..."
    )


def _time(page: Page, args: argparse.Namespace) -> Timing:
    iterations = args.login_iterations if page.slow else args.iterations
    warmup = min(args.warmup, 2) if page.slow else args.warmup
    return time_requests(
        page.send,
        iterations=iterations,
        warmup=warmup,
        expect=page.expect,
        label=page.name,
    )


def _measure(args: argparse.Namespace) -> list[Row]:
    minimal = healthz_page()
    base = _time(minimal, args)
    rows = [_row(minimal.name, base, base)]
    for page in pages():
        rows.append(_row(page.name, _time(page, args), base))
    return rows


def _row(name: str, timing: Timing, base: Timing) -> Row:
    ratio = {
        "p50": round(timing.p50_ms / base.p50_ms, 1),
        "p95": round(timing.p95_ms / base.p95_ms, 1),
    }
    return Row(
        page=name,
        p50_ms=round(timing.p50_ms, 2),
        p95_ms=round(timing.p95_ms, 2),
        queries=timing.queries,
        iterations=timing.iterations,
        ratio=ratio,
    )


def _table(rows: list[Row]) -> str:
    width = max(len(row.page) for row in rows)
    lines = [
        f"{'page':<{width}}  {'p50 ms':>7}  {'p95 ms':>7}  {'queries':>7}  "
        f"{'p50 x healthz':>13}  {'p95 x healthz':>13}"
    ]
    for row in rows:
        lines.append(
            f"{row.page:<{width}}  {row.p50_ms:>7.2f}  {row.p95_ms:>7.2f}  {row.queries:>7}  "
            f"{row.ratio['p50']:>13.1f}  {row.ratio['p95']:>13.1f}"
        )
    return "\n".join(lines)


def _write(meta: dict[str, Any], rows: list[Row]) -> None:
    RESULTS.parent.mkdir(exist_ok=True)
    payload = {**meta, "pages": [asdict(row) for row in rows]}
    RESULTS.write_text(json.dumps(payload, indent=2) + "\n")
    print(f"\nWrote {RESULTS.relative_to(ROOT)}")
