from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import migrations, models
from django.utils import timezone


def backfill_ended_at(apps, schema_editor):  # type: ignore[no-untyped-def]
    """Courses ended before this field existed: midnight after ended_on in the
    clinic's time zone (its profile's, else the server default)."""
    profile = apps.get_model("website", "ClinicProfile").objects.filter(pk=1).first()
    zone = ZoneInfo(profile.time_zone if profile else settings.TIME_ZONE)
    course = apps.get_model("treatment", "TreatmentCourse")
    for row in course.objects.filter(ended_on__isnull=False).only("pk", "ended_on"):
        row.ended_at = timezone.make_aware(
            datetime.combine(row.ended_on + timedelta(days=1), time.min), zone
        )
        row.save(update_fields=["ended_at"])


class Migration(migrations.Migration):

    dependencies = [
        ('treatment', '0003_course_first_dose'),
        ('website', '0006_blog_and_pages'),
    ]

    operations = [
        migrations.AddField(
            model_name='treatmentcourse',
            name='ended_at',
            field=models.DateTimeField(blank=True, editable=False, help_text="The end of the course's last day (midnight after ended_on, clinic time).", null=True),
        ),
        migrations.RunPython(backfill_ended_at, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name='treatmentcourse',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('ended_at__isnull', True), ('ended_on__isnull', True)), models.Q(('ended_at__isnull', False), ('ended_on__isnull', False)), _connector='OR'), name='treatment_course_end_both_or_neither', violation_error_message="A course's end date and end time go together."),
        ),
    ]
