"""A course's end (ended_at) is midnight after its end date in the clinic's time
zone, whatever zone is active when it is saved, and follows the clinic's zone when
that changes; an end date without an end time cannot be stored."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from kapcare.accounts.models import User
from kapcare.treatment import services
from kapcare.treatment.models import TreatmentCourse
from kapcare.website.models import get_clinic_profile
from tests.conftest import ClientFor
from tests.treatment.conftest import request_by
from tests.website.test_clinic_settings import URL, _data

pytestmark = pytest.mark.django_db


def _set_zone(name: str) -> None:
    profile = get_clinic_profile()
    profile.time_zone = name
    profile.save()


def test_ending_a_course_outside_a_request_uses_the_clinics_zone(
    iv_course: TreatmentCourse, physician: User
) -> None:
    _set_zone("America/Vancouver")
    with timezone.override(ZoneInfo("UTC")):  # a worker or a shell, not a page
        iv_course.ended_on = date(2026, 4, 10)
        iv_course.save(update_fields=["ended_on"])
    iv_course.refresh_from_db()
    # midnight at the start of 11 April in Vancouver (PDT, UTC-7)
    assert iv_course.ended_at == datetime(2026, 4, 11, 7, 0, tzinfo=UTC)


def test_changing_the_clinics_zone_moves_every_course_end(
    iv_course: TreatmentCourse, physician: User, clinic_admin: User,
    client_for: ClientFor,
) -> None:  # fmt: skip
    services.change_course_status(
        request=request_by(physician),
        course=iv_course,
        status="completed",
        by=physician,
    )
    iv_course.refresh_from_db()
    assert iv_course.ended_on is not None and iv_course.ended_at is not None
    next_day = date.fromordinal(iv_course.ended_on.toordinal() + 1)
    local = iv_course.ended_at.astimezone(ZoneInfo("America/Toronto"))
    assert (local.date(), local.hour, local.minute) == (next_day, 0, 0)
    response = client_for(clinic_admin).post(URL, _data(time_zone="America/Halifax"))
    assert response.status_code == 302
    iv_course.refresh_from_db()
    local = iv_course.ended_at.astimezone(ZoneInfo("America/Halifax"))
    assert (local.date(), local.hour, local.minute) == (next_day, 0, 0)


def test_an_end_date_without_its_end_time_is_refused(
    iv_course: TreatmentCourse,
) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        TreatmentCourse.objects.filter(pk=iv_course.pk).update(
            ended_on=date(2026, 4, 1)
        )
