"""/api/v1/: one router; each app contributes its viewsets."""

from django.urls import include, path
from rest_framework.routers import DefaultRouter

from appointments.api import AppointmentViewSet, LeaveViewSet, WorkingPatternViewSet
from common.api_auth import ObtainTokenView, SignOutEverywhereView, SignOutView
from dashboard.api import DashboardView
from interop.api import ReferralFhirView
from outcomes.api import MeasureViewSet, QuestionnaireViewSet
from referrals.api import ContactViewSet, PatientViewSet, ReferralViewSet
from stepped_care.api import FlagViewSet, MeView
from supervision.api import CaseListViewSet, ComplianceView, DecisionViewSet, RelationshipViewSet, SessionViewSet
from workshops.api import CourseViewSet, EnrolmentViewSet, RegisterViewSet

# No ".json" suffix routes: they doubled every URL, and custom actions without a ``format`` argument
# answered them with a server error (found by the access matrix, tests/security).
router = DefaultRouter()
router.include_format_suffixes = False
router.register("patients", PatientViewSet, basename="patient")
router.register("referrals", ReferralViewSet, basename="referral")
router.register("contacts", ContactViewSet, basename="contact")
router.register("supervision/relationships", RelationshipViewSet, basename="supervision-relationship")
router.register("supervision/sessions", SessionViewSet, basename="supervision-session")
router.register("supervision/decisions", DecisionViewSet, basename="supervision-decision")
router.register("supervision/case-lists", CaseListViewSet, basename="supervision-case-list")
router.register("flags", FlagViewSet, basename="flag")
router.register("courses", CourseViewSet, basename="course")
router.register("enrolments", EnrolmentViewSet, basename="enrolment")
router.register("registers", RegisterViewSet, basename="register")
router.register("questionnaires", QuestionnaireViewSet, basename="questionnaire")
router.register("measures", MeasureViewSet, basename="measure")
router.register("appointments", AppointmentViewSet, basename="appointment")
router.register("working-patterns", WorkingPatternViewSet, basename="working-pattern")
router.register("leave", LeaveViewSet, basename="leave")

urlpatterns = [
    path("auth/token/", ObtainTokenView.as_view(), name="api-token"),
    path("auth/logout/", SignOutView.as_view(), name="api-logout"),
    path("auth/logout-all/", SignOutEverywhereView.as_view(), name="api-logout-all"),
    path("me/", MeView.as_view(), name="api-me"),
    path("supervision/compliance/", ComplianceView.as_view(), name="api-supervision-compliance"),
    path("dashboard/", DashboardView.as_view(), name="api-dashboard"),
    path("referrals/<uuid:pk>/fhir/", ReferralFhirView.as_view(), name="referral-fhir"),
    path("", include(router.urls)),
]
