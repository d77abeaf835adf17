from django.apps import AppConfig


class OutcomesConfig(AppConfig):
    name = "kapcare.outcomes"
    label = "outcomes"
    verbose_name = "Outcomes and reports"
