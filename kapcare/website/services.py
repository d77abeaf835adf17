"""Writes to the clinic's own settings."""

from django.db import transaction
from django.http import HttpRequest

from kapcare.audit.services import Action, Information, record_event
from kapcare.website.forms import ClinicProfileForm
from kapcare.website.models import ClinicProfile


def update_clinic_profile(
    *, request: HttpRequest, form: ClinicProfileForm
) -> list[str]:
    """Save a valid form's changes with their old and new values in the audit log."""
    if not form.has_changed():
        return []
    stored = ClinicProfile.objects.get(pk=form.instance.pk)
    changes = {
        name: [str(getattr(stored, name) or ""), str(form.cleaned_data[name] or "")]
        for name in form.changed_data
    }
    with transaction.atomic():
        form.save()
        if "time_zone" in form.changed_data:
            from kapcare.treatment.services import refresh_course_end_times

            refresh_course_end_times()
        record_event(
            request=request,
            action=Action.UPDATE,
            information=Information.CLINIC,
            object_type="clinic_profile",
            object_id=form.instance.pk,
            summary="Changed " + ", ".join(form.changed_data),
            detail={"changes": changes},
        )
    return form.changed_data
