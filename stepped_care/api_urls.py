"""/api/v1/: one router; each app contributes its viewsets."""

from django.urls import include, path
from rest_framework.authtoken.views import obtain_auth_token
from rest_framework.routers import DefaultRouter

from referrals.api import ContactViewSet, PatientViewSet, ReferralViewSet

from .api import MeView

router = DefaultRouter()
router.register("patients", PatientViewSet, basename="patient")
router.register("referrals", ReferralViewSet, basename="referral")
router.register("contacts", ContactViewSet, basename="contact")

urlpatterns = [
    path("auth/token/", obtain_auth_token, name="api-token"),
    path("me/", MeView.as_view(), name="api-me"),
    path("", include(router.urls)),
]
