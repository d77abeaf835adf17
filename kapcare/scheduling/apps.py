from django.apps import AppConfig
from django.db.models.signals import post_migrate


class SchedulingConfig(AppConfig):
    name = "kapcare.scheduling"
    label = "scheduling"
    verbose_name = "Scheduling"

    def ready(self) -> None:
        from kapcare.scheduling.defaults import seed_appointment_types

        post_migrate.connect(seed_appointment_types, sender=self)
