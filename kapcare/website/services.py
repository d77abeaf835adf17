"""Writes to the clinic's own settings."""

from django.db import transaction
from django.http import HttpRequest

from kapcare.audit.services import Action, Information, last_changed_by, record_event
from kapcare.lib.concurrency import check_unchanged
from kapcare.website.forms import ClinicProfileForm
from kapcare.website.models import ClinicProfile, clinic_profile_values


def update_clinic_profile(
    *, request: HttpRequest, form: ClinicProfileForm, seen: str | None
) -> list[str]:
    """Save a valid form's changes with their old and new values in the audit log;
    raise ChangedMeanwhileError when the details changed after the form was opened
    (`seen` is the form's fingerprint of what its editor saw)."""
    with transaction.atomic():
        # Two admins editing the clinic details: the row is locked, then compared
        # with what this editor saw, so a stale form cannot revert the crisis text.
        stored = ClinicProfile.objects.select_for_update().get(pk=form.instance.pk)
        check_unchanged(
            seen, clinic_profile_values(stored), what="the clinic profile",
            changed_by=last_changed_by("clinic_profile", stored.pk),
        )  # fmt: skip
        changed = [name for name in form.changed_data if name != "seen"]
        if not changed:
            return []
        changes = {
            name: [str(getattr(stored, name) or ""), str(form.cleaned_data[name] or "")]
            for name in changed
        }
        form.save()
        if "time_zone" in changed:
            from kapcare.treatment.services import refresh_course_end_times

            refresh_course_end_times()
        record_event(
            request=request,
            action=Action.UPDATE,
            information=Information.CLINIC,
            object_type="clinic_profile",
            object_id=form.instance.pk,
            summary="Changed " + ", ".join(changed),
            detail={"changes": changes},
        )
    return changed
