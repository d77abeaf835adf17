"""FHIR R4 shapes; expected codes are copied from clinical-rules.md §1, §2 and §10."""

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.questionnaire import Questionnaire, QuestionnaireItem
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

from kapcare.measures.fhir_shape import (
    ITEM_WEIGHT,
    MAX_VALUE,
    MIN_VALUE,
    QUESTIONNAIRE_UNIT,
    questionnaire,
    questionnaire_response,
    score_observations,
)
from kapcare.measures.instruments import INSTRUMENTS
from kapcare.measures.scoring import ScoringError, score

AUTHORED = datetime(2025, 3, 1, 14, 30, tzinfo=UTC)
PATIENT = "Patient/5b0c6a52-0f7e-4a53-9d0e-3c1e0f1a2b3c"
RESPONSE = "QuestionnaireResponse/r-1"

# Reference §1, the LHC-Forms PHQ-9 table [V].
PHQ9_ITEM_LOINC = [
    "44250-9",
    "44255-8",
    "44259-0",
    "44254-1",
    "44251-7",
    "44258-2",
    "44252-5",
    "44253-3",
    "44260-8",
]
PHQ9_ANSWERS = [
    ("LA6568-5", 0),
    ("LA6569-3", 1),
    ("LA6570-1", 2),
    ("LA6571-9", 3),
]
# Reference §2 [V].
GAD7_ITEM_LOINC = [
    "69725-0",
    "68509-9",
    "69733-4",
    "69734-2",
    "69735-9",
    "69689-8",
    "69736-7",
]


def round_trip_questionnaire(code: str) -> Questionnaire:
    return Questionnaire.model_validate_json(questionnaire(code).model_dump_json())


def round_trip_response(
    code: str, answers: Sequence[int | None], response_id: str | None = "r-1"
) -> QuestionnaireResponse:
    resource = questionnaire_response(
        code,
        answers,
        patient_reference=PATIENT,
        authored=AUTHORED,
        response_id=response_id,
    )
    return QuestionnaireResponse.model_validate_json(resource.model_dump_json())


def round_trip_observations(
    code: str, answers: Sequence[int | None]
) -> list[Observation]:
    resources = score_observations(
        code,
        score(code, answers),
        patient_reference=PATIENT,
        effective=AUTHORED,
        response_reference=RESPONSE,
    )
    return [Observation.model_validate_json(o.model_dump_json()) for o in resources]


def items(resource: Questionnaire) -> list[QuestionnaireItem]:
    assert resource.item is not None
    return resource.item


def codes(item: QuestionnaireItem) -> list[tuple[str | None, str | None]]:
    return [(coding.system, coding.code) for coding in item.code or []]


def weights(item: QuestionnaireItem) -> list[Decimal | None]:
    return [
        extension.valueDecimal
        for option in item.answerOption or []
        for extension in option.extension or []
        if extension.url == ITEM_WEIGHT
    ]


# Questionnaire


@pytest.mark.parametrize("code", sorted(INSTRUMENTS))
def test_every_instrument_round_trips_as_a_questionnaire(code: str) -> None:
    instrument = INSTRUMENTS[code]
    resource = round_trip_questionnaire(code)
    assert resource == questionnaire(code)
    assert resource.url == f"https://kapcare.org/fhir/Questionnaire/{code}"
    assert resource.version == instrument.version
    assert resource.title == instrument.title
    assert resource.status == "active"
    assert resource.name is not None
    assert resource.name.isalnum()
    assert resource.name[0].isupper()


@pytest.mark.parametrize("code", sorted(INSTRUMENTS))
def test_items_follow_the_instrument_order(code: str) -> None:
    instrument = INSTRUMENTS[code]
    link_ids = [item.linkId for item in items(round_trip_questionnaire(code))]
    expected = [item.link_id for item in instrument.items]
    if instrument.total_loinc:
        expected.append(f"/{instrument.total_loinc}")
    assert link_ids == expected


@pytest.mark.parametrize("code", sorted(INSTRUMENTS))
def test_item_types_are_choice_with_options_else_integer(code: str) -> None:
    instrument = INSTRUMENTS[code]
    emitted = items(round_trip_questionnaire(code))
    for item, shaped in zip(instrument.items, emitted, strict=False):
        assert shaped.type == ("choice" if item.options else "integer")
        option_values = [o.value for o in item.options]
        assert len(shaped.answerOption or []) == len(option_values)


def test_phq9_is_coded_with_the_lhc_forms_loinc_codes() -> None:
    resource = round_trip_questionnaire("phq9")
    assert resource.code is not None
    assert [(c.system, c.code) for c in resource.code] == [
        ("http://loinc.org", "44249-1")
    ]
    emitted = items(resource)
    assert [codes(item) for item in emitted[:9]] == [
        [("http://loinc.org", loinc)] for loinc in PHQ9_ITEM_LOINC
    ]
    assert [item.linkId for item in emitted[:9]] == [f"/{c}" for c in PHQ9_ITEM_LOINC]
    assert codes(emitted[9]) == [("http://loinc.org", "69722-7")]


def test_phq9_item_nine_is_not_required() -> None:
    emitted = items(round_trip_questionnaire("phq9"))
    assert [item.required for item in emitted[:8]] == [True] * 8
    assert emitted[8].linkId == "/44260-8"
    assert emitted[8].required is False
    assert emitted[9].required is False  # the optional difficulty item


def test_phq9_options_carry_la_codes_and_weights_zero_to_three() -> None:
    for item in items(round_trip_questionnaire("phq9"))[:9]:
        options = item.answerOption or []
        assert [
            (o.valueCoding.system, o.valueCoding.code)
            for o in options
            if o.valueCoding is not None
        ] == [("http://loinc.org", la) for la, _ in PHQ9_ANSWERS]
        assert weights(item) == [Decimal(v) for _, v in PHQ9_ANSWERS]


def test_phq9_difficulty_options_are_unweighted_in_display_order() -> None:
    difficulty = items(round_trip_questionnaire("phq9"))[9]
    assert [
        o.valueCoding.code for o in difficulty.answerOption or [] if o.valueCoding
    ] == ["LA6572-7", "LA6573-5", "LA6575-0", "LA6574-3"]
    assert weights(difficulty) == []


def test_phq9_total_is_a_read_only_decimal_item_coded_44261_6() -> None:
    total = items(round_trip_questionnaire("phq9"))[-1]
    assert total.linkId == "/44261-6"
    assert codes(total) == [("http://loinc.org", "44261-6")]
    assert (total.type, total.readOnly, total.required) == ("decimal", True, False)
    units = [
        e.valueCoding for e in total.extension or [] if e.url == QUESTIONNAIRE_UNIT
    ]
    assert [(u.system, u.code) for u in units if u is not None] == [
        ("http://unitsofmeasure.org", "{score}")
    ]


def test_no_item_carries_a_calculated_expression() -> None:
    for code in INSTRUMENTS:
        for item in items(round_trip_questionnaire(code)):
            assert all(
                "calculatedExpression" not in (e.url or "")
                for e in item.extension or []
            )


def test_gad7_is_coded_with_the_reference_loinc_codes() -> None:
    resource = round_trip_questionnaire("gad7")
    assert resource.code is not None
    assert [c.code for c in resource.code] == ["69737-5"]
    emitted = items(resource)
    assert [codes(item) for item in emitted[:7]] == [
        [("http://loinc.org", loinc)] for loinc in GAD7_ITEM_LOINC
    ]
    assert codes(emitted[7]) == [("http://loinc.org", "70274-6")]


@pytest.mark.parametrize("code", ["pcl5", "cssrs_screener", "qids_sr16", "madrs"])
def test_instruments_without_sourced_loinc_codes_get_none(code: str) -> None:
    resource = round_trip_questionnaire(code)
    assert resource.code is None
    for item in items(resource):
        assert item.code is None
        for option in item.answerOption or []:
            assert option.valueCoding is not None
            assert option.valueCoding.system is None


@pytest.mark.parametrize(("code", "maximum"), [("qids_sr16", 3), ("madrs", 6)])
def test_items_without_options_are_bounded_integers(code: str, maximum: int) -> None:
    for item in items(round_trip_questionnaire(code)):
        bounds = {e.url: e.valueInteger for e in item.extension or []}
        assert bounds == {MIN_VALUE: 0, MAX_VALUE: maximum}


def test_cadss_items_without_wording_have_no_text() -> None:
    assert all(item.text is None for item in items(round_trip_questionnaire("cadss")))


def test_msm_weights_are_each_options_score() -> None:
    emitted = items(round_trip_questionnaire("msm"))
    assert weights(emitted[0]) == [Decimal(1), Decimal(2), Decimal(3)]
    assert weights(emitted[3]) == [Decimal(0), Decimal(1)]


def test_cssrs_screener_follows_the_skip_logic_and_is_unweighted() -> None:
    emitted = {
        item.linkId: item for item in items(round_trip_questionnaire("cssrs_screener"))
    }
    triggers = {
        link_id: [
            (w.question, w.operator, w.answerCoding and w.answerCoding.code)
            for w in item.enableWhen
        ]
        for link_id, item in emitted.items()
        if item.enableWhen
    }
    assert triggers == {
        "3": [("2", "=", "1")],
        "4": [("2", "=", "1")],
        "5": [("2", "=", "1")],
        "6b": [("6", "=", "1")],
    }
    assert all(weights(item) == [] for item in emitted.values())


# QuestionnaireResponse


def test_a_complete_phq9_response_is_completed_and_coded() -> None:
    response = round_trip_response("phq9", [0, 1, 2, 3, 0, 1, 2, 3, 1])
    assert response.id == "r-1"
    assert response.status == "completed"
    assert response.questionnaire == "https://kapcare.org/fhir/Questionnaire/phq9|1"
    assert response.subject is not None
    assert response.subject.reference == PATIENT
    assert response.authored == AUTHORED
    assert response.item is not None
    assert [item.linkId for item in response.item] == [f"/{c}" for c in PHQ9_ITEM_LOINC]
    answered = [
        answer.valueCoding.code
        for item in response.item
        for answer in item.answer or []
        if answer.valueCoding is not None
    ]
    la_for = {v: la for la, v in PHQ9_ANSWERS}
    assert answered == [la_for[v] for v in [0, 1, 2, 3, 0, 1, 2, 3, 1]]


def test_an_unanswered_item_is_absent_not_zero() -> None:
    response = round_trip_response("phq9", [1, 1, 1, 1, 1, 1, 1, 1, None])
    assert response.status == "in-progress"
    assert response.item is not None
    link_ids = [item.linkId for item in response.item]
    assert "/44260-8" not in link_ids
    assert link_ids == [f"/{c}" for c in PHQ9_ITEM_LOINC[:8]]


def test_the_difficulty_item_is_included_when_answered() -> None:
    response = round_trip_response("phq9", [0] * 9 + [2])
    assert response.item is not None
    difficulty = response.item[-1]
    assert difficulty.linkId == "/69722-7"
    assert difficulty.answer is not None
    assert difficulty.answer[0].valueCoding is not None
    assert difficulty.answer[0].valueCoding.code == "LA6575-0"


def test_gad7_item_two_answer_uses_the_primary_la_code() -> None:
    response = round_trip_response("gad7", [0, 2, 0, 0, 0, 0, 0])
    assert response.item is not None
    answer = response.item[1].answer
    assert answer is not None
    assert answer[0].valueCoding is not None
    assert answer[0].valueCoding.code == "LA6570-1"


def test_integer_items_are_answered_with_value_integer() -> None:
    response = round_trip_response("madrs", [6, 5, 4, 3, 2, 1, 0, 1, 2, 3])
    assert response.item is not None
    assert [a.valueInteger for i in response.item for a in i.answer or []] == [
        6,
        5,
        4,
        3,
        2,
        1,
        0,
        1,
        2,
        3,
    ]


def test_a_cssrs_screen_with_skipped_questions_omits_them() -> None:
    response = round_trip_response("cssrs_screener", [1, 0, None, None, None, 0, None])
    assert response.status == "completed"
    assert response.item is not None
    assert [item.linkId for item in response.item] == ["1", "2", "6"]


def test_an_empty_response_has_no_items() -> None:
    response = round_trip_response("gad7", [None] * 7, response_id=None)
    assert (response.id, response.item, response.status) == (None, None, "in-progress")


def test_it_refuses_an_out_of_range_answer_naming_the_item() -> None:
    with pytest.raises(ScoringError, match="item 3"):
        round_trip_response("phq9", [0, 0, 4, 0, 0, 0, 0, 0, 0])


def test_it_refuses_a_naive_authored_time() -> None:
    with pytest.raises(ValueError, match="timezone"):
        questionnaire_response(
            "phq9",
            [0] * 9,
            patient_reference=PATIENT,
            authored=datetime(2025, 3, 1, 14, 30),  # noqa: DTZ001
        )


# Observations


def test_phq9_total_observation_uses_44261_6_and_references_the_response() -> None:
    [total] = round_trip_observations("phq9", [3, 3, 2, 2, 1, 1, 0, 0, 1])
    assert total.status == "final"
    assert total.code.coding is not None
    assert [(c.system, c.code) for c in total.code.coding] == [
        ("http://loinc.org", "44261-6")
    ]
    assert [
        (c.system, c.code) for cat in total.category or [] for c in cat.coding or []
    ] == [("http://terminology.hl7.org/CodeSystem/observation-category", "survey")]
    assert total.valueQuantity is not None
    assert total.valueQuantity.value == Decimal(13)
    assert (
        total.valueQuantity.unit,
        total.valueQuantity.system,
        total.valueQuantity.code,
    ) == ("{score}", "http://unitsofmeasure.org", "{score}")
    assert [r.reference for r in total.derivedFrom or []] == [RESPONSE]
    assert total.subject is not None
    assert total.subject.reference == PATIENT
    assert total.effectiveDateTime == AUTHORED
    assert [n.text for n in total.note or []] == [
        f"Severity band: moderate ({INSTRUMENTS['phq9'].source})."
    ]


def test_a_prorated_total_says_so() -> None:
    [total] = round_trip_observations("phq9", [1, 1, 1, 1, 1, 1, 1, None, None])
    assert total.valueQuantity is not None
    assert total.valueQuantity.value == Decimal(9)
    assert any("Prorated" in (n.text or "") for n in total.note or [])


def test_an_unscorable_response_has_no_total_observation() -> None:
    assert round_trip_observations("phq9", [1, 1, 1, 1, 1, 1, None, None, None]) == []


def test_gad7_total_uses_70274_6() -> None:
    [total] = round_trip_observations("gad7", [1] * 7)
    assert total.code.coding is not None
    assert [c.code for c in total.code.coding] == ["70274-6"]


def test_pcl5_has_a_text_coded_total_and_one_observation_per_cluster() -> None:
    observations = round_trip_observations("pcl5", [2] * 20)
    assert [(o.code.text, o.code.coding) for o in observations] == [
        ("PCL-5 total score", None),
        ("PCL-5 B", None),
        ("PCL-5 C", None),
        ("PCL-5 D", None),
        ("PCL-5 E", None),
    ]
    values = [o.valueQuantity.value for o in observations if o.valueQuantity]
    assert values == [Decimal(40), Decimal(10), Decimal(4), Decimal(14), Decimal(12)]
    assert all(
        [r.reference for r in o.derivedFrom or []] == [RESPONSE] for o in observations
    )


def test_qids_domains_without_a_score_have_no_observation() -> None:
    answers: list[int | None] = [1] * 16
    answers[0] = None
    texts = [o.code.text for o in round_trip_observations("qids_sr16", answers)]
    assert "QIDS-SR16 sleep" not in texts
    assert "QIDS-SR16 total score" not in texts
    assert "QIDS-SR16 feeling_sad" in texts


def test_cssrs_screener_records_the_risk_level() -> None:
    [risk] = round_trip_observations("cssrs_screener", [1, 1, 0, 1, 0, 0, None])
    assert risk.code.text == "C-SSRS screener risk level"
    assert risk.valueString == "high"
    assert risk.valueQuantity is None


def test_it_refuses_a_score_from_another_instrument() -> None:
    with pytest.raises(ValueError, match="gad7 score"):
        score_observations(
            "phq9",
            score("gad7", [0] * 7),
            patient_reference=PATIENT,
            effective=AUTHORED,
            response_reference=RESPONSE,
        )
