from django.urls import path

from kapcare.accounts import views

app_name = "accounts"

urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("home/", views.home, name="home"),
    path("two-step/setup/", views.otp_enrol, name="otp_enrol"),
    path("two-step/", views.otp_verify, name="otp_verify"),
    path("password-reset/", views.password_reset, name="password_reset"),
    path("password-reset/sent/", views.password_reset_done, name="password_reset_done"),
    path(
        "password-reset/<uidb64>/<token>/",
        views.password_reset_confirm,
        name="password_reset_confirm",
    ),
    path(
        "password-reset/complete/",
        views.password_reset_complete,
        name="password_reset_complete",
    ),
    path("staff/", views.staff_list, name="staff_list"),
    path("staff/new/", views.staff_create, name="staff_create"),
    path("staff/<uuid:user_id>/", views.staff_edit, name="staff_edit"),
    path(
        "staff/<uuid:user_id>/send-setup-link/",
        views.staff_send_setup_link,
        name="staff_send_setup_link",
    ),
    path(
        "staff/<uuid:user_id>/reset-two-step/",
        views.staff_reset_two_factor,
        name="staff_reset_two_factor",
    ),
]
