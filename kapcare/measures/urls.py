from django.urls import path

from kapcare.measures import views

app_name = "measures"

urlpatterns = [
    path("instruments/", views.instrument_list, name="instrument_list"),
    path("instruments/<slug:code>/", views.instrument_detail, name="instrument_detail"),
    path(
        "patients/<uuid:patient_id>/", views.patient_measures, name="patient_measures"
    ),
    path(
        "patients/<uuid:patient_id>/new/<slug:code>/",
        views.response_create,
        name="response_create",
    ),
    path("patients/<uuid:patient_id>/send/", views.link_send, name="link_send"),
    path(
        "patients/<uuid:patient_id>/schedule/",
        views.assignment_create,
        name="assignment_create",
    ),
    path(
        "patients/<uuid:patient_id>/schedule/<uuid:assignment_id>/stop/",
        views.assignment_stop,
        name="assignment_stop",
    ),
    path(
        "patients/<uuid:patient_id>/links/<uuid:link_id>/withdraw/",
        views.link_withdraw,
        name="link_withdraw",
    ),
    path(
        "patients/<uuid:patient_id>/responses/<uuid:response_id>/",
        views.response_detail,
        name="response_detail",
    ),
    path("q/<str:token>/", views.link_fill, name="link_fill"),
]
