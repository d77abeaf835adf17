from django.apps import AppConfig


class ClockConfig(AppConfig):
    name = "kapcare.clock"
    verbose_name = "Clinic clock (background jobs)"
