"""FHIR R4 shapes for the instrument library (pure Python, no Django imports).

Every instrument becomes a Questionnaire; a response becomes a
QuestionnaireResponse, and its score becomes Observations (the total, each
subscale and, for the C-SSRS screener, the risk level). Resources are built with
the fhir.resources R4B models, which validate on construction. The API
endpoints that serve them belong to the FHIR app.

Conventions follow /work/shared/clinical/clinical-rules.md ("the reference"),
§10, which read the NLM LHC-Forms PHQ-9 Questionnaire (LHNCBC/lforms
test/data/R4/phq9.json) [V]:
- `code` is the LOINC code; linkIds come from the instrument definitions (LOINC
  items use LHC's "/" + LOINC).
- The total is a read-only `decimal` item coded with the total LOINC, with the
  `questionnaire-unit` `{score}`.
- An option's score goes in the `itemWeight` extension on answerOption. The
  reference recommends the R5-era name `itemWeight` over R4's `ordinalValue`
  (its former name), so only `itemWeight` is emitted.
- No `calculatedExpression`: LHC's expression adds 0 for unanswered items, so
  scores are computed server-side by kapcare.measures.scoring (reference §10).
"""

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Literal

from fhir.resources.R4B.annotation import Annotation
from fhir.resources.R4B.codeableconcept import CodeableConcept
from fhir.resources.R4B.coding import Coding
from fhir.resources.R4B.extension import Extension
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.quantity import Quantity
from fhir.resources.R4B.questionnaire import (
    Questionnaire,
    QuestionnaireItem,
    QuestionnaireItemAnswerOption,
    QuestionnaireItemEnableWhen,
)
from fhir.resources.R4B.questionnaireresponse import (
    QuestionnaireResponse,
    QuestionnaireResponseItem,
    QuestionnaireResponseItemAnswer,
)
from fhir.resources.R4B.reference import Reference

from kapcare.measures.instruments import INSTRUMENTS, Instrument, Item, Option
from kapcare.measures.scoring import Answers, Score, get_instrument
from kapcare.measures.scoring import score as score_answers

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
SCORE_UNIT = "{score}"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
ITEM_WEIGHT = "http://hl7.org/fhir/StructureDefinition/itemWeight"
QUESTIONNAIRE_UNIT = "http://hl7.org/fhir/StructureDefinition/questionnaire-unit"
# FHIR R4 core extensions for the bounds of an integer item.
MIN_VALUE = "http://hl7.org/fhir/StructureDefinition/minValue"
MAX_VALUE = "http://hl7.org/fhir/StructureDefinition/maxValue"

# An identifier, not an address that is fetched.
QUESTIONNAIRE_BASE_URL = "https://kapcare.org/fhir/Questionnaire/"

# LOINC display names as the reference tables give them (§1 and §2) [V].
LOINC_DISPLAY: Mapping[str, str] = {
    "44249-1": "PHQ-9 quick depression assessment panel",
    "44261-6": "Patient health questionnaire 9 item total score",
    "69737-5": "Generalized anxiety disorder 7 item (GAD-7)",
    "70274-6": "Generalized anxiety disorder 7 item total score",
}

# In the LHC-Forms PHQ-9 items 1-8 are required but item 9 (44260-8) is not, so
# a skipped item 9 stays missing instead of being read as "not at all"
# (reference §0 trap 2) [V]. The instrument definitions do not carry this.
NOT_REQUIRED: Mapping[str, frozenset[str]] = {"phq9": frozenset({"/44260-8"})}

# C-SSRS screener skip logic (reference §4) [V]: ask 1 and 2; ask 3, 4 and 5
# only when 2 is yes; always ask 6; ask "within the past 3 months" only when 6
# is yes. Maps a linkId to the (linkId, value) that enables it.
ENABLE_WHEN: Mapping[str, Mapping[str, tuple[str, int]]] = {
    "cssrs_screener": {
        "3": ("2", 1),
        "4": ("2", 1),
        "5": ("2", 1),
        "6b": ("6", 1),
    },
}

ResponseStatus = Literal["completed", "in-progress"]


def questionnaire_url(code: str) -> str:
    return QUESTIONNAIRE_BASE_URL + get_instrument(code).code


def questionnaire(code: str) -> Questionnaire:
    """The instrument as an R4 Questionnaire (LOINC-coded where the reference is)."""
    instrument = get_instrument(code)
    items = [_questionnaire_item(instrument, item) for item in instrument.items]
    if instrument.total_loinc:
        items.append(_total_item(instrument))
    return Questionnaire(
        url=questionnaire_url(code),
        version=instrument.version,
        name=_computable_name(instrument.name),
        title=instrument.title,
        status="active",
        subjectType=["Patient"],
        code=[_loinc(instrument.loinc)] if instrument.loinc else None,
        item=items,
    )


def questionnaire_response(
    code: str,
    answers: Answers,
    *,
    patient_reference: str,
    authored: datetime,
    response_id: str | None = None,
) -> QuestionnaireResponse:
    """One response, answers in item order with None for unanswered items.

    Answers are validated by kapcare.measures.scoring (ScoringError names the
    item). An unanswered item is left out, never encoded as 0. The status is
    "in-progress" unless scoring calls the response complete. The computed total
    is not written into the response: it goes in the score Observation, which can
    say when it was prorated.
    """
    instrument = get_instrument(code)
    result = score_answers(code, answers)
    status: ResponseStatus = "completed" if result.complete else "in-progress"
    items = [
        QuestionnaireResponseItem(
            linkId=item.link_id,
            text=item.text or None,
            answer=[_answer(item, value)],
        )
        for item, value in zip(instrument.items, answers, strict=False)
        if value is not None
    ]
    return QuestionnaireResponse(
        id=response_id,
        questionnaire=f"{questionnaire_url(code)}|{instrument.version}",
        status=status,
        subject=Reference(reference=patient_reference),
        authored=authored,
        item=items or None,
    )


def score_observations(
    code: str,
    score: Score,
    *,
    patient_reference: str,
    effective: datetime,
    response_reference: str,
) -> list[Observation]:
    """Observations for a score: total, then subscales, then C-SSRS risk level.

    A value that could not be scored (None) has no Observation. Each one is
    derived from the QuestionnaireResponse at `response_reference`.
    """
    instrument = get_instrument(code)
    if score.instrument != instrument.code:
        raise ValueError(
            f"A {score.instrument} score cannot be recorded as {instrument.name}."
        )

    def observation(
        concept: CodeableConcept,
        *,
        value: int | float | None = None,
        text: str | None = None,
        notes: Sequence[str] = (),
    ) -> Observation:
        return Observation(
            status="final",
            category=[
                CodeableConcept(
                    coding=[
                        Coding(
                            system=OBSERVATION_CATEGORY, code="survey", display="Survey"
                        )
                    ]
                )
            ],
            code=concept,
            subject=Reference(reference=patient_reference),
            effectiveDateTime=effective,
            valueQuantity=None if value is None else _score_quantity(value),
            valueString=text,
            derivedFrom=[Reference(reference=response_reference)],
            note=[Annotation(text=note) for note in notes] or None,
        )

    observations: list[Observation] = []
    if score.total is not None:
        notes: list[str] = []
        if score.band is not None:
            notes.append(f"Severity band: {score.band} ({instrument.source}).")
        if "prorated" in score.flags:
            notes.append(
                "Prorated: one or two missing items were replaced by the mean of "
                "the answered items (NHS Data Dictionary, PHQ-9)."
            )
        notes.extend(instrument.provisional)
        observations.append(
            observation(_total_code(instrument), value=score.total, notes=notes)
        )
    observations.extend(
        observation(CodeableConcept(text=f"{instrument.name} {name}"), value=value)
        for name, value in score.subscales.items()
        if value is not None
    )
    if score.risk is not None:
        observations.append(
            observation(
                CodeableConcept(text=f"{instrument.name} risk level"),
                text=score.risk,
                notes=instrument.provisional,
            )
        )
    return observations


def _computable_name(name: str) -> str:
    """ "PHQ-9" -> "PHQ9", "C-SSRS screener" -> "CSSRSScreener" (FHIR inv-0)."""
    parts = re.split(r"[^A-Za-z0-9]+", name)
    return "".join(part[:1].upper() + part[1:] for part in parts)


def _loinc(code: str, display: str | None = None) -> Coding:
    return Coding(system=LOINC, code=code, display=display or LOINC_DISPLAY.get(code))


def _option_coding(option: Option) -> Coding:
    """The LOINC answer (LA) code where the reference gives one.

    Without one (reference: NF) the option is identified within its item by its
    value as a code with no system; no code system is invented for it.
    """
    if option.loinc:
        return _loinc(option.loinc, option.text)
    return Coding(code=str(option.value), display=option.text)


def _answer_option(
    instrument: Instrument, item: Item, option: Option
) -> QuestionnaireItemAnswerOption:
    # Weights only where the value is a score. The PHQ-9 difficulty item's
    # options have no ordinal value in the source (reference §1), and the
    # C-SSRS screener's yes/no answers are not summed.
    weighted = item.is_scored and instrument.total_range is not None
    return QuestionnaireItemAnswerOption(
        valueCoding=_option_coding(option),
        extension=(
            [Extension(url=ITEM_WEIGHT, valueDecimal=Decimal(option.value))]
            if weighted
            else None
        ),
    )


def _questionnaire_item(instrument: Instrument, item: Item) -> QuestionnaireItem:
    required = not item.is_optional and item.link_id not in NOT_REQUIRED.get(
        instrument.code, frozenset()
    )
    enable_when = None
    trigger = ENABLE_WHEN.get(instrument.code, {}).get(item.link_id)
    if trigger is not None:
        enable_when = [_enable_when(instrument, *trigger)]
    if item.options:
        return QuestionnaireItem(
            linkId=item.link_id,
            text=item.text or None,
            type="choice",
            required=required,
            code=[_loinc(item.loinc)] if item.loinc else None,
            answerOption=[
                _answer_option(instrument, item, option) for option in item.options
            ],
            enableWhen=enable_when,
        )
    return QuestionnaireItem(
        linkId=item.link_id,
        text=item.text or None,
        type="integer",
        required=required,
        code=[_loinc(item.loinc)] if item.loinc else None,
        extension=[
            Extension(url=MIN_VALUE, valueInteger=item.min_value),
            Extension(url=MAX_VALUE, valueInteger=item.max_value),
        ],
        enableWhen=enable_when,
    )


def _enable_when(
    instrument: Instrument, link_id: str, value: int
) -> QuestionnaireItemEnableWhen:
    trigger = next(item for item in instrument.items if item.link_id == link_id)
    option = next(option for option in trigger.options if option.value == value)
    return QuestionnaireItemEnableWhen(
        question=link_id, operator="=", answerCoding=_option_coding(option)
    )


def _total_item(instrument: Instrument) -> QuestionnaireItem:
    """The read-only total, as in the LHC-Forms PHQ-9 (reference §10) [V]."""
    return QuestionnaireItem(
        linkId=f"/{instrument.total_loinc}",
        text=LOINC_DISPLAY.get(instrument.total_loinc, f"{instrument.name} total"),
        type="decimal",
        required=False,
        readOnly=True,
        code=[_loinc(instrument.total_loinc)],
        extension=[
            Extension(
                url=QUESTIONNAIRE_UNIT,
                valueCoding=Coding(system=UCUM, code=SCORE_UNIT, display=SCORE_UNIT),
            )
        ],
    )


def _answer(item: Item, value: int) -> QuestionnaireResponseItemAnswer:
    if not item.options:
        return QuestionnaireResponseItemAnswer(valueInteger=value)
    option = next(option for option in item.options if option.value == value)
    return QuestionnaireResponseItemAnswer(valueCoding=_option_coding(option))


def _total_code(instrument: Instrument) -> CodeableConcept:
    text = f"{instrument.name} total score"
    if instrument.total_loinc:
        return CodeableConcept(coding=[_loinc(instrument.total_loinc)], text=text)
    return CodeableConcept(text=text)


def _score_quantity(value: int | float) -> Quantity:
    # str() keeps a prorated float to its shortest repr, not its binary expansion.
    return Quantity(
        value=Decimal(str(value)), unit=SCORE_UNIT, system=UCUM, code=SCORE_UNIT
    )


class ResponseError(ValueError):
    """A QuestionnaireResponse that cannot be read as answers to the instrument
    (the message names the item)."""


def instrument_for_questionnaire(reference: str) -> str:
    """`<url>|<version>`, `<url>` or `Questionnaire/<id>` -> the instrument code."""
    wanted = reference.split("|")[0]
    for code in INSTRUMENTS:
        if wanted in (
            questionnaire_url(code),
            f"Questionnaire/{code.replace('_', '-')}",
        ):
            return code
    raise ResponseError(
        f"questionnaire {reference[:80]!r} is not one this clinic scores."
    )


def answers_from_response(code: str, items: object) -> list[int | None]:
    """A response's items (FHIR JSON) -> answers in item order, None where not
    answered. A choice is read from its valueCoding: the option's LOINC answer
    code, or, where the option has none, its value as a code with no system (as
    `questionnaire()` publishes them); an integer item from valueInteger. The
    read-only total is ignored: the score is always computed here."""
    instrument = get_instrument(code)
    by_link = {item.link_id: (n, item) for n, item in enumerate(instrument.items)}
    total_link = f"/{instrument.total_loinc}" if instrument.total_loinc else None
    answers: list[int | None] = [None] * len(instrument.items)
    seen: set[str] = set()
    for given in _flatten(items):
        link = str(given.get("linkId", ""))
        if link == total_link:
            continue
        if link not in by_link:
            raise ResponseError(
                f"item {link[:40]!r} is not an item of {instrument.name}."
            )
        if link in seen:
            raise ResponseError(f"item {link} is answered twice.")
        seen.add(link)
        n, item = by_link[link]
        values = given.get("answer") or []
        if not isinstance(values, list) or len(values) > 1:
            raise ResponseError(f"item {link}: give one answer.")
        if not values:
            continue
        answers[n] = _value(instrument, item, values[0])
    return answers


def _flatten(items: object) -> list[Mapping[str, object]]:
    """Every item, however nested: under a group's `item` or under an answer's
    `item` (both allowed by FHIR), so no answer can hide from scoring."""
    if not isinstance(items, list):
        raise ResponseError("item must be a list.")
    flat: list[Mapping[str, object]] = []
    for item in items:
        if not isinstance(item, Mapping):
            raise ResponseError("each item must be an object.")
        if "answer" in item or "item" not in item:
            flat.append(item)
        if "item" in item:
            flat.extend(_flatten(item["item"]))
        answers = item.get("answer")
        if isinstance(answers, list):
            for answer in answers:
                if isinstance(answer, Mapping) and "item" in answer:
                    flat.extend(_flatten(answer["item"]))
    return flat


def _value(instrument: Instrument, item: Item, answer: object) -> int:
    if not isinstance(answer, Mapping):
        raise ResponseError(f"item {item.link_id}: the answer is not an object.")
    if item.options:
        coding = answer.get("valueCoding")
        if not isinstance(coding, Mapping):
            raise ResponseError(f"item {item.link_id}: answer with a valueCoding.")
        system, code = coding.get("system"), str(coding.get("code", ""))
        for option in item.options:
            loinc_codes = {option.loinc, *option.also_loinc} - {""}
            if system == LOINC and code in loinc_codes:
                return option.value
            if not option.loinc and system in (None, "") and code == str(option.value):
                return option.value
        raise ResponseError(
            f"item {item.link_id}: {code[:20]!r} is not one of its answers."
        )
    value = answer.get("valueInteger")
    if not isinstance(value, int) or isinstance(value, bool):
        raise ResponseError(f"item {item.link_id}: answer with a valueInteger.")
    if not item.min_value <= value <= item.max_value:
        raise ResponseError(
            f"item {item.link_id}: {value} is outside {item.min_value}-{item.max_value}."
        )
    return value
