from django.urls import path

from kapcare.safety import views

app_name = "safety"

urlpatterns = [
    path("alerts/", views.alert_queue, name="alert_queue"),
    path(
        "alerts/<uuid:alert_id>/acknowledge/",
        views.alert_acknowledge,
        name="alert_acknowledge",
    ),
    path("alerts/<uuid:alert_id>/resolve/", views.alert_resolve, name="alert_resolve"),
    path("patients/<uuid:patient_id>/flag/", views.risk_flag, name="risk_flag"),
    path("on-call/", views.on_call, name="on_call"),
    path("caseload/", views.caseload, name="caseload"),
    path("patients/<uuid:patient_id>/plan/", views.safety_plan, name="safety_plan"),
    path(
        "patients/<uuid:patient_id>/plan/edit/",
        views.safety_plan_edit,
        name="safety_plan_edit",
    ),
    path(
        "patients/<uuid:patient_id>/plan/print/",
        views.safety_plan_print,
        name="safety_plan_print",
    ),
    path("on-call/add/", views.on_call_add, name="on_call_add"),
    path(
        "on-call/<uuid:shift_id>/remove/", views.on_call_remove, name="on_call_remove"
    ),
]
