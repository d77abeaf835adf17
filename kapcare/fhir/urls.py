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
    path("fhir/$export", views.export_kick_off, name="export"),
    path(
        "fhir/Patient/$export",
        views.export_kick_off,
        {"level": "patient"},
        name="export_patients",
    ),
    path(
        "fhir/Group/<str:group>/$export",
        views.export_kick_off,
        {"level": "group"},
        name="export_group",
    ),
    path("fhir/bulk/<str:export_id>", views.export_status, name="export_status"),
    path(
        "fhir/bulk/<str:export_id>/<str:file_id>.ndjson",
        views.export_file,
        name="export_file",
    ),
    path("fhir/Patient/<str:ident>/$everything", views.everything, name="everything"),
    path("fhir/<str:resource_type>", views.search, name="search"),
    path("fhir/<str:resource_type>/<str:ident>", views.read, name="read"),
    path("fhir/<path:rest>", views.unknown, name="unknown"),
]
