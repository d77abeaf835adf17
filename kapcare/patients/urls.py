from django.urls import path

from kapcare.patients import views

app_name = "patients"

urlpatterns = [
    path("", views.patient_list, name="patient_list"),
    path("new/", views.patient_create, name="patient_create"),
    path("<uuid:patient_id>/", views.patient_detail, name="patient_detail"),
    path("<uuid:patient_id>/edit/", views.patient_edit, name="patient_edit"),
    path("<uuid:patient_id>/history/", views.patient_history, name="patient_history"),
    path("<uuid:patient_id>/invite/", views.patient_invite, name="patient_invite"),
]
