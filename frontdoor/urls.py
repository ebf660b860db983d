"""The front door's addresses: public (no sign-in) /refer/ and /q/, and the clinician's send action."""

from django.urls import path

from . import views

app_name = "frontdoor"

urlpatterns = [
    path("refer/", views.index, name="index"),
    path("refer/<slug:slug>/", views.start, name="start"),
    path("refer/<slug:slug>/done/", views.done, name="done"),
    path("refer/<slug:slug>/<str:page>/", views.step, name="step"),
    path("q/<str:token>/", views.questionnaire_link, name="questionnaire_link"),
    path("referrals/<uuid:pk>/questionnaire-link/", views.send_link, name="send_link"),
]
