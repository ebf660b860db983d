"""Supervision pages, under /supervision/."""

from django.urls import path

from . import views

app_name = "supervision"

urlpatterns = [
    path("", views.index, name="index"),
    path("cases/<int:staff_id>/", views.case_list, name="case_list"),
    path("cases/<int:staff_id>/csv/", views.case_list_csv, name="case_list_csv"),
    path("sessions/", views.sessions, name="sessions"),
    path("sessions/new/", views.session_new, name="session_new"),
    path("sessions/<uuid:pk>/", views.session_detail, name="session_detail"),
    path("sessions/<uuid:pk>/sign-off/", views.session_sign_off, name="session_sign_off"),
    path("sessions/<uuid:pk>/entered-in-error/", views.session_error, name="session_error"),
    path("decisions/<uuid:pk>/correct/", views.decision_correct, name="decision_correct"),
    path("compliance/", views.compliance, name="compliance"),
    path("relationships/", views.relationships, name="relationships"),
    path("relationships/<int:pk>/end/", views.relationship_end, name="relationship_end"),
]
