"""The clinician's pages (issue 4). Included at the site root from stepped_care/urls.py."""

from django.urls import path

from . import views

app_name = "referrals"

urlpatterns = [
    path("caseload/", views.caseload, name="caseload"),
    path("waiting-list/", views.waiting_list, name="waiting_list"),
    path("patients/new/", views.new_patient, name="new_patient"),
    path("patients/<uuid:pk>/referrals/new/", views.new_referral, name="new_referral"),
    path("referrals/<uuid:pk>/", views.referral_detail, name="detail"),
    path("referrals/<uuid:pk>/allocate/", views.allocate, name="allocate"),
    path("referrals/<uuid:pk>/sessions/new/", views.log_session, name="log_session"),
    path("referrals/<uuid:pk>/sessions/draft/", views.session_draft, name="session_draft"),
    path("referrals/<uuid:pk>/step/", views.change_step_view, name="change_step"),
    path("referrals/<uuid:pk>/presenting-problems/", views.presenting_problem_view, name="presenting_problem"),
    path("referrals/<uuid:pk>/discharge/", views.discharge_view, name="discharge"),
    path("contacts/<uuid:pk>/entered-in-error/", views.contact_in_error, name="contact_in_error"),
    path("keepalive/", views.keepalive, name="keepalive"),
]
