from django.urls import path

from kapcare.measures import views

app_name = "measures"

urlpatterns = [
    path("instruments/", views.instrument_list, name="instrument_list"),
    path("instruments/<slug:code>/", views.instrument_detail, name="instrument_detail"),
]
