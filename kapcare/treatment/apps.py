from django.apps import AppConfig
from django.db.models.signals import post_migrate


class TreatmentConfig(AppConfig):
    name = "kapcare.treatment"
    label = "treatment"
    verbose_name = "Treatment"

    def ready(self) -> None:
        from kapcare.treatment.protocols import seed_protocols

        post_migrate.connect(seed_protocols, sender=self)
