from django.urls import include, path

from kapcare.website import views as website_views

urlpatterns = [
    path("healthz", website_views.healthz, name="healthz"),
    path("", include("kapcare.website.urls")),
    path("accounts/", include("kapcare.accounts.urls")),
    path("patients/", include("kapcare.patients.urls")),
    path("portal/", include("kapcare.patients.portal_urls")),
    path("audit/", include("kapcare.audit.urls")),
    path("measures/", include("kapcare.measures.urls")),
    path("safety/", include("kapcare.safety.urls")),
    path("", include("kapcare.intake.urls")),
    path("", include("kapcare.treatment.urls")),
    path("", include("kapcare.scheduling.urls")),
    path("", include("kapcare.fhir.urls")),
    path("", include("kapcare.outcomes.urls")),
]

handler500 = "kapcare.lib.errors.server_error"
