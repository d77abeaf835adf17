"""Storing questionnaire responses: score, response, safety alerts and audit in one transaction."""

import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from kapcare.accounts.models import User
from kapcare.audit.services import Action, Information, record_event
from kapcare.lib.sms import SmsError, send_sms
from kapcare.lib.tokens import new_link_token, token_hash
from kapcare.measures.models import (
    Channel,
    QuestionnaireAssignment,
    QuestionnaireLink,
    QuestionnaireResponse,
)
from kapcare.measures.schedules import (
    CALENDAR_REPEATS,
    EVENT_REPEATS,
    Repeat,
    Schedule,
    latest_due,
)
from kapcare.measures.scoring import ScoringError, get_instrument, score
from kapcare.measures.summaries import check_relapse, refresh_measure_summary
from kapcare.patients.models import Patient
from kapcare.safety.levels import alerts_for_score
from kapcare.safety.models import SafetyAlert
from kapcare.safety.services import raise_safety_alert
from kapcare.website.mail import clinic_email
from kapcare.website.models import get_clinic_profile


class SubmissionKeyReusedError(ScoringError):
    """A submission key already stored a different response: never treat that as a retry."""


def _same_submission(
    existing: QuestionnaireResponse,
    patient: Patient,
    instrument: str,
    answers: list[int | None],
) -> QuestionnaireResponse:
    if (
        existing.patient_id != patient.pk
        or existing.instrument != instrument
        or existing.answers != answers
    ):
        # Returning the stored row here would drop these answers (perhaps a positive
        # item 9) and show someone else's score; refuse instead.
        raise SubmissionKeyReusedError(
            "This form was already used for different answers. Reload the form and enter them again."
        )
    return existing


def submit_questionnaire_response(
    *,
    request: HttpRequest | None,
    patient: Patient,
    instrument: str,
    answers: Sequence[int | None],
    source: str,
    submission_key: str,
    entered_by: User | None = None,
    authored_at: datetime | None = None,
    covered_by: Sequence[SafetyAlert] = (),
) -> tuple[QuestionnaireResponse, bool]:
    """Score and store a response; raise its safety alerts in the same transaction.

    Returns (response, created). A repeated submit with the same key returns the
    first response and raises nothing new. Bad answers raise ScoringError before
    anything is written. `covered_by` holds this form's draft alerts that are
    still open: a rule at the same or a lower level is not raised again (a
    clinician is already asked to act); a higher level, or any rule once the draft
    alert was acknowledged or resolved, raises a new alert.
    """
    definition = get_instrument(instrument)
    result = score(instrument, answers, keep_contradictions=True)
    existing = QuestionnaireResponse.objects.filter(
        submission_key=submission_key
    ).first()
    if existing is not None:
        return _same_submission(existing, patient, instrument, list(answers)), False
    try:
        with transaction.atomic():
            response = QuestionnaireResponse.objects.create(
                patient=patient,
                instrument=instrument,
                instrument_version=definition.version,
                answers=list(answers),
                total=result.total,
                band=result.band or "",
                subscales=dict(result.subscales),
                flags=list(result.flags),
                risk=result.risk or "",
                is_complete=result.complete,
                source=source,
                entered_by=entered_by,
                authored_at=authored_at or timezone.now(),
                submission_key=submission_key,
            )
            rules = alerts_for_score(
                definition.name,
                result.flags,
                result.risk,
                answers=answers,
                is_cssrs=instrument == "cssrs_screener",
            )
            covered = min(
                (
                    SafetyAlert.LEVEL_RANKS[SafetyAlert.Level(a.level)]
                    for a in covered_by
                ),
                default=None,
            )
            for rule in rules:
                rank = SafetyAlert.LEVEL_RANKS[SafetyAlert.Level(rule.level)]
                if covered is not None and rank >= covered:
                    continue
                raise_safety_alert(
                    request=request,
                    patient=patient,
                    level=rule.level,
                    trigger=SafetyAlert.Trigger.QUESTIONNAIRE,
                    reason=rule.reason,
                    source_type="questionnaire_response",
                    source_id=str(response.pk),
                    evidence={
                        "instrument": instrument,
                        "answers": list(answers),
                        "flags": list(result.flags),
                        "risk": result.risk,
                    },
                    raised_by=entered_by,
                )
            if result.total is not None:
                totals = refresh_measure_summary(patient, instrument)
                check_relapse(request, patient, instrument, totals)
            record_event(
                request=request,
                actor=entered_by,
                action=Action.CREATE,
                patient=patient,
                information=Information.CLINICAL,
                object_type="questionnaire_response",
                object_id=response.pk,
                summary=f"{definition.name} recorded: total {result.total}, {result.band or 'no band'}",
            )
    except IntegrityError:
        # Two copies of one submit raced; the other one stored it (unique submission_key).
        existing = QuestionnaireResponse.objects.filter(
            submission_key=submission_key
        ).first()
        if existing is None:
            raise
        return _same_submission(existing, patient, instrument, list(answers)), False
    return response, True


class LinkUnusableError(Exception):
    """The questionnaire link was already used, withdrawn or has expired."""


class CannotSendError(ValueError):
    """The patient has no address for the chosen channel, or the instrument is not self-rated."""


def _link_address(patient: Patient, channel: str) -> str:
    if channel == Channel.SMS:
        if not patient.phone:
            raise CannotSendError(
                "Add the patient's mobile number before sending a questionnaire by text."
            )
        return patient.phone
    if not patient.email:
        raise CannotSendError(
            "Add the patient's email address before sending a questionnaire."
        )
    return patient.email


def send_questionnaire_link(
    *,
    request: HttpRequest | None,
    patient: Patient,
    instrument: str,
    sent_by: User | None,
    channel: str = Channel.EMAIL,
    assignment: QuestionnaireAssignment | None = None,
    due_on: date | None = None,
) -> QuestionnaireLink:
    """Send the patient a single-use link to one questionnaire, by email or text,
    after commit. Scheduled sends pass their assignment and due date; the unique
    (assignment, due_on) constraint makes a repeated run send nothing twice."""
    definition = get_instrument(instrument)
    if definition.is_clinician_rated:
        raise CannotSendError(
            f"{definition.name} is rated by a clinician, not sent to the patient."
        )
    address = _link_address(patient, channel)
    token, hashed = new_link_token()
    with transaction.atomic():
        link = QuestionnaireLink.objects.create(
            patient=patient,
            instrument=instrument,
            token_hash=hashed,
            channel=channel,
            sent_to=address,
            created_by=sent_by,
            assignment=assignment,
            due_on=due_on,
            expires_at=timezone.now() + settings.QUESTIONNAIRE_LINK_LIFETIME,
        )
        how = "Texted" if channel == Channel.SMS else "Emailed"
        scheduled = f" (scheduled, due {due_on:%Y-%m-%d})" if due_on else ""
        record_event(
            request=request,
            actor=sent_by,
            action=Action.CREATE,
            patient=patient,
            information=Information.CLINICAL,
            object_type="questionnaire_link",
            object_id=link.pk,
            summary=f"{how} a {definition.name} link to {address}{scheduled}",
        )
        url = settings.SITE_URL + reverse("measures:link_fill", args=[token])
        if channel == Channel.SMS:
            clinic = get_clinic_profile()
            until = timezone.localtime(link.expires_at)
            body = (
                f"{clinic.name}: please fill in a short questionnaire: {url} "
                f"(works once, until {until:%Y-%m-%d %H:%M}). "
                "In crisis call or text 9-8-8, or 9-1-1."
            )
            send: Callable[[], None] = lambda: send_sms(address, body)  # noqa: E731
        else:
            send = clinic_email(
                "measures/email/questionnaire_link",
                {
                    "patient": patient,
                    "instrument": definition,
                    "link": url,
                    "expires_at": link.expires_at,
                },
                address,
            )
        link_id = link.pk
        transaction.on_commit(lambda: _deliver_link(link_id, send))
    return link


def _deliver_link(link_id: uuid.UUID, send: Callable[[], None]) -> None:
    """Send after commit; a failure is recorded, never lost silently. A scheduled
    link is dropped so the next beat tries again (nobody holds its token); a
    manual one is closed and its error kept for the page that sent it."""
    try:
        send()
    except (OSError, SmsError) as exc:
        error = str(exc)[:170]
        link = (
            QuestionnaireLink.objects.select_related("assignment", "patient")
            .filter(pk=link_id)
            .first()
        )
        if link is None:
            return
        with transaction.atomic():
            if link.assignment is not None:
                link.delete()
                QuestionnaireAssignment.objects.filter(pk=link.assignment.pk).update(
                    problem=f"Could not send ({error}); trying again."
                )
            else:
                link.expires_at = timezone.now()
                link.delivery_error = error
                link.save(update_fields=["expires_at", "delivery_error"])
            record_event(
                request=None,
                action=Action.UPDATE,
                patient=link.patient,
                information=Information.CLINICAL,
                object_type="questionnaire_link",
                object_id=link_id,
                summary=f"{link.instrument_name} link not delivered: {error}",
            )


def assign_questionnaire(
    *,
    request: HttpRequest,
    patient: Patient,
    instrument: str,
    schedule: Schedule,
    channel: str,
    assigned_by: User,
) -> QuestionnaireAssignment:
    """Record the standing order; a calendar schedule due today is sent at once."""
    definition = get_instrument(instrument)
    if definition.is_clinician_rated:
        raise CannotSendError(
            f"{definition.name} is rated by a clinician; enter it on the chart instead."
        )
    _link_address(patient, channel)
    with transaction.atomic():
        assignment = QuestionnaireAssignment.objects.create(
            patient=patient,
            instrument=instrument,
            repeat=schedule.repeat.value,
            interval_weeks=schedule.interval_weeks,
            starts_on=schedule.starts_on,
            ends_on=schedule.ends_on,
            channel=channel,
            assigned_by=assigned_by,
        )
        record_event(
            request=request,
            action=Action.CREATE,
            patient=patient,
            information=Information.CLINICAL,
            object_type="questionnaire_assignment",
            object_id=assignment.pk,
            summary=f"Assigned {definition.name}: {assignment.description}",
        )
    send_due_for_assignment(assignment, today=timezone.localdate())
    return assignment


def stop_assignment(
    *, request: HttpRequest, assignment: QuestionnaireAssignment, stopped_by: User
) -> None:
    with transaction.atomic():
        updated = QuestionnaireAssignment.objects.filter(
            pk=assignment.pk, stopped_at__isnull=True
        ).update(stopped_at=timezone.now(), stopped_by=stopped_by)
        if updated:
            record_event(
                request=request,
                action=Action.UPDATE,
                patient=assignment.patient,
                information=Information.CLINICAL,
                object_type="questionnaire_assignment",
                object_id=assignment.pk,
                summary=f"Stopped {assignment.instrument_name}: {assignment.description}",
            )


def send_due_for_assignment(
    assignment: QuestionnaireAssignment, *, today: date, due_on: date | None = None
) -> QuestionnaireLink | None:
    """Send the occurrence due on `due_on` (default: the latest calendar occurrence
    up to `today`) unless it was already sent. Safe to run any number of times."""
    if assignment.stopped_at is not None:
        return None
    if due_on is None:
        due_on = latest_due(assignment.schedule, today)
    if due_on is None:
        return None
    patient = assignment.patient
    if patient.status == Patient.Status.DISCHARGED:
        return None
    if QuestionnaireLink.objects.filter(assignment=assignment, due_on=due_on).exists():
        return None
    try:
        link = send_questionnaire_link(
            request=None,
            patient=patient,
            instrument=assignment.instrument,
            sent_by=None,
            channel=assignment.channel,
            assignment=assignment,
            due_on=due_on,
        )
    except CannotSendError as exc:
        if assignment.problem != str(exc):
            QuestionnaireAssignment.objects.filter(pk=assignment.pk).update(
                problem=str(exc)
            )
        return None
    except IntegrityError:
        return None  # another worker sent this occurrence a moment ago

    if not QuestionnaireLink.objects.filter(pk=link.pk).exists():
        return None  # not delivered; dropped for the next beat
    if assignment.problem:
        QuestionnaireAssignment.objects.filter(pk=assignment.pk).update(problem="")
    return link


def send_due_questionnaires(*, today: date | None = None) -> int:
    """Send every calendar-scheduled questionnaire that is due and not yet sent.

    Idempotent (one link per assignment and due date), so the clock may run it
    as often as it likes and a killed run can simply be repeated.
    """
    today = today or timezone.localdate()
    sent = 0
    live = (
        QuestionnaireAssignment.objects.filter(
            stopped_at__isnull=True,
            repeat__in=[r.value for r in CALENDAR_REPEATS],
            starts_on__lte=today,
        )
        .exclude(patient__status=Patient.Status.DISCHARGED)
        .select_related("patient")
    )
    # A list, not iterator(): the loop writes, and SQLite gives a running read no
    # isolation from writes on the same connection (Django docs, QuerySet.iterator).
    for assignment in list(live):
        if send_due_for_assignment(assignment, today=today) is not None:
            sent += 1
    return sent


def send_event_questionnaires(
    *, patient: Patient, event: Repeat, on: date
) -> list[QuestionnaireLink]:
    """Send the questionnaires a treatment event calls for (before a dosing session,
    at the end of induction), once per assignment and event date."""
    if event not in EVENT_REPEATS:
        raise ValueError(f"{event} is not a treatment event")
    links = []
    for assignment in QuestionnaireAssignment.objects.filter(
        patient=patient, repeat=event.value, stopped_at__isnull=True, starts_on__lte=on
    ).select_related("patient"):
        if assignment.ends_on is not None and on > assignment.ends_on:
            continue
        link = send_due_for_assignment(assignment, today=on, due_on=on)
        if link is not None:
            links.append(link)
    return links


def find_questionnaire_link(token: str) -> QuestionnaireLink | None:
    return (
        QuestionnaireLink.objects.select_related("patient")
        .filter(token_hash=token_hash(token))
        .first()
    )


def open_links_for(patient: Patient) -> list[QuestionnaireLink]:
    """The patient's questionnaires still waiting to be filled in, soonest expiry first."""
    return list(
        QuestionnaireLink.objects.filter(
            patient=patient, used_at__isnull=True, withdrawn_at__isnull=True,
            expires_at__gt=timezone.now(),
        ).order_by("expires_at")
    )  # fmt: skip


def withdraw_questionnaire_link(
    *, request: HttpRequest | None, link: QuestionnaireLink, by: User
) -> bool:
    """Stop an unanswered link working at once (sent to a wrong address, or no
    longer wanted). False when it was answered or withdrawn first; draft answers
    stay, and any safety alert they raised stays open."""
    with transaction.atomic():
        withdrawn = QuestionnaireLink.objects.filter(
            pk=link.pk, used_at__isnull=True, withdrawn_at__isnull=True
        ).update(withdrawn_at=timezone.now(), withdrawn_by=by)
        if withdrawn:
            record_event(
                request=request, action=Action.UPDATE, patient=link.patient,
                information=Information.CLINICAL, object_type="questionnaire_link",
                object_id=link.pk,
                summary=f"Withdrew the {link.instrument_name} link sent to {link.sent_to}",
            )  # fmt: skip
    return bool(withdrawn)


def _answers_list(
    link: QuestionnaireLink, by_item: Mapping[str, int]
) -> list[int | None]:
    definition = get_instrument(link.instrument)
    return [by_item.get(str(item.number)) for item in definition.items]


def _open_draft_alerts(link: QuestionnaireLink) -> list[SafetyAlert]:
    return list(
        SafetyAlert.objects.filter(
            source_type="questionnaire_link",
            source_id=str(link.pk),
            state=SafetyAlert.State.OPEN,
        )
    )


def _draft_alert_reasons(link: QuestionnaireLink) -> frozenset[str]:
    """Reasons already raised from this link's draft, in any state (the unique
    constraint allows each once per link)."""
    return frozenset(
        SafetyAlert.objects.filter(
            source_type="questionnaire_link", source_id=str(link.pk)
        ).values_list("reason", flat=True)
    )


def _raise_draft_alerts(
    request: HttpRequest | None, link: QuestionnaireLink, answers: list[int | None]
) -> None:
    """Alert on what a draft already says: endorsed suicidal thoughts, or any C-SSRS
    yes (as an incomplete screen). Blank items are not alerted on in a draft: the
    patient may not have reached them yet."""
    definition = get_instrument(link.instrument)
    result = score(link.instrument, answers, keep_contradictions=True)
    flags = [f for f in result.flags if not f.endswith("_missing")]
    rules = alerts_for_score(
        definition.name,
        flags,
        result.risk,
        answers=answers,
        is_cssrs=link.instrument == "cssrs_screener",
    )
    raised = _draft_alert_reasons(link)
    for rule in rules:
        if rule.reason in raised:
            continue
        raise_safety_alert(
            request=request,
            patient=link.patient,
            level=rule.level,
            trigger=SafetyAlert.Trigger.QUESTIONNAIRE,
            reason=rule.reason,
            source_type="questionnaire_link",
            source_id=str(link.pk),
            evidence={
                "instrument": link.instrument,
                "answers": answers,
                "flags": flags,
                "risk": result.risk,
                "draft": "not yet sent",
            },
        )


def endorses_suicidality(instrument: str, answers: Sequence[int | None]) -> bool:
    """Whether the answers so far call for crisis resources on screen at once."""
    if instrument == "cssrs_screener":
        return 1 in list(answers)[:6]
    return (
        "suicidal_ideation"
        in score(instrument, answers, keep_contradictions=True).flags
    )


def _locked_usable_link(link: QuestionnaireLink) -> QuestionnaireLink:
    """The link, row-locked for this transaction, or LinkUnusableError. Two tabs
    writing one link at once: the lock (IMMEDIATE on SQLite) lets one through and
    the other finds the link used."""
    locked = (
        QuestionnaireLink.objects.select_for_update()
        .select_related("patient")
        .get(pk=link.pk)
    )
    if not locked.is_usable():
        raise LinkUnusableError(
            "This questionnaire link was already used, withdrawn or has expired."
        )
    return locked


def save_questionnaire_draft(
    *, request: HttpRequest | None, link: QuestionnaireLink, by_item: Mapping[str, int]
) -> list[int | None]:
    """Keep the answers given so far, so the patient can come back to them.

    Suicidal thoughts endorsed in a draft raise their alert now, in the same
    transaction, not only when the form is sent. Bad values raise ScoringError.
    """
    with transaction.atomic():
        link = _locked_usable_link(link)
        answers = _answers_list(link, by_item)
        score(link.instrument, answers, keep_contradictions=True)
        link.draft_answers = dict(by_item)
        link.draft_saved_at = timezone.now()
        link.save(update_fields=["draft_answers", "draft_saved_at"])
        _raise_draft_alerts(request, link, answers)
        answered = sum(v is not None for v in answers)
        record_event(
            request=request,
            action=Action.UPDATE,
            patient=link.patient,
            information=Information.CLINICAL,
            object_type="questionnaire_link",
            object_id=link.pk,
            summary=f"Saved draft answers ({answered} of {len(answers)})",
        )
    return answers


def complete_questionnaire_link(
    *,
    request: HttpRequest | None,
    link: QuestionnaireLink,
    answers: Sequence[int | None],
    source: str = QuestionnaireResponse.Source.PATIENT_LINK,
) -> QuestionnaireResponse:
    """Store the patient's answers once; the link is spent in the same transaction."""
    with transaction.atomic():
        link = _locked_usable_link(link)
        response, _ = submit_questionnaire_response(
            request=request,
            patient=link.patient,
            instrument=link.instrument,
            answers=answers,
            source=source,
            submission_key=f"link-{link.pk}",
            covered_by=_open_draft_alerts(link),
        )
        link.used_at = timezone.now()
        link.response = response
        link.save(update_fields=["used_at", "response"])
    return response
