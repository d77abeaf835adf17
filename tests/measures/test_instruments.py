import subprocess
import sys
from pathlib import Path

import pytest

from kapcare.measures.instruments import INSTRUMENTS
from kapcare.measures.instruments.gad7 import GAD7
from kapcare.measures.instruments.phq9 import PHQ9

ROOT = Path(__file__).resolve().parents[2]


def test_it_registers_the_eight_instruments_by_code() -> None:
    assert set(INSTRUMENTS) == {
        "phq9",
        "gad7",
        "pcl5",
        "cssrs_screener",
        "qids_sr16",
        "madrs",
        "cadss",
        "msm",
    }
    assert all(code == i.code for code, i in INSTRUMENTS.items())


@pytest.mark.parametrize(
    ("code", "count"),
    [
        ("phq9", 10),
        ("gad7", 7),
        ("pcl5", 20),
        ("cssrs_screener", 7),
        ("qids_sr16", 16),
        ("madrs", 10),
        ("cadss", 23),
        ("msm", 5),
    ],
)
def test_it_defines_the_published_number_of_items(code: str, count: int) -> None:
    assert len(INSTRUMENTS[code].items) == count


@pytest.mark.parametrize("code", sorted(INSTRUMENTS))
def test_link_ids_are_unique(code: str) -> None:
    link_ids = [item.link_id for item in INSTRUMENTS[code].items]
    assert len(set(link_ids)) == len(link_ids)


@pytest.mark.parametrize("code", sorted(INSTRUMENTS))
def test_option_values_match_the_item_range(code: str) -> None:
    for item in INSTRUMENTS[code].items:
        if item.options:
            values = [option.value for option in item.options]
            assert values == list(range(item.min_value, item.max_value + 1))


def test_phq9_uses_the_lhc_loinc_codes() -> None:
    assert PHQ9.loinc == "44249-1"
    assert PHQ9.total_loinc == "44261-6"
    assert [item.loinc for item in PHQ9.items] == [
        "44250-9",
        "44255-8",
        "44259-0",
        "44254-1",
        "44251-7",
        "44258-2",
        "44252-5",
        "44253-3",
        "44260-8",
        "69722-7",
    ]
    assert [item.link_id for item in PHQ9.items][8] == "/44260-8"


def test_phq9_answers_carry_their_la_codes() -> None:
    assert [(o.value, o.loinc) for o in PHQ9.items[0].options] == [
        (0, "LA6568-5"),
        (1, "LA6569-3"),
        (2, "LA6570-1"),
        (3, "LA6571-9"),
    ]


def test_the_phq9_difficulty_item_is_optional_and_never_scored() -> None:
    difficulty = PHQ9.items[9]
    assert not difficulty.is_scored
    assert difficulty.is_optional
    assert [o.loinc for o in difficulty.options] == [
        "LA6572-7",
        "LA6573-5",
        "LA6575-0",
        "LA6574-3",
    ]


def test_gad7_uses_the_verified_loinc_codes() -> None:
    assert GAD7.loinc == "69737-5"
    assert GAD7.total_loinc == "70274-6"
    assert [item.loinc for item in GAD7.items] == [
        "69725-0",
        "68509-9",
        "69733-4",
        "69734-2",
        "69735-9",
        "69689-8",
        "69736-7",
    ]


def test_gad7_item_two_accepts_more_days_than_not_as_two() -> None:
    option = GAD7.items[1].options[2]
    assert option.value == 2
    assert option.loinc == "LA6570-1"
    assert "LA18938-3" in option.also_loinc


@pytest.mark.parametrize("code", ["pcl5", "cssrs_screener", "qids_sr16", "madrs"])
def test_it_invents_no_loinc_codes(code: str) -> None:
    instrument = INSTRUMENTS[code]
    assert instrument.loinc == instrument.total_loinc == ""
    assert all(item.loinc == "" for item in instrument.items)


@pytest.mark.parametrize("code", ["gad7", "cadss", "msm", "cssrs_screener"])
def test_secondary_and_recalled_facts_are_marked_provisional(code: str) -> None:
    assert INSTRUMENTS[code].provisional


@pytest.mark.parametrize(
    ("code", "clinician_rated"),
    [("madrs", True), ("msm", True), ("cadss", True), ("phq9", False)],
)
def test_clinician_rated_scales_are_marked(code: str, clinician_rated: bool) -> None:
    assert INSTRUMENTS[code].is_clinician_rated is clinician_rated


def test_the_pure_modules_import_without_django() -> None:
    code = (
        "import sys\n"
        "import kapcare.measures.instruments, kapcare.measures.scoring\n"
        "import kapcare.measures.outcomes\n"
        "loaded = [m for m in sys.modules if m.split('.')[0] == 'django']\n"
        "assert not loaded, loaded\n"
    )
    result = subprocess.run(  # noqa: S603 - fixed arguments, this interpreter
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        env={"PYTHONPATH": str(ROOT)},
    )
    assert result.returncode == 0, result.stderr
