from django.urls import path

from kapcare.intake import assessment_views, consent_views, views

app_name = "intake"

urlpatterns = [
    path("consultation/", views.request_create, name="request_create"),
    path("consultation/thanks/", views.request_done, name="request_done"),
    path("self-check/", views.self_check, name="self_check"),
    path("intake/", views.board, name="board"),
    path("intake/referral/", views.referral_create, name="referral_create"),
    path(
        "intake/patients/<uuid:patient_id>/eligibility/",
        assessment_views.assessment_list,
        name="assessment_list",
    ),
    path(
        "intake/patients/<uuid:patient_id>/eligibility/<uuid:assessment_id>/edit/",
        assessment_views.assessment_edit,
        name="assessment_edit",
    ),
    path(
        "intake/patients/<uuid:patient_id>/eligibility/<uuid:assessment_id>/",
        assessment_views.assessment_detail,
        name="assessment_detail",
    ),
    path(
        "intake/patients/<uuid:patient_id>/eligibility/<uuid:assessment_id>/addendum/",
        assessment_views.assessment_addendum,
        name="assessment_addendum",
    ),
    path("intake/consent/", consent_views.consent_documents, name="consent_documents"),
    path(
        "intake/consent/patients/<uuid:patient_id>/paper/",
        consent_views.consent_paper,
        name="consent_paper",
    ),
    path(
        "intake/consent/signatures/<uuid:signature_id>/scan/",
        consent_views.consent_scan,
        name="consent_scan",
    ),
    path(
        "intake/<uuid:request_id>/letter/",
        views.referral_letter,
        name="referral_letter",
    ),
    path("intake/<uuid:request_id>/", views.request_detail, name="request_detail"),
    path("intake/<uuid:request_id>/move/", views.request_status, name="request_status"),
    path(
        "intake/<uuid:request_id>/convert/",
        views.request_convert,
        name="request_convert",
    ),
]
