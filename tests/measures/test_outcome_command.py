import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

KEYS = [
    "instrument",
    "change",
    "percent_change",
    "response",
    "remission",
    "remission_definition",
    "reliable_improvement",
    "reliable_deterioration",
    "caseness_baseline",
    "caseness_final",
    "recovery",
    "reliable_recovery",
]


def run(*args: str) -> dict[str, object]:
    out = StringIO()
    call_command("outcome", *args, stdout=out)
    result: dict[str, object] = json.loads(out.getvalue())
    return result


def test_it_prints_the_issue_keys_in_order() -> None:
    result = run("phq9", "--baseline", "20", "--final", "10")
    assert list(result) == KEYS
    assert result == {
        "instrument": "phq9",
        "change": -10,
        "percent_change": -50.0,
        "response": True,
        "remission": False,
        "remission_definition": "PHQ-9 < 5 (SUSTAIN-3; PHQ-9 treatment guide)",
        "reliable_improvement": True,
        "reliable_deterioration": False,
        "caseness_baseline": True,
        "caseness_final": True,
        "recovery": False,
        "reliable_recovery": False,
    }


def test_it_prints_null_where_a_definition_is_missing() -> None:
    result = run("madrs", "--baseline", "30", "--final", "10")
    assert result["remission"] is True
    assert result["caseness_baseline"] is None
    assert result["reliable_improvement"] is None


def test_it_picks_the_esketamine_remission_definition() -> None:
    result = run(
        "madrs", "--baseline", "30", "--final", "12", "--programme", "esketamine"
    )
    assert result["remission"] is True


def test_it_accepts_a_prorated_total() -> None:
    assert run("phq9", "--baseline", "16.875", "--final", "5")["remission"] is False


def test_it_applies_the_paired_talking_therapies_rules() -> None:
    result = run("talking_therapies", "--baseline", "15,12", "--final", "9,7")
    assert list(result) == KEYS
    assert result["change"] == {"phq9": -6, "gad7": -5}
    assert result["reliable_recovery"] is True
    assert result["response"] is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["phq9", "--baseline", "28", "--final", "0"], "PHQ-9 baseline: 28"),
        (["gad7", "--baseline", "x", "--final", "0"], "GAD-7 baseline: 'x'"),
        (["cssrs_screener", "--baseline", "1", "--final", "0"], "no total"),
        (
            ["talking_therapies", "--baseline", "15", "--final", "9,7"],
            "expected PHQ9,GAD7",
        ),
    ],
)
def test_invalid_input_exits_with_code_two(args: list[str], message: str) -> None:
    with pytest.raises(CommandError, match=message) as error:
        call_command("outcome", *args, stdout=StringIO())
    assert error.value.returncode == 2
