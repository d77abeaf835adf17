from django.urls import path

from kapcare.scheduling import message_views, views

app_name = "scheduling"

urlpatterns = [
    path("schedule/", views.day_view, name="day_view"),
    path("schedule/week/", views.week_view, name="week_view"),
    path("schedule/requests/", views.request_queue, name="request_queue"),
    path(
        "schedule/requests/<uuid:request_id>/answer/",
        views.request_answer,
        name="request_answer",
    ),
    path("schedule/calendar-feed/", views.calendar_feed, name="calendar_feed"),
    path("calendar/<str:token>.ics", views.calendar_ics, name="calendar_ics"),
    path(
        "patients/<uuid:patient_id>/appointments/",
        views.patient_appointments,
        name="patient_appointments",
    ),
    path(
        "patients/<uuid:patient_id>/contact-preferences/",
        message_views.contact_preference,
        name="contact_preference",
    ),
    path(
        "intake/<uuid:request_id>/book/",
        views.consultation_book,
        name="consultation_book",
    ),
    path(
        "appointment-messages/stop/<str:token>/",
        message_views.opt_out,
        name="opt_out",
    ),
    path(
        "patients/<uuid:patient_id>/appointments/new/",
        views.appointment_create,
        name="appointment_create",
    ),
    path(
        "patients/<uuid:patient_id>/appointments/series/",
        views.series_create,
        name="series_create",
    ),
    path(
        "appointments/<uuid:appointment_id>/",
        views.appointment_detail,
        name="appointment_detail",
    ),
    path(
        "appointments/<uuid:appointment_id>/<slug:change>/",
        views.appointment_change,
        name="appointment_change",
    ),
]

urlpatterns += [
    path("schedule/staff/", views.staff_hours, name="staff_hours"),
    path(
        "schedule/staff/<uuid:user_id>/",
        views.staff_hours_edit,
        name="staff_hours_edit",
    ),
]
