from django.urls import path

from kapcare.outcomes import views

app_name = "outcomes"

urlpatterns = [
    path("outcomes/", views.dashboard, name="dashboard"),
    path("outcomes/cohort.csv", views.cohort_csv, name="cohort_csv"),
    path(
        "patients/<uuid:patient_id>/progress-report/",
        views.progress_report,
        name="progress_report",
    ),
]
