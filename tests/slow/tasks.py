"""A task for the two-worker test: it appends its number to a file, so a job that
ran twice shows as a repeated line (O_APPEND writes of a short line are atomic)."""

import os
import time

from django_tasks import task


@task()
def record_run(number: int, target: str) -> int:
    time.sleep(0.01)
    handle = os.open(target, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(handle, f"{number} {os.getpid()}\n".encode())
    finally:
        os.close(handle)
    return number
