from django.urls import path

from kapcare.treatment import register_views, therapy_views, views

app_name = "treatment"

CHART = "patients/<uuid:patient_id>/"

urlpatterns = [
    path(f"{CHART}treatment/", views.course_list, name="course_list"),
    path(f"{CHART}treatment/new/", views.course_create, name="course_create"),
    path(
        f"{CHART}treatment/<uuid:course_id>/", views.course_detail, name="course_detail"
    ),
    path(
        f"{CHART}treatment/<uuid:course_id>/status/",
        views.course_status,
        name="course_status",
    ),
    path(
        f"{CHART}treatment/<uuid:course_id>/sessions/",
        views.session_start,
        name="session_start",
    ),
    path(
        f"{CHART}sessions/<uuid:session_id>/",
        views.session_detail,
        name="session_detail",
    ),
    path(
        f"{CHART}sessions/<uuid:session_id>/<slug:step>/",
        views.session_step,
        name="session_step",
    ),
    path("register/", register_views.register, name="register"),
    path("register/receive/", register_views.lot_receive, name="lot_receive"),
    path("register/report/", register_views.register_report, name="register_report"),
    path("register/lots/<uuid:lot_id>/", register_views.lot_detail, name="lot_detail"),
    path(
        "register/lots/<uuid:lot_id>/waste/",
        register_views.lot_waste,
        name="lot_waste",
    ),
    path(
        "register/lots/<uuid:lot_id>/count/",
        register_views.lot_count,
        name="lot_count",
    ),
    path("protocols/", register_views.protocol_list, name="protocol_list"),
    path(
        "protocols/<uuid:protocol_id>/",
        register_views.protocol_edit,
        name="protocol_edit",
    ),
]

urlpatterns += [
    path(
        f"{CHART}sessions/<uuid:session_id>/integration/new/",
        therapy_views.integration_create,
        name="integration_create",
    ),
    path(
        f"{CHART}integration/<uuid:integration_id>/",
        therapy_views.integration_detail,
        name="integration_detail",
    ),
    path(
        f"{CHART}integration/<uuid:integration_id>/edit/",
        therapy_views.integration_edit,
        name="integration_edit",
    ),
    path(f"{CHART}timeline/", therapy_views.timeline, name="timeline"),
    path(f"{CHART}pk/compare/", therapy_views.pk_compare, name="pk_compare"),
]
