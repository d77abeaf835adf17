import json
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str) -> dict[str, object]:
    out = StringIO()
    call_command("score", *args, stdout=out)
    result: dict[str, object] = json.loads(out.getvalue())
    return result


def test_it_prints_the_issue_example() -> None:
    assert run("phq9", "2", "2", "2", "2", "2", "2", "1", "0", "1") == {
        "instrument": "phq9",
        "total": 14,
        "band": "moderate",
        "subscales": {},
        "flags": ["suicidal_ideation"],
        "risk": None,
        "complete": True,
    }


def test_it_accepts_dashes_for_unanswered_items() -> None:
    result = run("phq9", "1", "1", "1", "1", "1", "1", "1", "1", "-")
    assert result["total"] == 9
    assert result["flags"] == ["item9_missing", "prorated"]
    assert result["complete"] is False


def test_it_prints_the_cssrs_risk() -> None:
    result = run("cssrs_screener", "0", "0", "-", "-", "-", "1", "1")
    assert result["risk"] == "high"
    assert result["total"] is None


def test_it_prints_pcl5_clusters() -> None:
    result = run("pcl5", *["4"] * 20)
    assert result["subscales"] == {"B": 20, "C": 8, "D": 28, "E": 24}
    assert result["flags"] == ["provisional_ptsd"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["phq9", "0", "0", "4", "0", "0", "0", "0", "0", "0"], "PHQ-9 item 3: 4"),
        (["phq9", "0", "0", "0"], "PHQ-9 item 4: no answer given"),
        (["gad7", "0", "x", "0", "0", "0", "0", "0"], "GAD-7 item 2: 'x'"),
        (["gad7", *["0"] * 8], "GAD-7 item 8: unexpected"),
        (["phq9", "-1", *["0"] * 8], "PHQ-9 item 1: -1 is outside"),
        (["bdi", "0"], "Unknown instrument 'bdi'"),
    ],
)
def test_invalid_input_exits_with_code_two(args: list[str], message: str) -> None:
    with pytest.raises(CommandError, match=message) as error:
        call_command("score", *args, stdout=StringIO())
    assert error.value.returncode == 2


def test_manage_py_writes_the_error_to_stderr_and_exits_two() -> None:
    result = subprocess.run(  # noqa: S603 - fixed arguments, this interpreter
        [sys.executable, "manage.py", "score", "madrs", *["0"] * 9, "7"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "MADRS item 10: 7 is outside 0-6" in result.stderr
    assert result.stdout == ""
