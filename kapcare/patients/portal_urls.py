from django.urls import path

from kapcare.patients import portal_views

app_name = "portal"

urlpatterns = [
    path("", portal_views.home, name="home"),
    path("access-log/", portal_views.access_log, name="access_log"),
    path(
        "invitation/<str:token>/",
        portal_views.invitation_accept,
        name="invitation_accept",
    ),
]
