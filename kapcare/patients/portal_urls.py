from django.urls import path

from kapcare.intake import consent_views
from kapcare.measures import portal_views as measures_portal
from kapcare.patients import portal_views
from kapcare.safety import portal_views as safety_portal
from kapcare.scheduling import message_views as scheduling_messages
from kapcare.scheduling import views as scheduling_views
from kapcare.treatment import therapy_views

app_name = "portal"

urlpatterns = [
    path("", portal_views.home, name="home"),
    path("access-log/", portal_views.access_log, name="access_log"),
    path("progress/", measures_portal.my_progress, name="my_progress"),
    path("consent/", consent_views.portal_consent, name="consent"),
    path("appointments/", scheduling_views.my_appointments, name="appointments"),
    path("appointments/book/", scheduling_messages.my_booking, name="book"),
    path(
        "appointments/messages/",
        scheduling_messages.my_contact_preference,
        name="contact_preference",
    ),
    path("homework/", therapy_views.my_homework, name="homework"),
    path("mindfulness/", therapy_views.my_mindfulness, name="mindfulness"),
    path("safety-plan/", safety_portal.my_safety_plan, name="safety_plan"),
    path(
        "safety-plan/print/",
        safety_portal.my_safety_plan_print,
        name="safety_plan_print",
    ),
    path(
        "questionnaires/<uuid:link_id>/",
        measures_portal.questionnaire_fill,
        name="questionnaire_fill",
    ),
    path(
        "invitation/<str:token>/",
        portal_views.invitation_accept,
        name="invitation_accept",
    ),
]
