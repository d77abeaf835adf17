from django.urls import path

from kapcare.fhir import client_views, views

app_name = "fhir"

urlpatterns = [
    path("fhir/metadata", views.metadata, name="metadata"),
    path("fhir/clients/", client_views.client_list, name="client_list"),
    path(
        "fhir/clients/<uuid:client_id>/revoke/",
        client_views.client_revoke,
        name="client_revoke",
    ),
    path("fhir/Patient/<str:ident>/$everything", views.everything, name="everything"),
    path("fhir/<str:resource_type>", views.search, name="search"),
    path("fhir/<str:resource_type>/<str:ident>", views.read, name="read"),
    path("fhir/<path:rest>", views.unknown, name="unknown"),
]
