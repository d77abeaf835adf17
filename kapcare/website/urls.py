from django.urls import path

from kapcare.website import views

app_name = "website"

urlpatterns = [
    path("", views.home, name="home"),
    path("clinic/logo/", views.clinic_logo, name="clinic_logo"),
    path("clinic/settings/", views.clinic_settings, name="clinic_settings"),
]
