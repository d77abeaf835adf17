from django.apps import AppConfig
from django.db.models.signals import post_migrate


class WebsiteConfig(AppConfig):
    name = "kapcare.website"
    label = "website"
    verbose_name = "Clinic and public website"

    def ready(self) -> None:
        from kapcare.website.defaults import seed_site_pages

        post_migrate.connect(seed_site_pages, sender=self)
