from django.urls import path

from kapcare.measures import portal_views as measures_portal
from kapcare.patients import portal_views

app_name = "portal"

urlpatterns = [
    path("", portal_views.home, name="home"),
    path("access-log/", portal_views.access_log, name="access_log"),
    path("progress/", measures_portal.my_progress, name="my_progress"),
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
