"""`make bench`: seed a large synthetic clinic into a scratch database and time key pages.

SQLite by default; PostgreSQL when DATABASE_URL is set. Usage:

    .venv/bin/python -m bench.run [--patients 10000] [--iterations 200]
"""

import argparse
import os
import sys
import time

import django
from django.conf import settings
from django.test.utils import override_settings

STATIC_STORAGE = "django.contrib.staticfiles.storage.StaticFilesStorage"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.run", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--patients", type=int, default=10_000, help="charts to seed (10000)"
    )
    parser.add_argument(
        "--iterations", type=int, default=200, help="timed requests per page (200)"
    )
    parser.add_argument(
        "--warmup", type=int, default=10, help="untimed requests per page first (10)"
    )
    parser.add_argument(
        "--login-iterations", type=int, default=20, help="timed argon2 sign-ins (20)"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kapcare.settings")
    django.setup()
    from bench.harness import run  # imports models, so only after setup

    storages = {**settings.STORAGES, "staticfiles": {"BACKEND": STATIC_STORAGE}}
    started = time.perf_counter()
    # Production-like: no DEBUG query logging, and no collectstatic manifest needed.
    with override_settings(DEBUG=False, STORAGES=storages):
        run(args)
    print(f"\nTotal run time {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
