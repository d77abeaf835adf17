from django.apps import AppConfig


class IntakeConfig(AppConfig):
    name = "kapcare.intake"
    verbose_name = "Intake: consultation requests and self-checks"
