from django.apps import AppConfig


class WebsiteConfig(AppConfig):
    name = "kapcare.website"
    label = "website"
    verbose_name = "Clinic and public website"
